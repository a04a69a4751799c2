"""Criterion 1: screening a referral's symptoms for typical lumbar facet pain."""

from hypothesis import given
from hypothesis import strategies as st

from domain.referral import History, Symptoms
from domain.screening import screen_referral

symptoms_st = st.builds(
    Symptoms,
    axial_low_back_pain=st.booleans(),
    buttock_radiation=st.booleans(),
    hip_pain=st.booleans(),
    lateral_thigh_burning=st.booleans(),
    pain_below_knee=st.booleans(),
)
history_st = st.builds(
    History,
    prior_rfa_with_recurrence=st.booleans(),
    prior_laminectomy_or_microdiscectomy=st.booleans(),
    considering_adjacent_level_fusion=st.booleans(),
)


@given(symptoms_st, history_st)
def test_pain_below_the_knee_is_never_typical(symptoms: Symptoms, history: History) -> None:
    below_knee = symptoms.model_copy(update={"pain_below_knee": True})
    assert not screen_referral(below_knee, history).typical_facet_pain


@given(symptoms_st, history_st)
def test_no_axial_low_back_pain_is_never_typical(symptoms: Symptoms, history: History) -> None:
    no_axial = symptoms.model_copy(update={"axial_low_back_pain": False})
    assert not screen_referral(no_axial, history).typical_facet_pain


@given(symptoms_st, history_st)
def test_axial_pain_without_pain_below_the_knee_is_typical(symptoms: Symptoms, history: History) -> None:
    typical = symptoms.model_copy(update={"axial_low_back_pain": True, "pain_below_knee": False})
    assert screen_referral(typical, history).typical_facet_pain


@given(symptoms_st, history_st)
def test_typical_exactly_when_axial_and_not_below_knee(symptoms: Symptoms, history: History) -> None:
    screening = screen_referral(symptoms, history)
    assert screening.typical_facet_pain == (symptoms.axial_low_back_pain and not symptoms.pain_below_knee)
    assert screening.reason


@given(symptoms_st, history_st, history_st)
def test_history_never_gates_the_screen(symptoms: Symptoms, history: History, other: History) -> None:
    first, second = screen_referral(symptoms, history), screen_referral(symptoms, other)
    assert first.typical_facet_pain == second.typical_facet_pain
    assert first.reason == second.reason


@given(symptoms_st, history_st)
def test_indications_listed_from_history(symptoms: Symptoms, history: History) -> None:
    expected = [
        name
        for name, present in (
            ("prior_rfa_with_recurrence", history.prior_rfa_with_recurrence),
            ("post_laminectomy_or_microdiscectomy", history.prior_laminectomy_or_microdiscectomy),
            ("alternative_to_adjacent_level_fusion", history.considering_adjacent_level_fusion),
        )
        if present
    ]
    assert list(screen_referral(symptoms, history).indications) == expected


def test_typical_referral_counts_supporting_patterns() -> None:
    screening = screen_referral(
        Symptoms(axial_low_back_pain=True, buttock_radiation=True, lateral_thigh_burning=True), History()
    )
    assert screening.typical_facet_pain
    assert "2 of 3" in screening.reason
    assert screening.indications == ()


def test_axial_pain_alone_is_typical() -> None:
    screening = screen_referral(Symptoms(axial_low_back_pain=True), History())
    assert screening.typical_facet_pain
    assert "0 of 3" in screening.reason


def test_pain_below_knee_reason_mentions_radicular_pain() -> None:
    screening = screen_referral(
        Symptoms(axial_low_back_pain=True, pain_below_knee=True), History(prior_rfa_with_recurrence=True)
    )
    assert not screening.typical_facet_pain
    assert "radicular" in screening.reason
    assert screening.indications == ("prior_rfa_with_recurrence",)


def test_missing_axial_pain_reason() -> None:
    screening = screen_referral(
        Symptoms(axial_low_back_pain=False, buttock_radiation=True, hip_pain=True), History()
    )
    assert not screening.typical_facet_pain
    assert screening.reason == "no axial low back pain"


def test_all_indications_in_order() -> None:
    history = History(
        prior_rfa_with_recurrence=True,
        prior_laminectomy_or_microdiscectomy=True,
        considering_adjacent_level_fusion=True,
    )
    assert screen_referral(Symptoms(axial_low_back_pain=True), history).indications == (
        "prior_rfa_with_recurrence",
        "post_laminectomy_or_microdiscectomy",
        "alternative_to_adjacent_level_fusion",
    )
