"""Message texts, read from files under activities/templates (that folder's README says how to edit them).

Parameters from workflows carry no PHI; the patient's first name, the clinic's name and address, and for a
message that asks for an answer the patient's link, are filled in at send time. The files are read once,
when this module is imported (so at worker start), and checked then: every template named in `PATIENT_PARAMS`
and `STAFF_PARAMS` exists in every language and on every channel it needs, uses only the placeholders it may,
and gives the link where it asks for an answer (`TemplateError` otherwise, so a mistaken edit stops the
worker instead of reaching a patient). tests/unit/test_message_texts.py checks those tables against the
workflows' calls.

Layout: `patient/{language}/{channel}/{template}.txt`, `staff/en/{channel}/{template}.txt`, and a
`patient/{language}/words.toml` of the words filled in for the values workflows pass in English. An e-mail
file starts with a `Subject:` line and a blank line; the rest is its body, paragraphs apart by a blank line,
each paragraph and '- ' list item sent as one line (so a mail app wraps it to the screen). An SMS file is its
body only, sent as one line. Either may be wrapped in the file as is convenient.
"""

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from string import Template

from domain.notifications import Channel, Recipient

TEMPLATES_DIR = Path(__file__).parent / "templates"

LANGUAGES = ("en", "es")
"""The languages patient messages are written in; the first is the fallback."""
DEFAULT_LANGUAGE = LANGUAGES[0]

PATIENT_PARAMS: dict[str, frozenset[str]] = {
    "appointment_booked": frozenset({"kind", "when"}),
    "appointment_reminder": frozenset({"kind", "when"}),
    "block_preparation": frozenset({"when"}),
    "preop_instructions": frozenset({"when", "anesthesia"}),
    "diary_prompt": frozenset(),
    "diary_nudge": frozenset(),
    "return_check": frozenset(),
    "follow_up_checkin": frozenset(),
    "outcome_check_in": frozenset({"interval"}),
    "check_in_reminder": frozenset({"interval"}),
    "red_flag_advice": frozenset(),
    "not_candidate": frozenset(),
    "pathway_closed": frozenset(),
}
"""Each patient template and the parameters workflows pass it."""

ANSWER_TEMPLATES = frozenset(
    {
        "diary_prompt",
        "diary_nudge",
        "return_check",
        "follow_up_checkin",
        "outcome_check_in",
        "check_in_reminder",
    }
)
"""Patient templates that ask for an answer: each must give `$link`, the patient's link page, which the
notification activity fills in at send time (activities/patient_links.py); workflows never pass it."""

LINK = "link"

PATIENT_VALUES = frozenset({"name", "clinic", "clinic_address"})
"""Filled in at send time for every patient template: the first name, the clinic's name and address."""

DERIVED = {"kind": "kind_label"}
"""A parameter that brings a placeholder of its own: `kind` (mri) is shown as `kind_label` (MRI)."""

STAFF_PARAMS: dict[str, frozenset[str]] = {
    "staff_attention": frozenset({"pathway_id", "reason"}),
    "urgent_red_flags": frozenset({"pathway_id", "red_flags"}),
    "clinician_decision_due": frozenset({"pathway_id", "action", "when"}),
    "message_not_delivered": frozenset({"pathway_id"}),
}
"""Each staff template and the parameters workflows pass it. Staff texts are in English."""

STAFF_SMS = frozenset({"urgent_red_flags"})
"""Staff templates that may go by SMS (the urgent channel may be a phone); the rest go by e-mail only."""


class TemplateError(Exception):
    """A template file is missing, malformed, or uses a placeholder its template is not given."""


class UnknownTemplateError(Exception):
    pass


@dataclass(frozen=True)
class MessageTemplate:
    subject: str
    """Empty for an SMS."""
    body: str


