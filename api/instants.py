"""An instant a query parameter gives: RFC 3339 text with its offset, and nothing else pydantic would take for
one (a bare number is a Unix time to it, which no caller means)."""

import re
from typing import Annotated

from pydantic import AwareDatetime, BeforeValidator

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}")


def _rfc3339_text(value: object) -> object:
    if isinstance(value, str) and _RFC3339.match(value):
        return value
    raise ValueError("not an RFC 3339 instant with its offset, such as 2026-01-01T00:00:00Z")


Instant = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]
