"""The log provider says which channel a message went by (the urgent SMS, say), never its address or text."""

from structlog.testing import capture_logs

from activities.providers.base import OutboundMessage
from activities.providers.log import LogProvider
from domain.notifications import Channel


async def test_the_log_shows_the_channel_and_key_only() -> None:
    message = OutboundMessage(
        key="pathway-1:attention:1",
        channel=Channel.SMS,
        address="+16025550199",
        subject="URGENT: red flags on pathway pathway-1",
        body="URGENT: the patient of pathway pathway-1 reported red flags at follow-up: fever.",
    )
    with capture_logs() as logs:
        await LogProvider().send(message)
    [line] = logs
    assert (line["channel"], line["key"]) == (Channel.SMS, "pathway-1:attention:1")
    assert message.address not in str(line) and "fever" not in str(line)
