"""The fault suite (`python -m faults`): scenarios run against the real demo stack, each injecting one fault
(a worker or the whole stack killed, PostgreSQL unreachable, the SMS gateway and the SMTP server failing)
while synthetic pathways are driven through the API, then checking that nothing was lost or done twice.

Loopback only: the stack, its PostgreSQL, a fake SMS gateway and a real SMTP server (aiosmtpd) all listen on
127.0.0.1 (or a unix socket) in a temporary folder, and every process started is stopped at the end.
"""
