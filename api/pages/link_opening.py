"""Opening a patient's link: the token unsealed with the shared secret and its row looked up; a tampered or
unknown token is 404, an expired or revoked one 410, as a plain page in both languages that names no one."""

from datetime import UTC, datetime

from fastapi import Request
from fastapi.responses import Response

from api.pages.render import page
from db.patient_links import SECRET_PURPOSE, Link, find_link
from db.pool import Queryable
from db.signing_secrets import signing_secret
from domain.link_tokens import TokenProblem, unseal

_PROBLEMS = {
    # (status, English title, English text, Spanish title, Spanish text)
    TokenProblem.NOT_OURS: (
        404,
        "This link is not valid",
        "Please use the link in the latest message from your clinic, or call the clinic.",
        "Este enlace no es válido",
        "Use el enlace del último mensaje de su clínica, o llame a la clínica.",
    ),
    TokenProblem.EXPIRED: (
        410,
        "This link is no longer valid",
        "It has expired or been replaced. Please use the link in the latest message from your clinic, or "
        "call the clinic.",
        "Este enlace ya no es válido",
        "Ha caducado o se ha sustituido. Use el enlace del último mensaje de su clínica, o llame a la"
        " clínica.",
    ),
}


async def open_link(request: Request, pool: Queryable, token: str) -> Link | Response:
    """The link the token opens, or the plain page saying why it opens none."""
    state = request.app.state
    if getattr(state, "patient_link_secret", None) is None:
        state.patient_link_secret = await signing_secret(pool, SECRET_PURPOSE)
    now = datetime.now(UTC)
    opened = unseal(state.patient_link_secret, token, now)
    if isinstance(opened, TokenProblem):
        return _link_problem(opened)
    link = await find_link(pool, opened.link_id)
    if link is None:  # sealed with our secret but never stored: as good as forged
        return _link_problem(TokenProblem.NOT_OURS)
    if link.revoked_at is not None or link.expires_at <= now:
        return _link_problem(TokenProblem.EXPIRED)
    return link


def _link_problem(problem: TokenProblem) -> Response:
    status, title, english, title_es, spanish = _PROBLEMS[problem]
    return page(
        "link_problem.html",
        status,
        lang="en",
        title=title,
        english=english,
        title_es=title_es,
        spanish=spanish,
    )