@dataclass(frozen=True)
class Words:
    """One language's words for the values workflows pass in English (domain/reminders.py `local_text`'s
    weekday and month, appointment kinds, anaesthesia, intervals), and for what is unknown."""

    fallback_name: str
    clinic_unknown: str
    clinic_address_unknown: str
    when_format: str
    values: dict[str, dict[str, str]]

    def translate(self, param: str, value: str) -> str:
        if param == "when":
            return self._when(value)
        return self.values.get(param, {}).get(value, value)

    def _when(self, value: str) -> str:
        matched = _LOCAL_TEXT.match(value)
        if matched is None:
            return value
        parts = matched.groupdict()
        parts["weekday"] = self.values.get("weekday", {}).get(parts["weekday"], parts["weekday"])
        parts["month"] = self.values.get("month", {}).get(parts["month"], parts["month"])
        return Template(self.when_format).safe_substitute(parts)


# domain/reminders.py `local_text`: 'Tue 25 Nov 09:30 MST'.
_LOCAL_TEXT = re.compile(
    r"^(?P<weekday>[A-Z][a-z]{2}) (?P<day>\d{2}) (?P<month>[A-Z][a-z]{2})"
    r" (?P<time>\d{2}:\d{2}) (?P<zone>\S+)$"
)


@dataclass(frozen=True)
class Catalog:
    patient: dict[tuple[str, Channel, str], MessageTemplate]
    """(language, channel, template) -> text."""
    staff: dict[tuple[Channel, str], MessageTemplate]
    words: dict[str, Words]


def _read(path: Path, channel: Channel) -> MessageTemplate:
    text = path.read_text(encoding="utf-8")
    if channel == Channel.SMS:
        body = " ".join(line.strip() for line in text.strip().splitlines() if line.strip())
        return MessageTemplate("", body)
    first, _, rest = text.partition("\n")
    if not first.startswith("Subject:") or not rest.startswith("\n"):
        raise TemplateError(f"{path}: an e-mail template starts with a 'Subject:' line, then a blank line")
    return MessageTemplate(first.removeprefix("Subject:").strip(), _unwrap(rest))


def _unwrap(text: str) -> str:
    """An e-mail body as a mail app wraps it best: one line per paragraph and per '- ' list item (the
    file's line breaks within them joined with a space), paragraphs apart by a blank line."""
    paragraphs = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        lines: list[str] = []
        for line in paragraph.splitlines():
            line = line.strip()
            if lines and not line.startswith("- "):
                lines[-1] += " " + line
            else:
                lines.append(line)
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs) + "\n"


def _check_placeholders(
    path: Path, text: MessageTemplate, allowed: frozenset[str], required: frozenset[str] = frozenset()
) -> None:
    for part in (text.subject, text.body):
        template = Template(part)
        if not template.is_valid():
            raise TemplateError(f"{path}: a '$' that is not a placeholder (write '$$' for a dollar sign)")
        unknown = set(template.get_identifiers()) - allowed
        if unknown:
            raise TemplateError(
                f"{path}: placeholders {sorted(unknown)} are not given; it may use {sorted(allowed)}"
            )
    missing = required - set(Template(text.subject + text.body).get_identifiers())
    if missing:
        raise TemplateError(f"{path}: a message that asks for an answer must give {sorted(missing)}")


def allowed_placeholders(recipient: Recipient, template: str) -> frozenset[str]:
    """The placeholders a template may use: its parameters, what they bring, and for a patient the values
    filled in at send time."""
    params = PATIENT_PARAMS[template] if recipient == Recipient.PATIENT else STAFF_PARAMS[template]
    derived = {DERIVED[p] for p in params if p in DERIVED}
    extra = PATIENT_VALUES if recipient == Recipient.PATIENT else frozenset()
    return params | derived | extra | required_placeholders(recipient, template)


def required_placeholders(recipient: Recipient, template: str) -> frozenset[str]:
    """The placeholders a template must use: the link, in a patient's message that asks for an answer."""
    asks = recipient == Recipient.PATIENT and template in ANSWER_TEMPLATES
    return frozenset({LINK}) if asks else frozenset()


def _words(path: Path) -> Words:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return Words(
            fallback_name=data.pop("fallback_name"),
            clinic_unknown=data.pop("clinic_unknown"),
            clinic_address_unknown=data.pop("clinic_address_unknown"),
            when_format=data.pop("when_format"),
            values={k: dict(v) for k, v in data.items()},
        )
    except (OSError, tomllib.TOMLDecodeError, KeyError) as err:
        raise TemplateError(f"{path}: {err!r}") from err


