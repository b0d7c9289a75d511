"""The one error hierarchy of httpslab, rooted in :class:`TLSError`.

Protocol errors carry the :class:`~httpslab.enums.AlertDescription` that goes on the wire
(RFC 5246 §7.2). As in h11, :class:`LocalProtocolError` means *we* were asked to do
something invalid and :class:`RemoteProtocolError` means *the peer* sent something invalid.
Failures of ``cryptography`` primitives are translated in exactly one place,
:func:`translate_crypto_errors`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .enums import AlertDescription

__all__ = [
    "AlertReceived",
    "BadCertificate",
    "BadRecordMac",
    "CertificateError",
    "DecodeError",
    "DecryptError",
    "HandshakeFailure",
    "HandshakeTimeout",
    "IllegalParameter",
    "InternalError",
    "KeyLogError",
    "LaunchError",
    "LocalProtocolError",
    "NotTLSError",
    "OpenSSLPeerError",
    "PaddingError",
    "ProtocolError",
    "RecordOverflow",
    "RelayError",
    "RemoteProtocolError",
    "TLSError",
    "TransportError",
    "UnexpectedMessage",
    "UsageError",
    "translate_crypto_errors",
]


class TLSError(Exception):
    """Root of every error httpslab raises."""


class ProtocolError(TLSError):
    """A TLS protocol violation; ``alert`` is the fatal alert that goes on the wire."""

    alert: AlertDescription = AlertDescription.INTERNAL_ERROR

    def __init__(self, message: str, *, alert: AlertDescription | None = None) -> None:
        super().__init__(message)
        if alert is not None:
            self.alert = alert

    def __str__(self) -> str:
        return f"{super().__str__()} (alert: {self.alert.name.lower()})"


class LocalProtocolError(ProtocolError):
    """We were asked to do something the protocol does not allow."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something the protocol does not allow."""


class DecodeError(RemoteProtocolError):
    """Bytes that do not parse: truncated, too long, or with leftovers (decode_error)."""

    alert = AlertDescription.DECODE_ERROR


class IllegalParameter(RemoteProtocolError):
    """A field parsed but holds a value that is not allowed (illegal_parameter)."""

    alert = AlertDescription.ILLEGAL_PARAMETER


class UnexpectedMessage(RemoteProtocolError):
    """A message arrived that is not allowed in the current state (unexpected_message)."""

    alert = AlertDescription.UNEXPECTED_MESSAGE


class HandshakeFailure(RemoteProtocolError):
    """No acceptable set of parameters could be agreed (handshake_failure)."""

    alert = AlertDescription.HANDSHAKE_FAILURE


class BadRecordMac(RemoteProtocolError):
    """A protected record failed authentication (bad_record_mac)."""

    alert = AlertDescription.BAD_RECORD_MAC


class RecordOverflow(RemoteProtocolError):
    """A record is longer than RFC 5246 §6.2 allows (record_overflow)."""

    alert = AlertDescription.RECORD_OVERFLOW


class DecryptError(RemoteProtocolError):
    """A signature or Finished value did not verify (decrypt_error)."""

    alert = AlertDescription.DECRYPT_ERROR


class BadCertificate(RemoteProtocolError):
    """The peer's certificate is unusable (bad_certificate by default)."""

    alert = AlertDescription.BAD_CERTIFICATE


class NotTLSError(RemoteProtocolError):
    """The peer's first bytes are not a TLS record (plain HTTP sent to a TLS port, say).

    No alert is sent back, as OpenSSL 3.0 does ("Doesn't look like TLS - don't send an alert"):
    the peer does not speak TLS. ``alert`` keeps protocol_version, what a later record with
    such a version gets.
    """

    alert = AlertDescription.PROTOCOL_VERSION

    def __str__(self) -> str:
        return f"{Exception.__str__(self)} (no alert sent)"


class InternalError(LocalProtocolError):
    """Something went wrong on our side (internal_error)."""

    alert = AlertDescription.INTERNAL_ERROR


class AlertReceived(TLSError):
    """The peer sent a fatal alert (or close_notify); ``message`` replaces the default text."""

    def __init__(self, description: AlertDescription, level: int = 2, *, message: str | None = None) -> None:
        self.description = description
        self.level = level
        super().__init__(
            message or f"the peer sent the alert {description.name.lower()} ({int(description)})"
        )


class CertificateError(TLSError):
    """A certificate or key could not be loaded or built (not a verification verdict)."""


class KeyLogError(TLSError):
    """A key log is malformed or does not hold the keys that were looked for."""


class TransportError(TLSError):
    """The TCP connection under TLS failed (refused, reset, timed out); ``__cause__`` is the OSError."""


class HandshakeTimeout(TransportError):
    """The whole handshake took longer than its deadline (e.g. a peer that trickles bytes)."""


class PaddingError(DecryptError):
    """A PKCS#1 v1.5 block did not unpad. Deliberately silent about *what* was wrong (RFC 5246 §7.4.7.1)."""

    def __init__(self) -> None:
        super().__init__("PKCS#1 v1.5 padding check failed")


class RelayError(TLSError):
    """The relay was misconfigured (e.g. a non-loopback address) or could not start."""


class OpenSSLPeerError(TLSError):
    """A real OpenSSL peer failed, timed out or could not be started."""


# Command-line errors: not TLS errors, they end a command with exit status 2.
class UsageError(Exception):
    """A ``python -m httpslab`` command line that cannot be run (exit status 2)."""


class LaunchError(Exception):
    """JupyterLab cannot be started by ``python -m httpslab.launch``; the message says what to do."""


@contextmanager
def translate_crypto_errors(
    error: type[ProtocolError] = BadRecordMac, message: str = "authentication failed"
) -> Iterator[None]:
    """Turn ``cryptography``'s InvalidTag / InvalidSignature into an httpslab error.

    This is the one place where primitive failures are translated.
    """
    from cryptography.exceptions import InvalidSignature, InvalidTag

    try:
        yield
    except (InvalidTag, InvalidSignature) as exc:
        raise error(message) from exc
