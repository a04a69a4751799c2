"""Criterion 1: is the referred pain typical of a lumbar facet joint?"""

from pydantic import BaseModel, ConfigDict

from domain.referral import History, Symptoms


class Screening(BaseModel):
    model_config = ConfigDict(frozen=True)

    typical_facet_pain: bool
    reason: str
    indications: tuple[str, ...]


def screen_referral(symptoms: Symptoms, history: History) -> Screening:
    """Facet pain sits mostly in the back; pain below the knee points to a nerve root, not a facet joint.

    Buttock, hip and outer-thigh pain support the picture but are not required. The history's indications
    (recurrence after RFA, pain after laminectomy or microdiscectomy, an alternative to adjacent-level fusion)
    make a good candidate but do not gate the screen.
    """
    indications = tuple(
        name
        for name, present in (
            ("prior_rfa_with_recurrence", history.prior_rfa_with_recurrence),
            ("post_laminectomy_or_microdiscectomy", history.prior_laminectomy_or_microdiscectomy),
            ("alternative_to_adjacent_level_fusion", history.considering_adjacent_level_fusion),
        )
        if present
    )
    if not symptoms.axial_low_back_pain:
        return Screening(typical_facet_pain=False, reason="no axial low back pain", indications=indications)
    if symptoms.pain_below_knee:
        return Screening(
            typical_facet_pain=False,
            reason="pain below the knee suggests radicular rather than facet pain",
            indications=indications,
        )
    supporting = sum((symptoms.buttock_radiation, symptoms.hip_pain, symptoms.lateral_thigh_burning))
    return Screening(
        typical_facet_pain=True,
        reason=f"axial low back pain with {supporting} of 3 typical radiation patterns",
        indications=indications,
    )
