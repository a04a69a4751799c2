"""A change to the code a history is read as a view by must come with a new view version (api/read_copy.py
`_READ_AS`), or pathways at rest keep answering with copies read by the old code. This holds the two
together: it fails on any change to that code until the fingerprint below is renewed, as a reminder to
decide whether the version must move too."""

import hashlib
import inspect

from api import read_copy
from workflows import reading
from workflows.outcome_check_ins import OutcomeCheckInsWorkflow
from workflows.pathway_handlers import PathwayHandlers
from workflows.relief_check import ReliefCheckWorkflow

# (the version, the fingerprint of the code) as last decided
DECIDED = ("1:", "9c5b55c22e270a1d")


def _fingerprint() -> str:
    sources = [
        inspect.getsource(PathwayHandlers.view),
        inspect.getsource(ReliefCheckWorkflow.diary),
        inspect.getsource(OutcomeCheckInsWorkflow.check_ins),
        inspect.getsource(reading),
    ]
    return hashlib.sha256("\n".join(sources).encode()).hexdigest()[:16]


def test_the_view_version_was_decided_for_this_code() -> None:
    version, fingerprint = DECIDED
    assert read_copy.VIEW_VERSION.startswith(version)
    assert _fingerprint() == fingerprint, (
        "the code that reads a history as a view changed: if a history now reads as another view, bump"
        f" _READ_AS in api/read_copy.py; then set DECIDED here to"
        f" ({read_copy.VIEW_VERSION.split(':')[0] + ':'!r}, {_fingerprint()!r})"
    )
