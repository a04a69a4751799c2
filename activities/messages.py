"""Message texts. Parameters carry no PHI; the patient's first name is filled in at send time."""

from dataclasses import dataclass
from string import Template

from domain.notifications import Recipient


@dataclass(frozen=True)
class MessageTemplate:
    subject: str
    body: str


PATIENT_TEMPLATES: dict[str, MessageTemplate] = {
    "appointment_booked": MessageTemplate(
        "Your $kind_label appointment",
        "Hello $name, your $kind_label appointment is booked for $when. Reply STOP to end messages.",
    ),
    "appointment_reminder": MessageTemplate(
        "Reminder: $kind_label appointment",
        "Hello $name, a reminder of your $kind_label appointment on $when.",
    ),
    "block_preparation": MessageTemplate(
        "Preparing for your medial branch block",
        "Hello $name, your medial branch block is on $when. It is a test of where your pain comes from, "
        "so: come with your usual pain (do not take pain medication that morning), avoid pain medication "
        "for the hours of the pain diary afterwards, do the usual activities that bring your pain on, and "
        "answer each diary message with your pain score. Please arrange a driver.",
    ),
    "preop_instructions": MessageTemplate(
        "Preparing for your DVR procedure",
        "Hello $name, your Direct Visual Rhizotomy is on $when under $anesthesia. Do not eat or drink for 8 "
        "hours before, and arrange for someone to drive you home.",
    ),
    "diary_prompt": MessageTemplate(
        "Pain diary",
        "Hello $name, how is your usual back pain right now, from 0 (none) to 10 (worst)? Please reply "
        "with a number.",
    ),
    "diary_nudge": MessageTemplate(
        "Pain diary reminder",
        "Hello $name, we have not had your pain score yet. Please reply with a number from 0 to 10.",
    ),
    "return_check": MessageTemplate(
        "Has your usual pain come back?",
        "Hello $name, it has been a day since your block. Has your usual pain come back? Please reply with "
        "your pain from 0 to 10.",
    ),
    "follow_up_checkin": MessageTemplate(
        "How are you after your procedure?",
        "Hello $name, how is your back today? Please tell us your pain from 0 to 10, whether you are back at "
        "work, and whether you have any of: new weakness, new numbness, a change in bladder or bowel "
        "control, fever, wound drainage or redness, or severe pain. For weakness or a bladder or bowel "
        "change, go to emergency care now; for the others, call the clinic.",
    ),
    "outcome_check_in": MessageTemplate(
        "How are you $interval after your procedure?",
        "Hello $name, it is $interval since your DVR. Please tell us: your usual back pain from 0 (none) to "
        "10 (worst); your work (full duties, modified duties, off work, not employed or retired); and how "
        "you are overall since the procedure, from 1 (very much improved) to 7 (very much worse). If you "
        "have any of: new weakness, new numbness, a change in bladder or bowel control, fever, wound "
        "drainage or redness, or severe pain, tell us too. For weakness or a bladder or bowel change, go to "
        "emergency care now; for the others, call the clinic.",
    ),
    "check_in_reminder": MessageTemplate(
        "We have not heard from you yet",
        "Hello $name, we have not had your answers to our check-in ($interval) yet. Please answer when you "
        "can; if we do not hear from you, someone from the clinic will call you.",
    ),
    "red_flag_advice": MessageTemplate(
        "Please act on what you told us",
        "Hello $name, you told us of a warning sign after your procedure. Please call the clinic now. If "
        "you have a change in bladder or bowel control, or new weakness, go to emergency care now.",
    ),
    "not_candidate": MessageTemplate(
        "About your DVR referral",
        "Hello $name, after review, DVR is not the right treatment for you at this time. Your clinic will "
        "contact you about other options.",
    ),
    "pathway_closed": MessageTemplate(
        "About your DVR referral",
        "Hello $name, your DVR pathway has been closed. Please call the clinic if you have questions.",
    ),
}

STAFF_TEMPLATES: dict[str, MessageTemplate] = {
    "staff_attention": MessageTemplate(
        "Pathway $pathway_id needs attention",
        "Pathway $pathway_id needs a person: $reason.",
    ),
    "urgent_red_flags": MessageTemplate(
        "URGENT: red flags on pathway $pathway_id",
        # URGENT first in the text too: an SMS shows no subject.
        "URGENT: the patient of pathway $pathway_id reported red flags: $red_flags. Call the patient now, "
        "then record how it was handled (resolve-attention).",
    ),
    "clinician_decision_due": MessageTemplate(
        "Decision due on pathway $pathway_id",
        "A clinician's $action is due on pathway $pathway_id by $when.",
    ),
    "message_not_delivered": MessageTemplate(
        "A message on closed pathway $pathway_id was not delivered",
        "A message to the patient of closed pathway $pathway_id could not be delivered; see its outbox rows.",
    ),
}

KIND_LABELS = {"mri": "MRI", "exam": "physical exam", "block": "medial branch block", "dvr": "DVR procedure"}


class UnknownTemplateError(Exception):
    pass


def render(
    template: str, recipient: Recipient, params: dict[str, str], given_name: str | None
) -> tuple[str, str]:
    """(subject, body) of a message."""
    table = PATIENT_TEMPLATES if recipient == Recipient.PATIENT else STAFF_TEMPLATES
    if template not in table:
        raise UnknownTemplateError(f"no {recipient} template named {template!r}")
    values = {**params, "name": given_name or "there"}
    if "kind" in params:
        values["kind_label"] = KIND_LABELS.get(params["kind"], params["kind"])
    chosen = table[template]
    return Template(chosen.subject).safe_substitute(values), Template(chosen.body).safe_substitute(values)
