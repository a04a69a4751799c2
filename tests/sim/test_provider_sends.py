"""The simulation counts a message the demo's provider took twice as sent twice, from the stack's log,
whatever the outbox says (sim/report.py `provider_sends`)."""

from sim.report import provider_sends

P1, P2 = "pathway-11111111-1111-5111-8111-111111111111", "pathway-22222222-2222-5222-8222-222222222222"


def _delivered(key: str, attempt: int = 1) -> str:
    return (
        "2026-12-06T08:42:37.514947Z [info     ] notification.delivered         [activities.providers.log]"
        f" activity_id=3 activity_type=send_notification attempt={attempt} channel=sms key={key}"
        f" provider=log workflow_id={key.split(':')[0]} workflow_type=PatientPathway"
    )


def test_each_message_the_provider_took_is_counted_by_its_outbox_key() -> None:
    log = "\n".join(
        [
            _delivered(f"{P1}:booked:a"),
            _delivered(f"{P1}:diary:1:2"),
            "2026-12-06T08:42:38Z [warning  ] notification.claim_lost  key=" + f"{P1}:diary:1:2",
            _delivered(f"{P1}:diary:1:2", attempt=2),  # a second attempt that reached the provider again
            _delivered(f"{P1}:booked:a:resent"),  # a bounced message sent again: a key of its own
            _delivered(f"{P2}:closed"),  # not one of these pathways
        ]
    )
    sends = provider_sends(log, [P1])
    assert sends == {f"{P1}:booked:a": 1, f"{P1}:diary:1:2": 2, f"{P1}:booked:a:resent": 1}
