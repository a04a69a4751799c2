"""A workflow and an activity for the tracing test, in a module of their own: the worker's sandbox imports
it afresh, and it imports nothing the sandbox would refuse."""

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
async def greet(name: str) -> str:
    return f"hello {name}"


@workflow.defn(name="TracedGreeting")
class TracedGreeting:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(greet, name, start_to_close_timeout=timedelta(seconds=10))
