"""What the patient is told: the texts are in files, in English and Spanish, for every message a workflow
sends, with the parameters it passes; SMS texts fit one segment where they can; the instructions are
complete in the e-mail versions."""

import ast
import re
from pathlib import Path

import pytest

from activities.messages import (
    ANSWER_TEMPLATES,
    LANGUAGES,
    LINK,
    PATIENT_PARAMS,
    STAFF_PARAMS,
    STAFF_SMS,
    TEMPLATES_DIR,
    TemplateError,
    load_catalog,
    render,
    sms_segments,
)
from domain.notifications import Channel, Recipient

WORKFLOWS = Path(__file__).parents[2] / "workflows"

# Typical values: a long-ish first name, a clinic's name, a weekday appointment as domain/reminders.py
# `local_text` writes it in the patient's time zone.
NAME = "Alexandra"
CLINIC = "Phoenix Spine & Joint"
ADDRESS = "1234 N Central Ave, Phoenix, AZ 85004"
TYPICAL = {
    "kind": "block",
    "when": "Tue 25 Nov 09:30 MST",
    "anesthesia": "twilight sedation",
    "interval": "12 months",
}
# A patient's link as activities/patient_links.py makes it: a public address and a 43-character token.
LINK_URL = "https://dvr.clinic.example/p/" + "T" * 43

# SMS texts that take more than one segment, and how many at most: each carries instructions or questions a
# patient with no e-mail must still get whole (the red flags and what to do about them, the preparation for
# a procedure, where to go). Every other SMS fits one segment (160 GSM-7 characters: the Spanish ones avoid
# á, í, ó, ú, which would make the limit 70). The booking confirmation is the first text a patient gets, so
# it carries both the clinic's address and how to stop the texts: the two do not fit in one segment.
LONGER_SMS = {
    ("en", "appointment_booked"): 2,
    ("en", "block_preparation"): 2,
    ("en", "preop_instructions"): 2,
    ("en", "follow_up_checkin"): 3,
    ("en", "outcome_check_in"): 4,
    ("es", "appointment_booked"): 2,
    ("es", "block_preparation"): 2,
    ("es", "preop_instructions"): 2,
    ("es", "follow_up_checkin"): 4,
    # UCS-2: the scale's anchors ("muchísimo mejor", as the Spanish PGIC has them) need their accents.
    ("es", "outcome_check_in"): 10,
}

# The messages about an appointment the patient comes to: each names the clinic and its address.
WHERE_TO_GO = ["appointment_booked", "appointment_reminder", "block_preparation", "preop_instructions"]

RED_FLAG_PHRASES = {
    # One phrase per red flag of domain/results.py RedFlag, and what to do.
    "en": (
        "weakness",
        "numbness",
        "bladder or bowel",
        "fever",
        "wound drainage or redness",
        "severe pain",
        "emergency care",
        "call the clinic",
    ),
    "es": (
        "debilidad",
        "entumecimiento",
        "vejiga o el intestino",
        "fiebre",
        "herida",
        "dolor intenso",
        "urgencias",
        "llame a",
    ),
}


def _calls() -> list[tuple[Recipient, str, frozenset[str], str]]:
    """(recipient, template, parameter names, where) of every `to_patient`/`to_staff`/`to_staff_urgent` call
    in the workflows. A template given by a variable is every string its assignments in that function can
    take; parameters must be a dict literal (or absent), so that this test can read them."""
    recipients = {
        "to_patient": Recipient.PATIENT,
        "to_staff": Recipient.STAFF,
        "to_staff_urgent": Recipient.STAFF_URGENT,
    }
    found: list[tuple[Recipient, str, frozenset[str], str]] = []
    for path in sorted(WORKFLOWS.glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            assigned: dict[str, list[str]] = {}
            for node in ast.walk(function):
                if isinstance(node, ast.Assign):
                    strings = [
                        c.value
                        for c in ast.walk(node.value)
                        if isinstance(c, ast.Constant) and isinstance(c.value, str)
                    ]
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            assigned.setdefault(target.id, []).extend(strings)
            for node in ast.walk(function):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in recipients
                ):
                    continue
                where = f"{path.name}:{node.lineno}"
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    names = [first.value]
                else:
                    assert isinstance(first, ast.Name), f"{where}: name the template plainly"
                    names = assigned[first.id]
                params: frozenset[str] = frozenset()
                if len(node.args) > 2:
                    given = node.args[2]
                    assert isinstance(given, ast.Dict), f"{where}: pass the parameters as a dict literal"
                    keys = [k.value for k in given.keys if isinstance(k, ast.Constant)]
                    assert len(keys) == len(given.keys), f"{where}: parameter names must be literal"
                    params = frozenset(str(k) for k in keys)
                found.extend((recipients[node.func.attr], name, params, where) for name in names)
    return found


