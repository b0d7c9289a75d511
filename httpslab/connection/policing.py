"""Record and alert policing shared by both roles (RFC 5246 §6.2, §7.2).

Flood limits on empty records and warning alerts, the record version check after the hellos,
which records may come between handshake fragments or between ChangeCipherSpec and Finished,
and the adapter for a caller's record protection. The limits and alerts are OpenSSL 3.0's
where RFC 5246 sets none (docs/openssl-parity.md).
"""

from __future__ import annotations

from typing import NoReturn

from ..enums import AlertDescription, ContentType, ProtocolVersion
from ..errors import BadRecordMac, LocalProtocolError, RecordOverflow, RemoteProtocolError, UnexpectedMessage
from ..record import MAX_PLAINTEXT_LENGTH, RecordProtection
from .config import DirectionKeys, Primitives
from .tables import Role

__all__ = [
    "MAX_EMPTY_RECORDS",
    "MAX_WARNING_ALERTS",
    "CallerRecordProtection",
    "RecordLayerState",
    "alert_name",
    "check_decrypted_length",
    "content_name",
    "refuse_record_between_change_cipher_spec_and_finished",
    "refuse_record_inside_handshake_message",
]

#: consecutive empty records allowed (RFC 5246 §6.2.1 sets no limit; OpenSSL 3.0's)
MAX_EMPTY_RECORDS = 32
#: the count of consecutive warning alerts that fails (RFC 5246 §7.2 sets none; OpenSSL 3.0's)
MAX_WARNING_ALERTS = 5

_TLS12 = int(ProtocolVersion.TLS1_2)


class RecordLayerState:
    """The control state of the record layer that the transition tables do not hold."""

    __slots__ = (
        "close_notify_sent",
        "empty_records",
        "fail_silently",
        "peer",
        "record_version_out",
        "warning_alerts",
    )

    def __init__(self, peer: Role) -> None:
        self.peer = peer
        #: consecutive empty records and consecutive warning alerts received (flood limits)
        self.empty_records = 0
        self.warning_alerts = 0
        #: the version of the records this side writes (changed only to answer a wrong version)
        self.record_version_out = _TLS12
        #: the next failure queues no alert (a wrong-version alert record is not answered)
        self.fail_silently = False
        self.close_notify_sent = False

    def count_record(self, content_type: int, plaintext: bytes) -> None:
        """Count an empty record against the flood limit; a non-empty one resets the counts."""
        if plaintext:
            self.empty_records = 0
            if content_type != ContentType.ALERT:
                self.warning_alerts = 0
            return
        self.empty_records += 1
        if self.empty_records > MAX_EMPTY_RECORDS:
            raise UnexpectedMessage(
                f"the {self.peer} sent more than {MAX_EMPTY_RECORDS} empty records in a row "
                "(OpenSSL's limit, SSL_R_RECORD_TOO_SMALL)"
            )

    def count_warning_alert(self) -> None:
        """Count a warning alert (close_notify too) against the flood limit (RFC 5246 §7.2)."""
        self.warning_alerts += 1
        if self.warning_alerts >= MAX_WARNING_ALERTS:
            raise UnexpectedMessage(
                f"the {self.peer} sent {self.warning_alerts} warning alerts in a row "
                "(OpenSSL's limit, SSL_R_TOO_MANY_WARN_ALERTS)"
            )

    def refuse_wrong_record_version(
        self, content_type: int, version: int, *, write_protected: bool
    ) -> NoReturn:
        """A record after the hellos without the negotiated version: protocol_version (RFC 5246 Appendix E.1)."""
        # While we still write plaintext, answer in the peer's version; a wrong-version alert gets nothing.
        if not write_protected and version >> 8 == _TLS12 >> 8:
            if content_type == ContentType.ALERT:
                self.fail_silently = True
            else:
                self.record_version_out = version
        raise RemoteProtocolError(
            f"the {self.peer} sent a {content_name(content_type)} record with record version "
            f"0x{version:04x} after the hellos; every record must now carry the negotiated 0x0303 "
            "(RFC 5246 §6.2.1, Appendix E.1)",
            alert=AlertDescription.PROTOCOL_VERSION,
        )


def check_decrypted_length(plaintext: bytes) -> None:
    """RFC 5246 §6.2.3: a decrypted fragment longer than 2^14 is record_overflow."""
    if len(plaintext) > MAX_PLAINTEXT_LENGTH:
        raise RecordOverflow(f"a decrypted record of {len(plaintext)} bytes is longer than 2^14")


def refuse_record_between_change_cipher_spec_and_finished(peer: Role, content_type: int) -> NoReturn:
    """RFC 5246 §7.4.9: Finished comes "immediately after" ChangeCipherSpec; any other record is refused."""
    raise UnexpectedMessage(
        f"the {peer} sent a record of type {content_name(content_type)} between its "
        "ChangeCipherSpec and its Finished (only the Finished may come there: OpenSSL's "
        "SSL_R_DATA_BETWEEN_CCS_AND_FINISHED)"
    )


def refuse_record_inside_handshake_message(content_type: int) -> NoReturn:
    """RFC 5246 §6.2.1: only alerts may come between the fragments of one handshake message."""
    raise UnexpectedMessage(
        f"a record of type {content_name(content_type)} arrived in the middle of a fragmented "
        "handshake message (only alerts may come between its fragments in TLS 1.2, as in OpenSSL 3.0)"
    )


class CallerRecordProtection:
    """A RecordProtection whose seal/open are a caller's functions (Primitives.record_*)."""

    def __init__(self, keys: DirectionKeys, primitives: Primitives) -> None:
        self.keys: DirectionKeys | None = keys
        self.sequence_number = 0
        self._seal = primitives.record_seal
        self._open = primitives.record_open
        self._fallback = RecordProtection(
            keys.suite, keys.key, keys.iv, keys.mac_key, encrypt_then_mac=keys.encrypt_then_mac
        )

    def seal(self, content_type: int, version: int, plaintext: bytes) -> bytes:
        if self.keys is None:
            raise LocalProtocolError("this record protection was wiped (its keys are gone)")
        if self._seal is None:
            return self._fallback.seal(content_type, version, plaintext)
        fragment = bytes(self._seal(self.keys, self.sequence_number, content_type, version, plaintext))
        self.sequence_number += 1
        return fragment

    def open(self, content_type: int, version: int, fragment: bytes) -> bytes:
        if self.keys is None:
            raise LocalProtocolError("this record protection was wiped (its keys are gone)")
        if self._open is None:
            return self._fallback.open(content_type, version, fragment)
        plaintext = self._open(self.keys, self.sequence_number, content_type, version, fragment)
        if plaintext is None:
            raise BadRecordMac("record authentication failed (the caller's record_open refused it)")
        self.sequence_number += 1
        return bytes(plaintext)

    def wipe(self) -> None:
        self.keys = None
        self._fallback.wipe()

    @property
    def wiped(self) -> bool:
        return self.keys is None


_CONTENT_NAMES: dict[int, str] = {
    int(content_type): content_type.name.lower() for content_type in ContentType
}


def content_name(content_type: int) -> str:
    name = _CONTENT_NAMES.get(content_type)
    return name if name is not None else f"type {content_type}"


def alert_name(description: AlertDescription | int) -> str:
    return description.name.lower() if isinstance(description, AlertDescription) else str(int(description))
