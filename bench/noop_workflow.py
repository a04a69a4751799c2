"""The trivial workflow raw starts are measured with: no input, no activity, it returns at once."""

from temporalio import workflow


@workflow.defn(name="BenchNoop")
class NoopWorkflow:
    @workflow.run
    async def run(self) -> None:
        return None
