"""Which pathway a FHIR resource id belongs to, for the reads by id (`GET /fhir/Appointment/{id}`,
`GET /fhir/QuestionnaireResponse/{id}`): the site check and the resource are the pathway's."""

import re
import uuid

from db.pool import Queryable

# A response's id is `<pathway_id>-<what>` (questionnaire_responses.py), the pathway id being
# `pathway-<uuid>`.
_RESPONSE_ID = re.compile(
    r"^(pathway-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-[A-Za-z0-9.-]+$"
)


def pathway_of_response(response_id: str) -> str | None:
    """The pathway id a QuestionnaireResponse's id starts with; None for an id this server never made."""
    match = _RESPONSE_ID.match(response_id)
    return match.group(1) if match else None


async def pathway_of_appointment(conn: Queryable, appointment_id: str) -> str | None:
    """The pathway an appointment (by its UUID, spelt as its resource id is) belongs to; None if there is
    none, or the id is not such a UUID."""
    try:
        key = uuid.UUID(appointment_id)
    except ValueError:
        return None
    if str(key) != appointment_id:
        return None
    pathway_id: str | None = await conn.fetchval(
        "select pathway_id from appointments where appointment_id = $1", key
    )
    return pathway_id
