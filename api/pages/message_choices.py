"""The link page's "Messages from the clinic" section (templates/message_choices.html): the patient's consents
in force as ticked boxes, in a form of its own; and the pages that answer it."""

import uuid
from collections.abc import Mapping
from typing import Any

from fastapi.responses import RedirectResponse, Response

from api.pages.render import PAGE_HEADERS, page, texts
from domain.consents import ConsentCategory


def choices_action(token: str) -> str:
    return f"/p/{token}/consents"


def choices_form(token: str, consents: Mapping[ConsentCategory, bool]) -> dict[str, Any]:
    """What the section's template needs: each category's box ticked when granted, and a new answer id (a
    second submit of this form records nothing more)."""
    granted = {str(category): consents.get(category, True) for category in ConsentCategory}
    return {
        "action": choices_action(token),
        "answer_id": uuid.uuid4(),
        "granted": granted,
        "was_granted": sorted(c for c, on in granted.items() if on),
    }


def choices_saved(token: str, answer_id: uuid.UUID) -> Response:
    """The redirect (303) after a POST, to the confirmation: a reload then sends nothing again."""
    return RedirectResponse(
        f"{choices_action(token)}?saved={answer_id}", status_code=303, headers=PAGE_HEADERS
    )


def saved_page(token: str, language: str) -> Response:
    t = texts(language)
    return page(
        "message.html",
        lang=language,
        title=t["consents_saved_title"],
        paragraphs=[t["consents_saved"]],
        back={"href": f"/p/{token}", "text": t["change_back"]},
    )


def not_saved_page(token: str, language: str, consents: Mapping[ConsentCategory, bool]) -> Response:
    """A form the page never rendered: nothing recorded, the section shown again as it stands."""
    t = texts(language)
    return page(
        "message.html",
        400,
        lang=language,
        t=t,
        title=t["consents_title"],
        paragraphs=[t["consents_not_saved"]],
        consents=choices_form(token, consents),
    )
