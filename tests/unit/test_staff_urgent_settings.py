"""Where urgent staff messages go: the on-call phone, else an urgent mailbox, else the routine mailbox."""

import pytest
from pydantic import ValidationError

from config.settings import Settings
from domain.notifications import Channel

ON_CALL = "+16025550199"


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name in ("DVR_STAFF_EMAIL", "DVR_STAFF_URGENT_PHONE", "DVR_STAFF_URGENT_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


def test_the_on_call_phone_gets_urgent_messages_by_sms(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(monkeypatch, DVR_STAFF_URGENT_PHONE=ON_CALL)
    assert settings.staff_urgent_target() == (Channel.SMS, ON_CALL)


def test_an_urgent_mailbox_gets_them_by_email(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(monkeypatch, DVR_STAFF_URGENT_EMAIL="on-call@clinic.example")
    assert settings.staff_urgent_target() == (Channel.EMAIL, "on-call@clinic.example")


def test_without_either_the_routine_mailbox_gets_them(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(
        monkeypatch,
        DVR_STAFF_EMAIL="team@clinic.example",
        DVR_STAFF_URGENT_PHONE="",
        DVR_STAFF_URGENT_EMAIL="",
    )
    assert settings.staff_urgent_target() == (Channel.EMAIL, "team@clinic.example")


@pytest.mark.parametrize(
    "phone", ["6025550199", "+1 602 555 0199", "+0602555019", "+1602", "tel:+16025550199"]
)
def test_an_on_call_phone_not_in_e164_is_refused_without_showing_it(
    monkeypatch: pytest.MonkeyPatch, phone: str
) -> None:
    with pytest.raises(ValidationError, match=r"E\.164") as refused:
        _settings(monkeypatch, DVR_STAFF_URGENT_PHONE=phone)
    assert phone not in str(refused.value)


def test_both_urgent_channels_at_once_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="not both"):
        _settings(
            monkeypatch, DVR_STAFF_URGENT_PHONE=ON_CALL, DVR_STAFF_URGENT_EMAIL="on-call@clinic.example"
        )
