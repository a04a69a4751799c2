"""The channel a patient's message goes by: consent to SMS and to e-mail both count, and an address refused
for good is not used."""

from activities.message_targets import choose_channel
from db.patients import Contact
from domain.consents import ConsentCategory
from domain.notifications import Channel

PHONE, EMAIL = "+16025550100", "ada@example.org"
EMAIL_DECLINED = frozenset({ConsentCategory.EMAIL})


def _contact(**fields: object) -> Contact:
    values: dict[str, object] = {
        "given_name": "Ada",
        "phone": PHONE,
        "email": EMAIL,
        "timezone": "America/Phoenix",
        "preferred_channel": "email",
        "sms_consent": True,
    }
    return Contact(**(values | fields))  # type: ignore[arg-type]


def test_the_preferred_channel_goes_first() -> None:
    assert choose_channel(_contact()) == (Channel.EMAIL, EMAIL)
    assert choose_channel(_contact(preferred_channel="sms")) == (Channel.SMS, PHONE)


def test_email_declined_is_not_used_even_with_an_address() -> None:
    assert choose_channel(_contact(declined=EMAIL_DECLINED)) == (Channel.SMS, PHONE)
    assert choose_channel(_contact(declined=EMAIL_DECLINED, sms_opted_out=True)) is None
    assert choose_channel(_contact(declined=EMAIL_DECLINED, phone_refused=True)) is None


def test_other_categories_declined_leave_the_channel_alone() -> None:
    declined = frozenset({ConsentCategory.DIARY})
    assert choose_channel(_contact(declined=declined, sms_opted_out=True)) == (Channel.EMAIL, EMAIL)


def test_an_address_the_mail_server_refused_is_not_used() -> None:
    assert choose_channel(_contact(email_refused=True)) == (Channel.SMS, PHONE)
    assert choose_channel(_contact(email_refused=True, sms_consent=False)) is None
    assert choose_channel(_contact(email_refused=True, phone_refused=True)) is None
