"""How the fault suite counts SMS sent twice: copies of a text beyond the outbox's messages with it, less
copies that messages left in doubt may own (an attempt that may have reached the gateway, never settled
because its workflow ended first, so the outbox never recorded its text)."""

from collections import Counter

from faults.receivers import SmsGateway

PHONE, OTHER = "+16025550101", "+16025550102"


def _gateway(*taken: tuple[str, str]) -> SmsGateway:
    gateway = SmsGateway()
    gateway.messages = [{"to": to, "body": body} for to, body in taken]
    return gateway


def test_a_text_taken_more_often_than_the_outbox_holds_it_was_sent_twice() -> None:
    gateway = _gateway((PHONE, "Pain now?"), (PHONE, "Pain now?"), (OTHER, "Booked"))
    sent = {PHONE: Counter({"Pain now?": 1}), OTHER: Counter({"Booked": 1})}
    assert gateway.duplicates({PHONE, OTHER}, sent) == {(PHONE, "Pain now?"): 1}


def test_a_copy_a_message_in_doubt_may_own_is_not_counted_twice() -> None:
    gateway = _gateway((PHONE, "Pain now?"), (PHONE, "Pain now?"), (PHONE, "Pain now?"))
    sent = {PHONE: Counter({"Pain now?": 1})}
    assert gateway.duplicates({PHONE}, sent, Counter({PHONE: 1})) == {(PHONE, "Pain now?"): 1}
    assert gateway.duplicates({PHONE}, sent, Counter({PHONE: 2})) == {}
    assert gateway.duplicates({PHONE}, sent, Counter({OTHER: 2})) == {(PHONE, "Pain now?"): 2}  # not its
