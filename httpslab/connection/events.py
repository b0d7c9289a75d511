"""What a connection reports from :meth:`~httpslab.connection.TLSConnection.receive_data` (h11's events).

Small frozen dataclasses, one per protocol event (RFC 5246 §7.2, §7.4.9).
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509

from ..enums import AlertDescription, CipherSuite, ProtocolVersion

__all__ = ["ApplicationData", "ConnectionClosed", "Event", "HandshakeComplete", "WarningAlertReceived"]


class Event:
    """Base class of what :meth:`TLSConnection.receive_data` reports."""


@dataclass(frozen=True)
class HandshakeComplete(Event):
    """Both Finished messages verified: application data may flow (RFC 5246 §7.4.9)."""

    version: ProtocolVersion
    cipher_suite: CipherSuite
    extended_master_secret: bool
    encrypt_then_mac: bool
    server_name: str | None = None
    #: the peer's certificate chain, leaf first (empty if the peer sent none)
    peer_certificates: tuple[x509.Certificate, ...] = ()
    #: the application protocol agreed with ALPN (RFC 7301), e.g. ``"http/1.1"``; None without
    alpn_protocol: str | None = None


@dataclass(frozen=True)
class ApplicationData(Event):
    """Decrypted application data from the peer."""

    data: bytes


@dataclass(frozen=True)
class WarningAlertReceived(Event):
    """A warning-level alert other than close_notify (e.g. no_renegotiation, RFC 5246 §7.2)."""

    description: AlertDescription | int


@dataclass(frozen=True)
class ConnectionClosed(Event):
    """The connection is closed.

    ``clean`` is True when the peer sent close_notify (RFC 5246 §7.2.1) and False when the
    byte stream simply ended (a truncation attack looks exactly like that).
    """

    by_peer: bool
    clean: bool