def load_catalog(root: Path = TEMPLATES_DIR) -> Catalog:
    """Every template and word list under `root`, checked; raises TemplateError naming the file at fault."""
    patient: dict[tuple[str, Channel, str], MessageTemplate] = {}
    staff: dict[tuple[Channel, str], MessageTemplate] = {}
    words: dict[str, Words] = {}

    def read(path: Path, channel: Channel, recipient: Recipient, template: str) -> MessageTemplate:
        if not path.is_file():
            raise TemplateError(f"{path} is missing")
        text = _read(path, channel)
        _check_placeholders(
            path,
            text,
            allowed_placeholders(recipient, template),
            required_placeholders(recipient, template),
        )
        return text

    for language in LANGUAGES:
        words[language] = _words(root / "patient" / language / "words.toml")
        for channel in Channel:
            folder = root / "patient" / language / channel.value
            for template in PATIENT_PARAMS:
                path = folder / f"{template}.txt"
                patient[language, channel, template] = read(path, channel, Recipient.PATIENT, template)
            strays = {p.stem for p in folder.glob("*.txt")} - set(PATIENT_PARAMS)
            if strays:
                raise TemplateError(f"{folder}: {sorted(strays)} are not templates any workflow sends")
    for template in STAFF_PARAMS:
        for channel in (Channel.EMAIL, Channel.SMS) if template in STAFF_SMS else (Channel.EMAIL,):
            path = root / "staff" / "en" / channel.value / f"{template}.txt"
            staff[channel, template] = read(path, channel, Recipient.STAFF, template)
    return Catalog(patient=patient, staff=staff, words=words)


CATALOG = load_catalog()


def render(
    template: str,
    recipient: Recipient,
    params: dict[str, str],
    given_name: str | None,
    *,
    channel: Channel = Channel.EMAIL,
    language: str = DEFAULT_LANGUAGE,
    clinic: str | None = None,
    clinic_address: str | None = None,
    link: str | None = None,
    catalog: Catalog = CATALOG,
) -> tuple[str, str]:
    """(subject, body) of a message on `channel`; a patient's in `language` (an unknown one: English). A
    staff template with no SMS text goes by SMS as its e-mail text. A message that asks for an answer
    (`ANSWER_TEMPLATES`) needs the patient's `link`."""
    if recipient != Recipient.PATIENT:
        if template not in STAFF_PARAMS:
            raise UnknownTemplateError(f"no {recipient} template named {template!r}")
        chosen = catalog.staff.get((channel, template)) or catalog.staff[Channel.EMAIL, template]
        return _fill(chosen, dict(params))
    if template not in PATIENT_PARAMS:
        raise UnknownTemplateError(f"no {recipient} template named {template!r}")
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    words = catalog.words[language]
    values = {name: words.translate(name, value) for name, value in params.items()}
    for param, shown in DERIVED.items():
        if param in params:
            values[shown] = words.translate(shown, params[param])
    values["name"] = given_name or words.fallback_name
    values["clinic"] = clinic or words.clinic_unknown
    values["clinic_address"] = clinic_address or words.clinic_address_unknown
    if template in ANSWER_TEMPLATES:
        if link is None:
            raise ValueError(f"{template} asks for an answer: it needs the patient's link")
        values[LINK] = link
    return _fill(catalog.patient[language, channel, template], values)


def _fill(chosen: MessageTemplate, values: dict[str, str]) -> tuple[str, str]:
    return Template(chosen.subject).safe_substitute(values), Template(chosen.body).safe_substitute(values)


_GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€\f")


def sms_segments(text: str) -> tuple[str, int]:
    """The encoding an SMS of `text` needs ('GSM-7' or 'UCS-2') and how many segments it takes: one holds 160
    GSM-7 characters (an extended one, such as '€', counts two) or 70 UCS-2 ones; a longer text goes in
    segments of 153 or 67."""
    if all(c in _GSM7_BASIC or c in _GSM7_EXTENDED for c in text):
        units = sum(2 if c in _GSM7_EXTENDED else 1 for c in text)
        return "GSM-7", 1 if units <= 160 else -(-units // 153)
    units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)
    return "UCS-2", 1 if units <= 70 else -(-units // 67)