CALLS = _calls()


def test_the_workflows_send_templates_with_the_parameters_declared_for_them() -> None:
    assert len(CALLS) >= 15  # the reading of the workflows found them
    for recipient, template, params, where in CALLS:
        table = PATIENT_PARAMS if recipient == Recipient.PATIENT else STAFF_PARAMS
        assert template in table, f"{where}: {template!r} has no texts"
        assert params == table[template], f"{where}: {template!r} is passed {sorted(params)}"
        if recipient == Recipient.STAFF_URGENT:
            assert template in STAFF_SMS, f"{where}: {template!r} may go to the on-call phone"


def test_the_link_is_the_activitys_to_give_never_a_workflows() -> None:
    assert set(PATIENT_PARAMS) >= ANSWER_TEMPLATES
    assert all(LINK not in params for params in PATIENT_PARAMS.values())
    for _, template, params, where in CALLS:
        assert LINK not in params, f"{where}: {template!r} is passed the link; the activity adds it"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("template", sorted(PATIENT_PARAMS))
def test_every_message_that_asks_for_an_answer_gives_the_link(
    template: str, channel: Channel, language: str
) -> None:
    body = _render(template, channel, language)[1]
    assert (LINK_URL in body) == (template in ANSWER_TEMPLATES)
    if template in ANSWER_TEMPLATES:
        # Where a phone would take trailing punctuation into the link, there is none.
        assert re.search(re.escape(LINK_URL) + r"(\s|$)", body), body


def test_every_template_is_one_a_workflow_sends() -> None:
    sent = {(r == Recipient.PATIENT, t) for r, t, _, _ in CALLS}
    assert {(True, t) for t in PATIENT_PARAMS} | {(False, t) for t in STAFF_PARAMS} == sent


def test_the_files_load() -> None:
    catalog = load_catalog()
    assert len(catalog.patient) == len(PATIENT_PARAMS) * len(LANGUAGES) * len(Channel)


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "templates"
    for source in TEMPLATES_DIR.rglob("*"):
        if source.is_file():
            target = root / source.relative_to(TEMPLATES_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    return root


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda root: (root / "patient/es/sms/diary_prompt.txt").unlink(), "is missing"),
        (lambda root: (root / "patient/en/sms/diary_prompt.txt").write_text("$pain? $link"), "['pain']"),
        (lambda root: (root / "patient/en/email/diary_nudge.txt").write_text("Hi $name"), "Subject:"),
        (lambda root: (root / "patient/en/sms/unused.txt").write_text("Hi"), "['unused']"),
        (lambda root: (root / "patient/en/sms/diary_nudge.txt").write_text("Costs $5 $link"), "'$$'"),
        (lambda root: (root / "patient/es/email/return_check.txt").write_text("Subject: x\n\n"), "['link']"),
        (lambda root: (root / "patient/en/sms/not_candidate.txt").write_text("Hi $link"), "['link']"),
    ],
)
def test_a_mistaken_edit_is_refused_when_the_files_are_read(
    tmp_path: Path, change: object, error: str
) -> None:
    root = _copy(tmp_path)
    change(root)  # type: ignore[operator]
    with pytest.raises(TemplateError, match=re.escape(error)):
        load_catalog(root)


