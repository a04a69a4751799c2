"""What a webhook subscription may name: receivers' URLs and event types, each refusal with its reason."""

import pytest

from domain.webhook_events import EventType
from domain.webhook_receivers import event_types_problem, receiver_url_problem


@pytest.mark.parametrize(
    "url",
    [
        "https://ehr.clinic.example/hooks/dvr",
        "https://ehr.clinic.example:8443/hooks?token=abc",
        "https://[2001:db8::1]/hook",
        "HTTPS://EHR.CLINIC.EXAMPLE/",
    ],
)
def test_a_receivers_https_url_is_taken(url: str) -> None:
    assert receiver_url_problem(url, allow_http=False) is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://ehr.clinic.example/hook", "must use https"),
        ("ehr.clinic.example/hook", "absolute"),
        ("https:///hook", "absolute"),
        ("mailto:ops@clinic.example", "absolute"),
        ("https://ops:secret@ehr.clinic.example/hook", "user name or password"),
        ("https://ops@ehr.clinic.example/hook", "user name or password"),
        ("https://ehr.clinic.example:99999/hook", "not a valid URL"),
        ("https://[::1/hook", "not a valid URL"),
        ("https://ehr.clinic.example/\nhook", "control characters"),
        ("https://ehr.clinic.example/" + "a" * 2030, "longer than 2048"),
    ],
)
def test_a_url_no_receiver_should_have_is_refused_with_the_reason(url: str, reason: str) -> None:
    problem = receiver_url_problem(url, allow_http=False)
    assert problem is not None and reason in problem
    assert "secret" not in problem and "ehr.clinic" not in problem  # the URL is never repeated


def test_http_is_taken_where_allowed() -> None:
    assert receiver_url_problem("http://127.0.0.1:9000/hook", allow_http=True) is None


def test_event_types_name_known_types_each_once() -> None:
    assert event_types_problem([t.value for t in EventType]) is None
    assert event_types_problem([]) == "event_types must name at least one event type."
    assert "'pathway.Started' is not an event type" in (event_types_problem(["pathway.Started"]) or "")
    assert "more than once" in (event_types_problem(["pathway.closed", "pathway.closed"]) or "")
    assert len(event_types_problem(["x" * 5000]) or "") < 600
