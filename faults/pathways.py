"""Synthetic pathways driven through the API as tests/integration/walk.py walks one, but through the retrying
client (faults/api.py) and without asserting: a pathway that does not get where it should is reported lost by
the checks, not raised here."""

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from faults.api import ApiClient
from tests.integration.walk import BLOCK, RUN_WAIT_SECONDS
from tests.referrals import referral_body

View = dict[str, Any]
REVIEW = {"facet_swelling": True, "levels": ["L4-L5"], "reviewed_by": "Dr. R"}
EXAM = {"palpation_concordant": True, "levels": ["L4-L5"], "examined_by": "Dr. P"}
WAIT_SECONDS = 330.0
"""How long a pathway is waited for to reach a state before it counts as stuck: past the activities' longest
retry interval (5 min, workflows/activity_options.py), so a pathway the stack brings back by itself, however
late, is not counted lost."""


class Stuck(Exception):
    """A pathway did not reach a state in time."""


@dataclass
class Pathway:
    """One synthetic patient's pathway: its channel (odd-numbered patients prefer e-mail), and how far the
    driver got it."""

    number: int
    referral_id: str
    email: bool
    pathway_id: str = ""
    reached: list[str] = field(default_factory=list)
    stuck: str | None = None
    longest_wait: float = 0.0
    """The longest it waited for a state it reached, seconds."""

    @property
    def phone(self) -> str:
        return f"+1602555{self.number:04d}"

    @property
    def address(self) -> str:
        return f"patient{self.number}@patients.example"


_numbers = itertools.count(1)


def cohort(scenario: str, count: int) -> list[Pathway]:
    """`count` new patients, numbered on from the last cohort's: their numbers and addresses are their own
    even when scenarios share a stack."""
    numbers = [next(_numbers) for _ in range(count)]
    return [Pathway(n, f"FAULT-{scenario}-{n}", email=n % 2 == 1) for n in numbers]


def next_action_is(action: str) -> Callable[[View], bool]:
    return lambda v: v["next_action"] is not None and v["next_action"]["action"] == action


async def wait_for(api: ApiClient, pathway: Pathway, what: str, check: Callable[[View], bool]) -> View:
    started = asyncio.get_running_loop().time()
    deadline = started + WAIT_SECONDS
    while True:
        view = await api.view(pathway.pathway_id)
        if view is not None and check(view):
            pathway.reached.append(what)
            pathway.longest_wait = max(pathway.longest_wait, asyncio.get_running_loop().time() - started)
            return view
        if asyncio.get_running_loop().time() > deadline:
            stage = None if view is None else view["stage"]
            raise Stuck(f"never reached {what} (stage {stage})")
        await asyncio.sleep(0.2)


async def refer(api: ApiClient, pathway: Pathway) -> None:
    body = referral_body(pathway.referral_id)
    patient = body["patient"]
    patient.update(phone=pathway.phone, email=pathway.address)
    if pathway.email:
        patient.update(preferred_channel="email", sms_consent=False)
    answer = await api.post("/v1/referrals", body, key=f"referral-{pathway.referral_id}")
    if answer.status_code != 201:
        raise Stuck(f"referral answered {answer.status_code}")
    pathway.pathway_id = answer.json()["pathway_id"]
    await wait_for(api, pathway, "mri review due", next_action_is("mri_review"))


async def step(api: ApiClient, pathway: Pathway, name: str, body: dict[str, Any], key: str = "") -> View:
    answer = await api.post(
        f"/v1/pathways/{pathway.pathway_id}/{name}", body, key=f"{pathway.referral_id}-{key or name}"
    )
    if answer.status_code != 200:
        raise Stuck(f"{name} answered {answer.status_code}")
    pathway.reached.append(name)
    view: View = answer.json()
    return view


async def book_to_relief_check(api: ApiClient, pathway: Pathway) -> None:
    """The steps that book appointments: the MRI review books the exam, the exam the block; then the block,
    and the first diary prompt out."""
    await step(api, pathway, "mri-review", REVIEW)
    await wait_for(api, pathway, "exam booked", next_action_is("exam"))
    await step(api, pathway, "exam", EXAM)
    await wait_for(api, pathway, "block booked", next_action_is("block"))
    await step(api, pathway, "block", BLOCK)
    await wait_for(api, pathway, "first diary prompt", next_action_is("pain_report"))


async def diary_to_candidacy(api: ApiClient, pathway: Pathway) -> None:
    """A positive block: near-complete relief at once and again after a run's length, then the usual pain;
    the diary's verdict takes the pathway to the candidacy decision."""
    for n, (pain, then_wait) in enumerate(((1, RUN_WAIT_SECONDS), (0, 0.0), (7, 0.0)), start=1):
        await step(api, pathway, "pain-reports", {"pain": pain}, key=f"pain-{n}")
        await asyncio.sleep(then_wait)
    await wait_for(api, pathway, "candidacy", lambda v: v["stage"] == "candidacy")


async def guarded(pathway: Pathway, drive: Callable[[Pathway], Awaitable[None]]) -> None:
    """Runs a pathway's driver; a pathway that got stuck (or whose requests went unanswered) is marked so,
    and the others carry on."""
    try:
        await drive(pathway)
    except Exception as err:  # any failure of one pathway's driver is that pathway's, reported in the table
        pathway.stuck = f"{type(err).__name__}: {err}"