def _render(template: str, channel: Channel, language: str) -> tuple[str, str]:
    params = {p: TYPICAL[p] for p in PATIENT_PARAMS[template]}
    return render(
        template,
        Recipient.PATIENT,
        params,
        NAME,
        channel=channel,
        language=language,
        clinic=CLINIC,
        clinic_address=ADDRESS,
        link=LINK_URL if template in ANSWER_TEMPLATES else None,
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", sorted(PATIENT_PARAMS))
def test_an_sms_fits_one_segment_where_it_can(template: str, language: str) -> None:
    subject, body = _render(template, Channel.SMS, language)
    assert subject == ""
    assert "\n" not in body and "$" not in body
    encoding, segments = sms_segments(body)
    allowed = LONGER_SMS.get((language, template), 1)
    assert segments <= allowed, f"{encoding}, {len(body)} characters: {body}"
    if allowed == 1:
        assert encoding == "GSM-7", body


def test_the_longer_sms_list_holds_only_texts_that_need_it() -> None:
    for (language, template), allowed in LONGER_SMS.items():
        assert sms_segments(_render(template, Channel.SMS, language)[1])[1] > 1
        assert allowed > 1


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("template", sorted(PATIENT_PARAMS))
def test_every_placeholder_is_filled_and_no_phi_but_the_first_name(
    template: str, channel: Channel, language: str
) -> None:
    subject, body = _render(template, channel, language)
    assert "$" not in subject + body
    assert body.startswith("Hello Alexandra," if language == "en" else "Hola Alexandra")
    assert "Example" not in body  # (a family name is never given to render)
    if channel == Channel.EMAIL:
        assert subject and body.rstrip().endswith(CLINIC)  # signed by the clinic


def test_sms_segments_count_gsm7_and_ucs2() -> None:
    assert sms_segments("a" * 160) == ("GSM-7", 1)
    assert sms_segments("a" * 161) == ("GSM-7", 2)
    assert sms_segments("€" * 80) == ("GSM-7", 1)  # an extended character counts two
    assert sms_segments("é ñ ü ¿ ¡" + "a" * 151) == ("GSM-7", 1)
    assert sms_segments("á" * 70) == ("UCS-2", 1)
    assert sms_segments("á" * 71) == ("UCS-2", 2)


def _email(template: str, language: str = "en", **params: str) -> str:
    return render(
        template,
        Recipient.PATIENT,
        params,
        "Ada",
        language=language,
        clinic=CLINIC,
        clinic_address=ADDRESS,
    )[1].lower()


def test_block_preparation_is_a_diagnostic_blocks() -> None:
    text = _email("block_preparation", when="Mon 02 Dec 09:00 MST")
    for instruction in (
        "usual pain",
        "avoid pain medication for the hours of the pain diary",
        "usual activities that bring your pain on",
        "answer each diary message",
        "driver",
        ADDRESS.lower(),
    ):
        assert instruction in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_preop_instructions_say_what_a_dvr_needs(language: str) -> None:
    text = _email(
        "preop_instructions", language, when="Mon 02 Dec 09:00 MST", anesthesia="general anesthesia"
    )
    phrases = {
        "en": ("do not eat or drink for 8 hours", "anticoagulants", "as the clinic has instructed", "drive"),
        "es": ("no coma ni beba", "anticoagulantes", "como le haya indicado la clínica", "conducir"),
    }
    for phrase in (*phrases[language], ADDRESS.lower(), CLINIC.lower()):
        assert phrase in text
    assert ("anestesia general" if language == "es" else "general anesthesia") in text


@pytest.mark.parametrize("template", WHERE_TO_GO)
@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_message_that_sends_the_patient_somewhere_says_where(
    template: str, channel: Channel, language: str
) -> None:
    # By SMS too: a patient without e-mail has only the text to find the clinic by.
    assert f"{CLINIC}, {ADDRESS}" in _render(template, channel, language)[1]


@pytest.mark.parametrize("template", ["follow_up_checkin", "outcome_check_in"])
@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_check_ins_name_every_red_flag_and_what_to_do(
    template: str, channel: Channel, language: str
) -> None:
    text = _render(template, channel, language)[1].lower()
    for phrase in RED_FLAG_PHRASES[language]:
        assert phrase in text


def test_spanish_texts_translate_the_values_workflows_pass_in_english() -> None:
    body = _render("appointment_booked", Channel.SMS, "es")[1]
    assert "bloqueo de rama medial" in body and "martes 25 nov 09:30 MST" in body
    assert "(12 meses)" in _render("check_in_reminder", Channel.EMAIL, "es")[1]
    assert "12 meses" in _render("outcome_check_in", Channel.EMAIL, "es")[1]


def test_an_unknown_language_falls_back_to_english() -> None:
    assert _render("diary_prompt", Channel.SMS, "fr") == _render("diary_prompt", Channel.SMS, "en")


@pytest.mark.parametrize("channel", list(Channel))
def test_staff_texts_name_the_pathway_not_the_patient(channel: Channel) -> None:
    for template, params in STAFF_PARAMS.items():
        values = {p: f"<{p}>" for p in params}
        subject, body = render(template, Recipient.STAFF, values, None, channel=channel)
        assert "<pathway_id>" in subject + body and "$" not in subject + body
    subject, body = render(
        "urgent_red_flags", Recipient.STAFF_URGENT, {"pathway_id": "p", "red_flags": "fever"}, None
    )
    assert subject.startswith("URGENT: ") and body.startswith("URGENT: ")
