"""The worker's provider, built from the settings: e-mail and SMS each `log` (the default) or a real one."""

import httpx

from activities.providers.base import NotificationProvider
from activities.providers.by_channel import ByChannel
from activities.providers.log import LogProvider
from activities.providers.smtp import SmtpProvider
from activities.providers.twilio_sms import TwilioSms
from config.settings import Settings

STATUS_CALLBACK_PATH = "/v1/sms/status"


def provider_from_settings(settings: Settings, http: httpx.AsyncClient) -> NotificationProvider:
    """`http` is the worker's HTTP client, closed by the worker. The settings have been checked to name
    everything the chosen providers need (config/settings.py)."""
    email: NotificationProvider = LogProvider()
    sms: NotificationProvider = LogProvider()
    if settings.email_provider == "smtp":
        assert settings.smtp_host is not None and settings.email_from is not None
        email = SmtpProvider(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.email_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            ca_file=settings.smtp_ca_file,
        )
    if settings.sms_provider == "twilio":
        assert settings.twilio_account_sid is not None and settings.twilio_auth_token is not None
        assert settings.twilio_from is not None and settings.public_url is not None
        sms = TwilioSms(
            http,
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            sender=settings.twilio_from,
            status_callback=settings.public_url + STATUS_CALLBACK_PATH,
            api_base=settings.twilio_api_base,
        )
    return ByChannel(email=email, sms=sms)
