"""Tests that start servers choose their ports so that nothing else takes them first: below the kernel's
ephemeral range (where connections and binds to port 0 take theirs), in a range of each pytest-xdist
process's own, and never the same port twice in a row."""

import os
import socket
from pathlib import Path

from tests.integration.processes import LOWEST_PORT, _ports_from_anywhere, free_port, port_range


def _ephemeral_low() -> int:
    return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])


def test_each_process_has_its_own_range_below_the_ephemeral_ports() -> None:
    ranges = [port_range(f"gw{i}") for i in range(5)] + [port_range(None)]
    ports = [set(r) for r in ranges]
    assert all(not a & b for i, a in enumerate(ports) for b in ports[i + 1 :])  # disjoint
    assert min(map(min, ranges)) == LOWEST_PORT and max(map(max, ranges)) < _ephemeral_low()


def test_free_ports_differ_lie_in_the_range_and_skip_a_port_in_use() -> None:
    first = free_port()
    with socket.socket() as taken:  # a listener on the next port of the range
        taken.bind(("127.0.0.1", first + 1))
        taken.listen()
        second = free_port()
    assert second != first and second != first + 1
    assert {first, second} <= set(port_range(os.environ.get("PYTEST_XDIST_WORKER")))


def test_two_processes_given_the_same_range_start_at_different_ports() -> None:
    starts = {next(_ports_from_anywhere(port_range(None))) for _ in range(20)}
    assert len(starts) > 1
