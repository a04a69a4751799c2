"""Which contact keeps an address for its preferred channel, and the detail that says so without values."""

import pytest

from domain.contact import missing_address, unreachable_detail

PHONE, EMAIL = "+16025550100", "ada@example.org"


@pytest.mark.parametrize(
    ("channel", "phone", "email", "missing"),
    [
        ("sms", PHONE, None, None),
        ("sms", None, EMAIL, "phone"),
        ("email", None, EMAIL, None),
        ("email", PHONE, None, "email"),
        ("sms", None, None, "phone"),
        ("email", None, None, "email"),
    ],
)
def test_the_preferred_channel_needs_its_address(
    channel: str, phone: str | None, email: str | None, missing: str | None
) -> None:
    assert missing_address(channel, phone, email) == missing


@pytest.mark.parametrize(("field", "channel"), [("phone", "sms"), ("email", "email")])
def test_the_detail_names_the_fields(field: str, channel: str) -> None:
    detail = unreachable_detail(field)
    assert f"preferred_channel {channel}" in detail and field in detail
