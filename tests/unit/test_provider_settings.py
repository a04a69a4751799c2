"""Which providers the worker builds from the settings; `log` for both unless told otherwise."""

from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from activities.providers.by_channel import ByChannel
from activities.providers.from_settings import provider_from_settings
from activities.providers.log import LogProvider
from activities.providers.smtp import SmtpProvider
from activities.providers.twilio_sms import TwilioSms
from config.settings import Settings
from domain.notifications import Channel

SECRETS = ("smtp-p4ssword-secret", "twilio-auth-token-secret")
TWILIO = {
    "DVR_SMS_PROVIDER": "twilio",
    "DVR_TWILIO_ACCOUNT_SID": "AC123",
    "DVR_TWILIO_AUTH_TOKEN": SECRETS[1],
    "DVR_TWILIO_FROM": "+16025550100",
    "DVR_PUBLIC_URL": "https://dvr.clinic.example/",
}
SMTP = {
    "DVR_EMAIL_PROVIDER": "smtp",
    "DVR_SMTP_HOST": "smtp.clinic.example",
    "DVR_SMTP_PASSWORD": SECRETS[0],
    "DVR_EMAIL_FROM": "noreply@clinic.example",
}


SMTP_TLS = ("DVR_SMTP_STARTTLS", "DVR_SMTP_CA_FILE")


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name in {*TWILIO, *SMTP, *SMTP_TLS}:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


async def test_without_settings_both_channels_go_to_the_log(monkeypatch: pytest.MonkeyPatch) -> None:
    async with httpx.AsyncClient() as http:
        provider = provider_from_settings(_settings(monkeypatch), http)
    assert isinstance(provider, ByChannel)
    assert all(isinstance(provider.for_channel(c), LogProvider) for c in Channel)


async def test_email_and_sms_are_built_from_their_own_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(monkeypatch, **TWILIO, **SMTP)
    assert settings.public_url == "https://dvr.clinic.example"
    async with httpx.AsyncClient() as http:
        provider = provider_from_settings(settings, http)
    assert isinstance(provider, ByChannel)
    assert isinstance(provider.for_channel(Channel.EMAIL), SmtpProvider)
    assert isinstance(provider.for_channel(Channel.SMS), TwilioSms)
    assert provider.name == "email:smtp,sms:twilio"
    for secret in SECRETS:
        assert secret not in repr(settings) and secret not in repr(provider.for_channel(Channel.EMAIL))
        assert secret not in repr(provider.for_channel(Channel.SMS))


async def test_one_real_provider_leaves_the_other_channel_on_the_log(monkeypatch: pytest.MonkeyPatch) -> None:
    async with httpx.AsyncClient() as http:
        provider = provider_from_settings(_settings(monkeypatch, **TWILIO), http)
    assert isinstance(provider, ByChannel)
    assert isinstance(provider.for_channel(Channel.EMAIL), LogProvider)


@pytest.mark.parametrize(("chosen", "missing"), [(TWILIO, "DVR_TWILIO_AUTH_TOKEN"), (SMTP, "DVR_SMTP_HOST")])
def test_a_provider_without_its_settings_is_refused_naming_them_not_their_values(
    monkeypatch: pytest.MonkeyPatch, chosen: dict[str, str], missing: str
) -> None:
    env = {k: v for k, v in chosen.items() if k != missing}
    with pytest.raises(ValidationError) as refused:
        _settings(monkeypatch, **env)
    assert missing in str(refused.value)
    assert all(secret not in str(refused.value) for secret in SECRETS)


def test_an_empty_ca_file_setting_means_the_system_s_cas(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _settings(monkeypatch, **SMTP, DVR_SMTP_CA_FILE="").smtp_ca_file is None


def test_a_ca_file_that_is_not_there_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as refused:
        _settings(monkeypatch, **SMTP, DVR_SMTP_CA_FILE=str(tmp_path / "missing.pem"))
    assert "smtp_ca_file" in str(refused.value)


def test_a_ca_file_without_starttls_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text("")
    env = {**SMTP, "DVR_SMTP_CA_FILE": str(ca_file)}
    assert _settings(monkeypatch, **env).smtp_ca_file == ca_file
    with pytest.raises(ValidationError) as refused:
        _settings(monkeypatch, **env, DVR_SMTP_STARTTLS="false")
    assert "DVR_SMTP_CA_FILE is only used with DVR_SMTP_STARTTLS=true" in str(refused.value)
