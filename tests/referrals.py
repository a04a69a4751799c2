"""Referral bodies for tests: a typical facet-pain patient unless told otherwise."""

from datetime import date, timedelta
from typing import Any


def referral_body(
    referral_id: str = "REF-1001", *, mri_age_days: int | None = 30, **symptoms: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "referral_id": referral_id,
        "source_system": "test-ehr",
        "clinic_site": "phoenix-main",
        "patient": {
            "mrn": f"MRN-{referral_id}",
            "given_name": "Ada",
            "family_name": "Example",
            "birth_date": "1968-04-02",
            "phone": "+16025550100",
            "email": "ada@example.org",
            "timezone": "America/Phoenix",
            "preferred_channel": "sms",
            "sms_consent": True,
        },
        "referring_provider": {"name": "Dr. Referrer", "npi": "1234567893"},
        "symptoms": {
            "axial_low_back_pain": True,
            "buttock_radiation": True,
            "hip_pain": False,
            "lateral_thigh_burning": True,
            "pain_below_knee": False,
            **symptoms,
        },
        "history": {"prior_rfa_with_recurrence": True},
        "mri": None
        if mri_age_days is None
        else {
            "performed_on": (date.today() - timedelta(days=mri_age_days)).isoformat(),
            "study_ref": "STUDY-1",
        },
    }
    return body
