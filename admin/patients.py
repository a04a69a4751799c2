"""`dvr-admin patient show PATHWAY_ID --reason TEXT`: a pathway's patient, for a staff member who must call.

The name, phone, e-mail, preferred language and channel, and time zone go to stdout, for the caller alone:
nothing is logged. The read is audited first, in the same transaction (`patient.contact.read`, as
`cli:<os user>`, with the reason): if the audit row cannot be written, nothing is shown. The reason is kept
in the audit log only, which is PostgreSQL, where PHI lives (DESIGN.md §6), never in a log line or Temporal.
"""

import asyncio
import re
from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from admin.actor import cli_actor
from admin.database import connected
from admin.errors import AdminError
from db import audit
from db.patients import PatientToCall, patient_of_pathway

app = typer.Typer(
    help="A pathway's patient, for a staff member who must call (audited).", no_args_is_help=True
)

LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}
_PATHWAY_ID = re.compile(r"^pathway-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_REASON = re.compile(r"^[^\x00-\x1f\x7f]{3,300}\Z")


@app.callback()
def _group() -> None:
    # A group, even with one command: `dvr-admin patient show`.
    pass


@app.command()
def show(
    pathway_id: Annotated[
        str, typer.Argument(metavar="PATHWAY_ID", help="The pathway, e.g. pathway-3f2c...")
    ],
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            help="Why you need the contact details (kept in the audit log), e.g. 'no diary reports'.",
        ),
    ],
) -> None:
    """Show a pathway's patient: name, phone, e-mail, language (the read and its reason are audited)."""
    reason = reason.strip()
    if not _REASON.match(reason):
        raise AdminError("--reason says why you need the details: 3 to 300 characters, on one line")
    if not _PATHWAY_ID.match(pathway_id):
        raise AdminError(
            f"{pathway_id!r} is not a pathway id (pathway-<uuid>, as the API and the UI show it)"
        )
    patient = asyncio.run(_read(pathway_id, reason))
    typer.echo(_card(pathway_id, patient))


async def _read(pathway_id: str, reason: str) -> PatientToCall:
    async with connected() as conn, conn.transaction():
        patient = await patient_of_pathway(conn, pathway_id)
        if patient is None:
            raise AdminError(f"no referral started {pathway_id}")
        await audit.record(
            conn,
            actor=cli_actor(),
            action="patient.contact.read",
            patient_ref=patient.patient_ref,
            pathway_id=pathway_id,
            detail={"via": "dvr-admin patient show", "reason": reason},
        )
    return patient


def _card(pathway_id: str, patient: PatientToCall) -> str:
    now = datetime.now(UTC).astimezone(ZoneInfo(patient.timezone))
    language = LANGUAGE_NAMES.get(patient.preferred_language, patient.preferred_language)
    rows = [
        ("Pathway", pathway_id),
        ("Patient", f"{patient.given_name} {patient.family_name}"),
        ("Phone", patient.phone or "-"),
        ("E-mail", patient.email or "-"),
        ("Language", f"{language} ({patient.preferred_language})"),
        ("Prefers", patient.preferred_channel),
        ("Time zone", f"{patient.timezone} (now {now:%a %H:%M} there)"),
        ("Clinic", patient.clinic_site),
    ]
    return "\n".join(f"{label + ':':<11}{value}" for label, value in rows)
