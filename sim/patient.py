"""One synthetic patient's pathway, driven from referral to its end through the API: the patient (texts and
their link), the clinicians (each step when the view says it is theirs, on time or late as planned) and the
staff (no-shows, calls, red flags, change requests). It polls the pathway's view, acts on what it shows, and
lets the observer see every view it reads."""

import asyncio
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sim.behaviours import Plan
from sim.clinic import Clinic
from sim.observer import Observer

SITE = "phoenix-main"
STAGE_KIND = {"mri": "mri", "exam": "exam", "block": "block", "dvr_scheduled": "dvr"}
# (seconds after the block, pain) in the demo profile, baseline 8: a run of relief from +1.5 s (18 clinical
# minutes) for 4 s (48 minutes), then the usual pain back; no run; or relief still there at the +8 h prompt.
DIARY: dict[str, list[tuple[float, int]]] = {
    "positive": [(1.5, 1), (5.5, 0), (12.0, 7)],
    "negative": [(1.5, 7), (5.5, 7), (12.0, 8)],
    "prolonged": [(1.5, 0), (5.5, 1), (20.0, 0), (39.8, 0), (41.0, 1)],
}
REPORT_GAP = timedelta(seconds=3.5)
"""At least this between two diary reports (a run lasts 2.5 s in the demo), however late a poll was."""
CHECKLIST = {
    "anticoagulants_managed": True,
    "no_active_infection": True,
    "allergies_reviewed": True,
    "pregnancy_excluded_or_not_applicable": True,
}


@dataclass
class Run:
    """What the simulation needs around a patient."""

    clinic: Clinic
    observer: Observer
    poll_seconds: float
    give_up_after: timedelta
    staff_delay: tuple[float, float] = (0.5, 3.0)
    lateness: tuple[float, float] = (2.0, 8.0)
    """Seconds past its due time a late clinician step is recorded."""


@dataclass
class Memory:
    """What this patient's people have done, so that nothing is done twice."""

    done: set[str] = field(default_factory=set)
    act_at: dict[str, datetime] = field(default_factory=dict)
    diary_reports: set[tuple[int, int]] = field(default_factory=set)
    """(block, report number) of each diary report sent."""
    no_shows: dict[str, int] = field(default_factory=dict)
    last_report_at: datetime | None = None


def phone_of(index: int) -> str:
    return f"+1602555{index % 10_000:04d}"


def referral(plan: Plan, run_id: str) -> dict[str, Any]:
    """A synthetic referral: made-up name, MRN and number (E.164, in the 555 range)."""
    ref = f"SIM-{run_id}-{plan.index:05d}"
    mri_on = (date.today() - timedelta(days=30)).isoformat()
    return {
        "referral_id": ref,
        "source_system": "sim",
        "clinic_site": SITE,
        "patient": {
            "mrn": f"MRN-{ref}",
            "given_name": "Sim",
            "family_name": f"Patient{plan.index}",
            "birth_date": "1970-01-01",
            "phone": phone_of(plan.index),
            "timezone": "America/Phoenix",
            "preferred_channel": "sms",
            "sms_consent": True,
        },
        "referring_provider": {"name": "Dr. Referrer"},
        "symptoms": {
            "axial_low_back_pain": True,
            "buttock_radiation": True,
            "hip_pain": False,
            "lateral_thigh_burning": True,
            "pain_below_knee": plan.fails_screen,
        },
        "history": {"prior_rfa_with_recurrence": True},
        "mri": None if plan.no_recent_mri else {"performed_on": mri_on, "study_ref": f"STUDY-{ref}"},
    }


