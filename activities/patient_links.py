"""The link a message that asks for an answer carries: `{public_url}/p/{token}`, made at send time.

The workflow never sees it (a bearer credential has no place in history, DESIGN.md §6): the notification
activity asks for it while it renders the message. A pathway keeps one link while it has at least half its
lifetime left (db/patient_links.py), so the messages of a day carry the same link.
"""

from datetime import timedelta

from db.patient_links import SECRET_PURPOSE, link_for_pathway
from db.pool import Queryable
from db.signing_secrets import signing_secret
from domain.link_tokens import seal

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
DEFAULT_LIFETIME = timedelta(days=30)


class PatientLinks:
    """Makes links on `public_url` (where patients reach the API), each good for `lifetime`."""

    def __init__(self, public_url: str = DEFAULT_PUBLIC_URL, lifetime: timedelta = DEFAULT_LIFETIME) -> None:
        self._public_url = public_url.rstrip("/")
        self._lifetime = lifetime
        self._secret: bytes | None = None

    async def url_for(self, conn: Queryable, pathway_id: str, patient_ref: str) -> str:
        if self._secret is None:  # shared by every process and never changes: read once
            self._secret = await signing_secret(conn, SECRET_PURPOSE)
        link_id, expires_at = await link_for_pathway(conn, pathway_id, patient_ref, self._lifetime)
        return f"{self._public_url}/p/{seal(self._secret, link_id, expires_at)}"
