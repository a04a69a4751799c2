"""What a webhook subscription may name: receivers' URLs and event types, each refusal with its reason."""

from ipaddress import IPv4Network, IPv6Network

import pytest

from domain.webhook_events import EventType
from domain.webhook_receivers import event_types_problem, receiver_url_problem


@pytest.mark.parametrize(
    "url",
    [
        "https://ehr.clinic.example/hooks/dvr",
        "https://ehr.clinic.example:8443/hooks?token=abc",
        "https://[2606:4700::1111]/hook",
        "https://93.184.215.14/hook",
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
        ("https://ehr.clinic.example/\ud800", "lone surrogates"),
        ("https://xn--a.example/hook", "not a valid URL"),
        ("https://ehr.clinic.example/" + "a" * 2030, "longer than 2048"),
    ],
)
def test_a_url_no_receiver_should_have_is_refused_with_the_reason(url: str, reason: str) -> None:
    problem = receiver_url_problem(url, allow_http=False)
    assert problem is not None and reason in problem
    assert "secret" not in problem and "ehr.clinic" not in problem  # the URL is never repeated


def test_http_is_taken_where_allowed() -> None:
    assert receiver_url_problem("http://ehr.clinic.example:9000/hook", allow_http=True) is None


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "[::1]",
        "localhost",
        "LocalHost.",
        "169.254.169.254",
        "metadata.google.internal",
        "0.0.0.0",
        "2130706433",
        "10.1.2.3",
        "192.168.0.7",
        "[fe80::1]",
        "[::ffff:127.0.0.1]",
        "224.0.0.1",
        "printer.local",
        # The shorthand and hex forms a resolver reads as IPv4 addresses (inet_aton).
        "127.1",
        "0x7f.1",
        "0x7f000001",
        "169.254.43518",
        # IPv6 addresses that carry an IPv4 one: IPv4-compatible, NAT64 (to the metadata service), 6to4.
        "[::127.0.0.1]",
        "[::a9fe:a9fe]",
        "[64:ff9b::a9fe:a9fe]",
        "[2002:7f00:1::1]",
    ],
)
def test_a_receiver_on_this_machine_or_a_private_network_is_refused(host: str) -> None:
    """So that a subscription cannot make the orchestrator probe what sits beside it."""
    problem = receiver_url_problem(f"https://{host}/hook", allow_http=False)
    assert problem is not None and "host" in problem


def test_a_private_network_the_clinic_allows_is_taken() -> None:
    ehr: list[IPv4Network | IPv6Network] = [IPv4Network("10.20.0.0/16"), IPv6Network("fd00:1::/64")]
    assert receiver_url_problem("https://10.20.3.4/hook", allow_http=False, allowed=ehr) is None
    assert receiver_url_problem("https://[fd00:1::5]/hook", allow_http=False, allowed=ehr) is None
    assert receiver_url_problem("https://10.21.3.4/hook", allow_http=False, allowed=ehr) is not None
    loopback: list[IPv4Network | IPv6Network] = [IPv4Network("127.0.0.0/8")]
    assert receiver_url_problem("http://127.0.0.1:9000/hook", allow_http=True, allowed=loopback) is None


def test_event_types_name_known_types_each_once() -> None:
    assert event_types_problem([t.value for t in EventType]) is None
    assert event_types_problem([]) == "event_types must name at least one event type."
    assert "event_types[1] is not an event type" in (
        event_types_problem(["pathway.closed", "pathway.Started"]) or ""
    )
    assert "token" not in (event_types_problem(["https://x.example/?token=SECRET"]) or "")  # never echoed
    assert "more than once" in (event_types_problem(["pathway.closed", "pathway.closed"]) or "")
    assert len(event_types_problem(["x" * 5000]) or "") < 600