class Patient:
    def __init__(self, plan: Plan, run: Run) -> None:
        self.plan, self.run, self.clinic = plan, run, run.clinic
        self.rng = random.Random(plan.seed)
        self.memory = Memory()
        self.pathway_id = ""
        self.final: dict[str, Any] | None = None

    async def walk(self, run_id: str) -> dict[str, Any] | None:
        """Refers the patient and drives the pathway until it ends (or the run gives up); its last view."""
        pathway_id = await self.clinic.refer(referral(self.plan, run_id))
        if pathway_id is None:
            return None
        self.pathway_id = pathway_id
        ends = datetime.now(UTC) + self.run.give_up_after
        view: dict[str, Any] | None = None
        while datetime.now(UTC) < ends:
            seen = await self._look()
            if seen is not None:
                view = seen
                if view["status"] != "active":
                    return view
                await self.act(view)
            await asyncio.sleep(self.run.poll_seconds * self.rng.uniform(0.6, 1.4))
        return await self._look() or view  # where it stands when given up on, as the watcher sees it

    async def _look(self) -> dict[str, Any] | None:
        """The pathway's view, shown to the watcher; None (and the watcher told) when the API did not show
        it."""
        view = await self.clinic.read(self.pathway_id)
        if view is None:
            self.run.observer.unseen(self.pathway_id)
        else:
            self.run.observer.observe(view)
        return view

    # ---- one look at the view ----------------------------------------------------------------------------

    async def act(self, view: dict[str, Any]) -> None:
        stage = view["stage"]
        if self.plan.withdraw_at == stage and self._once("withdraw"):
            await self._step("withdraw", {"reason": "patient asked to stop"})
            return
        if await self._miss_appointment(view) or await self._ask_to_move(view):
            return
        await self._staff_on_attention(view)
        action = view.get("next_action") or {}
        actor, name = action.get("actor"), action.get("action")
        if actor == "clinician":
            await self._clinician(view, name, action.get("due_at"))
        elif actor == "patient" or stage == "relief_check":
            await self._patient(view)
        elif actor == "staff" and name == "call_patient":
            await self._staff_call(view)
        elif actor == "staff" and name == "retry_booking" and self._due(f"retry:{len(view['timeline'])}"):
            await self._step("retry-booking", {"requested_by": "Front desk"})

    def _once(self, key: str) -> bool:
        if key in self.memory.done:
            return False
        self.memory.done.add(key)
        return True

    def _due(self, key: str, after: tuple[float, float] | None = None, at: datetime | None = None) -> bool:
        """True once the person doing `key` gets to it: after a delay drawn when first asked, or at `at`."""
        now = datetime.now(UTC)
        if key in self.memory.done:
            return False
        if key not in self.memory.act_at:
            low, high = after or self.run.staff_delay
            self.memory.act_at[key] = at or now + timedelta(seconds=self.rng.uniform(low, high))
        if now < self.memory.act_at[key]:
            return False
        self.memory.done.add(key)
        return True

    async def _step(self, path: str, body: dict[str, Any]) -> None:
        view = await self.clinic.step(self.pathway_id, path, body)
        if view is not None:
            self.run.observer.observe(view)

    # ---- appointments --------------------------------------------------------------------------------

    def _booked(self, view: dict[str, Any], kind: str | None) -> dict[str, Any] | None:
        booked = [a for a in view["appointments"] if a["kind"] == kind and a["status"] == "booked"]
        return booked[-1] if booked else None

    async def _miss_appointment(self, view: dict[str, Any]) -> bool:
        kind = STAGE_KIND.get(view["stage"])
        appointment = self._booked(view, kind)
        if appointment is None or kind is None:
            return False
        missed = self.memory.no_shows.get(kind, 0)
        if not (self.plan.serial_no_show == kind or (kind in self.plan.no_show_kinds and missed == 0)):
            return False
        if not self._due(f"noshow:{appointment['appointment_id']}"):
            return True
        self.memory.no_shows[kind] = missed + 1
        path = f"appointments/{appointment['appointment_id']}/status"
        await self._step(path, {"status": "noshow"})
        return True

    async def _ask_to_move(self, view: dict[str, Any]) -> bool:
        kind = STAGE_KIND.get(view["stage"])
        if self.plan.change_request is None or kind is None or self._booked(view, kind) is None:
            return False
        if not self._once("change_request"):
            return False
        if self.plan.change_request == "sms":
            await self.clinic.text(self.pathway_id, phone_of(self.plan.index), "R")
        else:
            await self.clinic.answer_link(self.pathway_id, {"wish": "reschedule"}, change=True)
        return True

    async def _staff_on_attention(self, view: dict[str, Any]) -> None:
        reasons = view.get("attention_reasons") or []
        if "red_flags" in reasons and self._due(f"red_flags:{len(view['timeline'])}"):
            body = {"reason": "red_flags", "note": "called the patient; seen today", "resolved_by": "Nurse K"}
            await self._step("resolve-attention", body)
        if "reschedule_requested" in reasons and self._due(f"move:{len(view['change_requests'])}"):
            for request in view["change_requests"]:
                path = f"appointments/{request['appointment_id']}/status"
                await self._step(path, {"status": "cancelled"})
            body = {"reason": "reschedule_requested", "note": "moved as asked", "resolved_by": "Front desk"}
            await self._step("resolve-attention", body)

    # ---- clinicians --------------------------------------------------------------------------------------

    async def _clinician(self, view: dict[str, Any], action: str | None, due_at: str | None) -> None:
        if action is None:
            return
        key = f"{action}:{len(view['blocks'])}:{len(view['appointments'])}"
        at = None
        if self.plan.late_step == action and due_at is not None and self._once(f"late:{action}"):
            at = datetime.fromisoformat(due_at) + timedelta(seconds=self.rng.uniform(*self.run.lateness))
        if not self._due(key, (0.3, 2.0), at):
            return
        plan = self.plan
        if action == "screening_review":
            proceed = not plan.screen_review_closes
            body = {"proceed": proceed, "reason": "reviewed by the simulation", "reviewed_by": "Dr. L"}
            await self._step("screening-review", body)
        elif action == "mri_review":
            swelling = {"facet_swelling": True, "levels": ["L4-L5"], "side": "bilateral"}
            body = (swelling if plan.mri_swelling else {"facet_swelling": False}) | {"reviewed_by": "Dr. R"}
            await self._step("mri-review", body)
        elif action == "exam":
            body = {"palpation_concordant": plan.exam_concordant, "levels": ["L4-L5"], "examined_by": "Dr. P"}
            await self._step("exam", body)
        elif action == "block":
            body = {"anesthetic": "lidocaine", "levels": ["L4-L5"], "side": "bilateral", "baseline_pain": 8}
            await self._step("block", body | {"performed_by": "Dr. P"})
        elif action == "candidacy_decision":
            await self._step("candidacy-decision", self._decision(view))
        elif action == "procedure":
            body = {"status": "completed", "levels_treated": ["L4-L5"], "performed_by": "Dr. S"}
            if view["relief_check"].get("result") != "positive":  # approved on a prolonged block's relief
                body["override_reason"] = "relief lasted: judged positive at candidacy"
            await self._step("procedure", body)

    def _decision(self, view: dict[str, Any]) -> dict[str, Any]:
        relief = view["relief_check"]
        result, number = relief.get("result"), relief.get("block_number", 1)
        if result == "indeterminate" and number == 1:
            return {"approved": False, "repeat_block": True, "decided_by": "Dr. S"}
        if result in ("positive", "prolonged") and not self.plan.clinician_declines:
            approve = {"approved": True, "anesthesia": "twilight", "safety_checklist": CHECKLIST}
            override = {} if result == "positive" else {"override_reason": "relief lasted: judged positive"}
            return approve | override | {"decided_by": "Dr. S"}
        return {"approved": False, "decided_by": "Dr. S", "reason": "decided by the simulation"}

    # ---- the patient -------------------------------------------------------------------------------------

    async def _patient(self, view: dict[str, Any]) -> None:
        if self.plan.silent:
            return
        stage = view["stage"]
        if stage == "relief_check":
            await self._diary(view)
        elif stage == "follow_up" and view["follow_up"].get("status") == "open" and self._once("follow_up"):
            flags = ["new_weakness"] if self.plan.red_flag else []
            fields: dict[str, str | list[str]] = {"pain": "2", "returned_to_work": "yes", "red_flags": flags}
            await self.clinic.answer_link(self.pathway_id, fields)
        elif stage == "outcomes":
            for number, check_in in enumerate(view["outcomes"]):
                answers = number < len(self.plan.outcome_answers) and self.plan.outcome_answers[number]
                if check_in["status"] == "open" and answers and self._once(f"outcome:{check_in['check_in']}"):
                    fields = {"pain": "2", "work_status": "working_full", "pgic": "2"}
                    await self.clinic.answer_link(self.pathway_id, fields)

    async def _diary(self, view: dict[str, Any]) -> None:
        """Reports the planned pain at the planned times after the block (by text or link), whichever
        prompts reached the patient: a prompt the relief check dropped as missed (a late worker) leaves
        the diary open to an answer all the same."""
        relief = view["relief_check"]
        performed_at = relief.get("performed_at")
        if relief.get("result") is not None or performed_at is None:
            return
        block = relief.get("block_number", 1)
        answered = sum(1 for b, _ in self.memory.diary_reports if b == block)
        script = DIARY[self.plan.diary]
        if answered >= len(script):
            return
        offset, pain = script[answered]
        now = datetime.now(UTC)
        not_before = datetime.fromisoformat(performed_at) + timedelta(seconds=offset)
        if self.memory.last_report_at is not None:  # a late first report must not shorten the run
            not_before = max(not_before, self.memory.last_report_at + REPORT_GAP)
        if now < not_before:
            return
        self.memory.diary_reports.add((block, answered))
        self.memory.last_report_at = now
        if self.plan.by_sms:
            await self.clinic.text(self.pathway_id, phone_of(self.plan.index), str(pain))
        else:
            await self.clinic.answer_link(self.pathway_id, {"pain": str(pain)})

    # ---- staff -------------------------------------------------------------------------------------------

    async def _staff_call(self, view: dict[str, Any]) -> None:
        open_now = [o["check_in"] for o in view.get("outcomes") or [] if o["status"] == "open"]
        which = open_now[0] if view["stage"] == "outcomes" and open_now else "follow_up"
        if not self._due(f"call:{which}"):
            return
        call: dict[str, Any] = {"note": "called the patient", "called_by": "Nurse K"}
        if not self.plan.staff_reach:
            await self._step("staff-call", call | {"reached": False})
            return
        answers: dict[str, Any] = {"pain": 3}
        if which == "follow_up":
            answers |= {"returned_to_work": False}
        else:
            answers |= {"work_status": "working_modified", "pgic": 3}
        await self._step("staff-call", call | {"reached": True, "answers": answers})
