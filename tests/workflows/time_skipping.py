"""Skipping the test server's clock under a deadline of our own.

The server moves its clock on only while no workflow task or activity is outstanding; otherwise it runs at
real speed. The SDK gives a call with no timeout 30 s, so a machine that stalled for half a minute failed a
skip that would have finished. A skip that cannot finish says how far the clock got."""

from datetime import timedelta

from google.protobuf.duration_pb2 import Duration
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

SKIP_DEADLINE = timedelta(minutes=3)


async def skip(env: WorkflowEnvironment, by: timedelta, deadline: timedelta = SKIP_DEADLINE) -> None:
    """Moves the workflow clock on by `by`, firing every timer on the way; on a server that does not skip
    time (a local dev server), waits `by`."""
    if not env.supports_time_skipping_v1:  # not the test server, whose test service this calls
        await env.sleep(by)
        return
    started = await env.get_current_time()
    duration = Duration()
    duration.FromTimedelta(by)
    try:
        await env.client.test_service.unlock_time_skipping_with_sleep(
            SleepRequest(duration=duration), timeout=deadline
        )
    except RPCError as failed:
        try:
            moved: timedelta | str = await env.get_current_time() - started
        except RPCError:
            moved = "an unknown part"
        raise AssertionError(
            f"the clock moved {moved} of {by} in {deadline.total_seconds():g} s: a workflow task or an "
            f"activity was outstanding all that time ({failed.message})"
        ) from failed
