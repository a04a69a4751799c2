"""How the fault suite counts messages sent twice.

SMS: copies of a text beyond the outbox's messages with it, less copies that messages left in doubt may own
(an attempt that may have reached the gateway, never settled because its workflow ended first, so the
outbox never recorded its text): each such message one copy of a text of its own template, or of a text the
outbox never recorded. E-mail: copies under one Message-ID, whoever they went to (the care team's as the
patients'), less those kept again after a reset before the server's answer."""

from collections import Counter

import pytest

from faults.receivers import FaultyMailbox, SmsGateway

PHONE, OTHER = "+16025550101", "+16025550102"
PROMPT, BOOKED = "Pain now?", "Your MRI is booked"
TEMPLATES = {(PHONE, PROMPT): "diary_prompt", (PHONE, BOOKED): "mri_booked"}


def _gateway(*taken: tuple[str, str]) -> SmsGateway:
    gateway = SmsGateway()
    gateway.messages = [{"to": to, "body": body} for to, body in taken]
    return gateway


def test_a_text_taken_more_often_than_the_outbox_holds_it_was_sent_twice() -> None:
    gateway = _gateway((PHONE, PROMPT), (PHONE, PROMPT), (OTHER, "Booked"))
    sent = {PHONE: Counter({PROMPT: 1}), OTHER: Counter({"Booked": 1})}
    assert gateway.duplicates({PHONE, OTHER}, sent) == {(PHONE, PROMPT): 1}


def test_a_copy_a_message_in_doubt_may_own_is_not_counted_twice() -> None:
    gateway = _gateway((PHONE, PROMPT), (PHONE, PROMPT), (PHONE, PROMPT))
    sent = {PHONE: Counter({PROMPT: 1})}
    one, two = Counter({(PHONE, "diary_prompt"): 1}), Counter({(PHONE, "diary_prompt"): 2})
    assert gateway.duplicates({PHONE}, sent, one, TEMPLATES) == {(PHONE, PROMPT): 1}
    assert gateway.duplicates({PHONE}, sent, two, TEMPLATES) == {}
    other_phone = Counter({(OTHER, "diary_prompt"): 2})
    assert gateway.duplicates({PHONE}, sent, other_phone, TEMPLATES) == {(PHONE, PROMPT): 2}  # not its


def test_a_message_in_doubt_never_excuses_a_copy_of_another_templates_message() -> None:
    # A diary prompt left in doubt cannot have been "Your MRI is booked": that second copy was sent twice.
    gateway = _gateway((PHONE, BOOKED), (PHONE, BOOKED))
    sent = {PHONE: Counter({BOOKED: 1})}
    in_doubt = Counter({(PHONE, "diary_prompt"): 1})
    assert gateway.duplicates({PHONE}, sent, in_doubt, TEMPLATES) == {(PHONE, BOOKED): 1}


def test_a_message_in_doubt_may_own_a_copy_of_a_text_the_outbox_never_recorded() -> None:
    # Its only attempt reached the gateway and was never recorded: one copy is its own, a second is not.
    gateway = _gateway((PHONE, "Your block is booked"), (PHONE, "Your block is booked"))
    in_doubt = Counter({(PHONE, "block_booked"): 1})
    assert gateway.duplicates({PHONE}, {}, in_doubt, TEMPLATES) == {(PHONE, "Your block is booked"): 1}
    assert gateway.duplicates({PHONE}, {}, in_doubt + in_doubt, TEMPLATES) == {}


@pytest.mark.parametrize("recipient", ["patient@example.org", "care-team@clinic.example"])
def test_an_email_kept_twice_under_its_message_id_is_sent_twice_whoever_it_went_to(recipient: str) -> None:
    mailbox = FaultyMailbox(received=[(recipient, "<a@clinic.example>")] * 2)
    assert mailbox.duplicates({"<a@clinic.example>"}) == {"<a@clinic.example>": 1}
    assert mailbox.duplicates({"<b@clinic.example>"}) == {}  # another cohort's message


def test_an_email_kept_again_after_a_reset_before_the_answer_is_the_protocols_copy() -> None:
    mailbox = FaultyMailbox(received=[("care-team@clinic.example", "<a@clinic.example>")] * 2)
    mailbox.unanswered["<a@clinic.example>"] += 1
    assert mailbox.duplicates({"<a@clinic.example>"}) == {}
    assert mailbox.protocol_copies({"<a@clinic.example>"}) == 1
