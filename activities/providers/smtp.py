"""E-mail over SMTP (aiosmtplib): one connection per message, STARTTLS before authenticating.

The server's certificate is always verified, with its name: against the system's CAs, or against those of
`ca_file` instead (a relay whose certificate comes from the clinic's own CA). There is no way to skip it.

Each message carries a Message-ID derived from its outbox key, the same on every attempt: SMTP offers no way
to ask a server whether an earlier attempt got through, so a retry after a lost answer sends again, and the
copy is recognisable as the same message (mail clients and many servers fold duplicate Message-IDs).

Failures: a 5xx answer (recipient refused, authentication refused, message refused, 530 for mail sent before
STARTTLS or a login) is a refusal for good and is not retried; of those, a recipient refused because the
mailbox itself cannot take mail (`_mailbox_unusable`) makes the address unreachable, so the patient's other
channel is tried and the address is not used again; a 4xx answer (greylisting, a full queue), a
refused connection, a timeout or a dropped connection is retried. A certificate that fails verification is,
like refused credentials, a configuration problem every retry would meet again (an untrusted CA, a wrong
name, an expired certificate): a refusal for good, and nothing was sent (the handshake precedes the
envelope). Error texts carry the SMTP reply code, never the server's words (they may quote the address);
a certificate failure's carries OpenSSL's reason, which names the server at most.
"""

import hashlib
import re
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path

import aiosmtplib
from pydantic import SecretStr

from activities.providers.base import MessageRejected, OutboundMessage, ProviderError

DEFAULT_TIMEOUT = 10.0
"""Seconds for each step of the conversation: well inside the activity's 30 s."""


def message_id(key: str, sender: str) -> str:
    """The Message-ID of the message with outbox key `key`: a digest (the key names the pathway, which the
    recipient has no need to see) at the sender's domain."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


class SmtpProvider:
    name = "smtp"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: SecretStr | None = None,
        starttls: bool = True,
        ca_file: Path | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._host, self._port, self._sender = host, port, sender
        self._username, self._password = username, password
        self._starttls, self._timeout = starttls, timeout
        # Ours rather than the library's default, so verification (certificate and name) is on whatever
        # aiosmtplib's defaults become. Built once: an unreadable CA file stops the worker at start.
        self._tls_context = ssl.create_default_context(cafile=ca_file)

    def __repr__(self) -> str:  # never the password
        return f"SmtpProvider(host={self._host!r}, port={self._port})"

    def compose(self, message: OutboundMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self._sender
        email["To"] = message.address
        email["Subject"] = message.subject
        email["Date"] = formatdate(usegmt=True)
        email["Message-ID"] = message_id(message.key, self._sender)
        email.set_content(message.body)
        return email

    async def send(self, message: OutboundMessage) -> str:
        email = self.compose(message)
        try:
            await aiosmtplib.send(
                email,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password.get_secret_value() if self._password else None,
                start_tls=self._starttls,
                tls_context=self._tls_context,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as err:
            codes = sorted({refused.code for refused in err.recipients})
            unusable = bool(err.recipients) and all(map(_mailbox_unusable, err.recipients))
            raise _answered(codes[-1] if codes else 550, "recipient refused", unreachable=unusable) from None
        except aiosmtplib.SMTPAuthenticationError as err:
            raise _answered(err.code, "authentication refused") from None
        except aiosmtplib.SMTPResponseException as err:
            # 530: the server takes no mail before STARTTLS (RFC 3207) or a login (RFC 4954).
            what = "refused: STARTTLS or login required first" if err.code == 530 else "message refused"
            raise _answered(err.code, what) from None
        except ssl.SSLCertVerificationError as err:  # before OSError, which it is
            # OpenSSL's reason (unknown issuer, name mismatch, expired) names the server, never a recipient.
            raise MessageRejected(f"smtp server certificate not trusted: {err.verify_message}") from None
        except aiosmtplib.SMTPConnectError:
            raise ProviderError("smtp server unreachable") from None
        except (aiosmtplib.SMTPTimeoutError, aiosmtplib.SMTPServerDisconnected):
            raise ProviderError("smtp connection lost", outcome_unknown=True) from None
        except aiosmtplib.SMTPException as err:  # e.g. STARTTLS required but not offered
            raise ProviderError(f"smtp failed ({type(err).__name__})") from None
        except OSError:
            raise ProviderError("smtp server unreachable") from None
        # `from None` above: the library's messages may quote the address.
        return str(email["Message-ID"])

    async def find_sent(
        self, message: OutboundMessage, since: datetime, taken: frozenset[str] = frozenset()
    ) -> str | None:
        return None  # SMTP cannot be asked; the resend carries the same Message-ID


# RCPT answers that the mailbox cannot take mail, for good (RFC 5321 4.2.2): 550 no such mailbox, or
# unavailable; 551 user not local; 553 mailbox name not allowed. Not 552 (storage exceeded: a full mailbox
# empties, and on RCPT clients take it as temporary, RFC 5321 4.5.3.1.10) nor 554 (no cause named).
_MAILBOX_UNUSABLE_CODES = frozenset({550, 551, 553})
_ENHANCED_CODE = re.compile(r"5\.(\d{1,3})\.\d{1,3}\b")


def _mailbox_unusable(refused: aiosmtplib.SMTPRecipientRefused) -> bool:
    """Whether the server refused the recipient because the address itself is unusable. A 5.7.x enhanced code
    (RFC 3463: security or policy, e.g. relaying denied, the sender not authorised) blames our relay or our
    sender, not the address: every patient's address would meet it, so none is given up on for it."""
    if refused.code not in _MAILBOX_UNUSABLE_CODES:
        return False
    enhanced = _ENHANCED_CODE.match(refused.message.lstrip())
    return enhanced is None or enhanced.group(1) != "7"


def _answered(code: int, what: str, *, unreachable: bool = False) -> ProviderError:
    if code >= 500:
        return MessageRejected(f"smtp {what} ({code})", unreachable=unreachable)
    return ProviderError(f"smtp {what} for now ({code})")
