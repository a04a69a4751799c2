"""Reading a pathway's view for an answer, with Temporal's errors turned into problems."""

from temporalio.client import Client
from temporalio.service import RPCError

from api.read_copy import read_view
from api.temporal_errors import missing_or_closed
from db.consents import consents_of
from db.patients import email_status
from db.pool import Queryable
from db.sms_numbers import sms_status
from domain.consents import ConsentCategory
from domain.inputs import PathwayInput
from domain.view import ContactView, PathwayView
from workflows.pathway import PatientPathwayWorkflow


def initial_view(pathway_id: str, pathway: PathwayInput) -> PathwayView:
    """The view of a pathway that has just been started, before its first step has run."""
    return PathwayView(
        pathway_id=pathway_id,
        clinic_site=pathway.clinic_site,
        patient_ref=pathway.patient_ref,
        profile=pathway.config.profile,
        policy_version=pathway.policy_version,
    )


async def with_contact(conn: Queryable, view: PathwayView) -> PathwayView:
    """The view with its `contact` section, read from the patient registry (the workflow has no access to it;
    only the SMS and e-mail statuses and the consents are shown, no number or address)."""
    status = await sms_status(conn, view.patient_ref)
    if status is None:
        return view
    consents = await consents_of(conn, view.patient_ref)
    email = await email_status(conn, view.patient_ref, declined=consents.get(ConsentCategory.EMAIL) is False)
    assert email is not None  # the patient was found just above; patients are never deleted
    contact = ContactView(sms=status, email=email, consents=consents)
    return view.model_copy(update={"contact": contact})


async def current_view(client: Client, conn: Queryable, pathway_id: str) -> PathwayView:
    """The pathway's view (from its read copy while that is still true: api/read_copy.py)."""
    try:
        return await read_view(client, conn, pathway_id)
    except RPCError as err:
        await missing_or_closed(client.get_workflow_handle_for(PatientPathwayWorkflow.run, pathway_id), err)
