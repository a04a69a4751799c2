"""The least a workflow can be that does a pathway's work: the same activity calls, local activity calls and
timers, one after the other, with no Updates, Queries, Signals, children or search attributes.

Its input is the plan, compact: `a<in>/<out>` an activity whose argument and result are that many bytes of
JSON, `l<in>/<out>` the same as a local activity, `t<seconds>` a timer. Each argument carries the size of its
result, so the stored payloads are as large as the pathway's (bench/pathway_cost.py measures them).
"""

from datetime import timedelta

from temporalio import activity, workflow

TASK_QUEUE = "minimal-shape"
_TIMEOUT = timedelta(seconds=30)


@activity.defn(name="minimal_step")
async def minimal_step(argument: str) -> str:
    """Answers with a result as large as the argument asks for."""
    size = int(argument.split(":", 1)[0])
    return "y" * max(size - 2, 0)  # the JSON quotes make up the rest


def _argument(size: int, result_size: int) -> str:
    head = f"{result_size}:"
    return head + "x" * max(size - 2 - len(head), 0)


@workflow.defn(name="MinimalShape")
class MinimalShapeWorkflow:
    @workflow.run
    async def run(self, plan: str) -> None:
        for step in plan.split(","):
            kind, rest = step[0], step[1:]
            if kind == "t":
                await workflow.sleep(timedelta(seconds=float(rest)))
                continue
            size, result_size = (int(n) for n in rest.split("/"))
            if kind == "a":
                await workflow.execute_activity(
                    minimal_step, _argument(size, result_size), start_to_close_timeout=_TIMEOUT
                )
            else:
                await workflow.execute_local_activity(
                    minimal_step, _argument(size, result_size), start_to_close_timeout=_TIMEOUT
                )
