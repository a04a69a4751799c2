"""Driving an operation concurrently, and what a run measured: how many succeeded, in how long, each one's
latency, and the failures (counted and one of them kept, never raised: a benchmark reports them)."""

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench.latency import Latency

Operation = Callable[[int], Awaitable[None]]
"""One request; its argument numbers it within the run (0, 1, 2, ...). It raises when it fails."""


@dataclass
class Run:
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    """Seconds, of the operations that succeeded."""
    errors: int = 0
    first_error: str = ""

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        """Successful operations per second of the run."""
        return self.count / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def latency(self) -> Latency:
        return Latency.of(self.latencies)

    async def _one(self, operation: Operation, number: int) -> None:
        began = time.perf_counter()
        try:
            await operation(number)
        except Exception as err:  # counted and shown in the report, not raised
            self.errors += 1
            self.first_error = self.first_error or f"{type(err).__name__}: {err}"[:300]
        else:
            self.latencies.append(time.perf_counter() - began)


async def run_count(total: int, concurrency: int, operation: Operation) -> Run:
    """`total` operations, `concurrency` at a time (each client takes the next number when it is free)."""
    run = Run()
    numbers = iter(range(total))

    async def client() -> None:
        for number in numbers:
            await run._one(operation, number)

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    run.elapsed = time.perf_counter() - began
    return run


async def run_for(seconds: float, clients: int, operation: Operation) -> Run:
    """`clients` concurrent clients, each sending its next operation as soon as the last one answered, for
    `seconds`; an operation under way at the end is awaited and counted."""
    stop = asyncio.Event()
    timer = asyncio.get_running_loop().call_later(seconds, stop.set)
    try:
        return await run_until(stop, clients, operation)
    finally:
        timer.cancel()


async def run_until(stop: asyncio.Event, clients: int, operation: Operation) -> Run:
    """`clients` concurrent clients, each sending its next operation as soon as the last one answered, until
    `stop` is set; an operation under way then is awaited and counted."""
    run = Run()
    numbers = itertools.count()
    began = time.perf_counter()

    async def client() -> None:
        while not stop.is_set():
            await run._one(operation, next(numbers))
            await asyncio.sleep(0)  # an operation that fails at once still lets `stop` be set

    await asyncio.gather(*(client() for _ in range(clients)))
    run.elapsed = time.perf_counter() - began
    return run
