"""TLS 1.2 record framing (RFC 5246 §6.2.1): record headers, limits, streams of records.

A record is a 5-byte header (content type, version, length) and a fragment of at most 2^14
bytes of plaintext or 2^14 + 2048 bytes of protected data (§6.2.3). The receiver's checks
raise the alert RFC 5246 names; where it leaves the choice open, what OpenSSL 3.0 sends.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..enums import AlertDescription, ContentType
from ..errors import (
    LocalProtocolError,
    NotTLSError,
    RecordOverflow,
    RemoteProtocolError,
    UnexpectedMessage,
)
from ..wire import Buffer

#: type(1) + version(2) + length(2), RFC 5246 §6.2.1
RECORD_HEADER_LENGTH = 5
#: TLSPlaintext.length MUST NOT exceed 2^14 (RFC 5246 §6.2.1)
MAX_PLAINTEXT_LENGTH = 2**14
#: TLSCiphertext.length MUST NOT exceed 2^14 + 2048 (RFC 5246 §6.2.3)
MAX_CIPHERTEXT_LENGTH = 2**14 + 2048
#: the record types of RFC 5246 §6.2.1; anything else is unexpected (heartbeat is never negotiated)
RECORD_CONTENT_TYPES: frozenset[int] = frozenset(
    {
        ContentType.CHANGE_CIPHER_SPEC,
        ContentType.ALERT,
        ContentType.HANDSHAKE,
        ContentType.APPLICATION_DATA,
    }
)

#: sequence numbers are uint64 and never wrap (RFC 5246 §6.1)
_MAX_SEQUENCE_NUMBER = 2**64 - 1

#: seq_num(8) + type(1) + version(2) + length(2): the AEAD additional data and the MAC header
_pack_mac_header = struct.Struct(">QBHH").pack
_pack_record_header = struct.Struct(">BHH").pack
_unpack_record_header = struct.Struct(">BHH").unpack_from
#: record header followed by the 8-byte GCM explicit nonce, written in place by seal_into
_pack_header_and_explicit_nonce_into = struct.Struct(">BHHQ").pack_into
_pack_record_header_into = struct.Struct(">BHH").pack_into


_CONTENT_TYPE_BY_VALUE: dict[int, ContentType] = {int(member): member for member in ContentType}


def _content_type(value: int) -> ContentType | int:
    return _CONTENT_TYPE_BY_VALUE.get(value, value)


@dataclass(frozen=True, slots=True)
class Record:
    """One TLSPlaintext or TLSCiphertext record (RFC 5246 §6.2.1): type, version, fragment.

    Construction only checks that the fields fit on the wire, so a notebook can build a
    record that a peer would reject; the checks a receiver makes are in :func:`pull_record`.
    """

    content_type: ContentType | int
    version: int
    fragment: bytes

    def __post_init__(self) -> None:
        if not 0 <= self.content_type <= 0xFF:
            raise LocalProtocolError(f"content type {self.content_type} does not fit in one byte")
        if not 0 <= self.version <= 0xFFFF:
            raise LocalProtocolError(f"record version {self.version} does not fit in two bytes")
        if len(self.fragment) > 0xFFFF:
            raise LocalProtocolError(f"a fragment of {len(self.fragment)} bytes does not fit a record")
        object.__setattr__(self, "content_type", _content_type(self.content_type))

    @property
    def header(self) -> bytes:
        """The 5-byte record header: type, version, length of the fragment."""
        return _pack_record_header(self.content_type, self.version, len(self.fragment))

    def encode(self) -> bytes:
        """The record as it goes on the wire: header || fragment."""
        return self.header + self.fragment


def check_record_header(content_type: int, version: int, length: int, *, plaintext: bool = False) -> None:
    """Apply the receiver's checks on a record header: version, content type, length.

    ``plaintext=True`` also applies the TLSPlaintext limit of 2^14 bytes (RFC 5246 §6.2.1);
    otherwise the TLSCiphertext limit of 2^14 + 2048 (§6.2.3) applies.
    """
    if version >> 8 != 3:
        raise RemoteProtocolError(
            f"record version 0x{version:04x} is not a TLS version (major byte must be 3)",
            alert=AlertDescription.PROTOCOL_VERSION,
        )
    if content_type not in RECORD_CONTENT_TYPES:
        raise UnexpectedMessage(f"unknown record content type {content_type}")
    limit = MAX_PLAINTEXT_LENGTH if plaintext else MAX_CIPHERTEXT_LENGTH
    if length > limit:
        raise RecordOverflow(f"a record of {length} bytes is longer than the {limit} allowed")


def _type_or_length_error(content_type: int, length: int, plaintext: bool) -> RemoteProtocolError:
    """The error :func:`check_record_header` raises for a header whose version is known good."""
    if content_type not in RECORD_CONTENT_TYPES:
        return UnexpectedMessage(f"unknown record content type {content_type}")
    limit = MAX_PLAINTEXT_LENGTH if plaintext else MAX_CIPHERTEXT_LENGTH
    return RecordOverflow(f"a record of {length} bytes is longer than the {limit} allowed")


#: the request starts OpenSSL 3.0 names as plain HTTP (docs/openssl-parity.md, "not TLS")
_HTTP_REQUEST_PREFIXES = (b"GET ", b"POST ", b"HEAD ", b"PUT ")


def describe_not_tls(first_bytes: bytes) -> str:
    """What a first record whose version's major byte is not 3 looks like, for the error message:
    plain HTTP, a proxy CONNECT, an HTTP response, or just a wrong version (RFC 5246 §6.2.1)."""
    shown = bytes(first_bytes[:24])
    version = int.from_bytes(shown[1:3], "big")
    start = f"the peer's first bytes {shown!r} are not a TLS record"
    if shown.startswith(_HTTP_REQUEST_PREFIXES):
        return (
            f"{start}: this looks like plain HTTP sent to a TLS port (an http:// request to an "
            "HTTPS server? OpenSSL: SSL_R_HTTP_REQUEST)"
        )
    if shown.startswith(b"CONNE"):
        return f"{start}: this looks like a proxy CONNECT request sent to a TLS port (OpenSSL: SSL_R_HTTPS_PROXY_REQUEST)"
    if shown.startswith(b"HTTP/"):
        return (
            f"{start}: this looks like a plain HTTP response — the peer speaks HTTP, not TLS, on "
            "this port (OpenSSL: SSL_R_WRONG_VERSION_NUMBER)"
        )
    return (
        f"{start}: its record version 0x{version:04x} is not a TLS version (major byte must be 3; "
        "OpenSSL: SSL_R_WRONG_VERSION_NUMBER)"
    )


#: record types a receiver refuses empty (RFC 5246 §6.2.1; OpenSSL 3.0 reads on after an
#: empty handshake or application-data record)
_NEVER_EMPTY: frozenset[int] = frozenset({ContentType.ALERT, ContentType.CHANGE_CIPHER_SPEC})


def check_plaintext(content_type: int, plaintext: bytes) -> None:
    """A receiver's checks on a record's plaintext: at most 2^14 bytes, an alert or a
    ChangeCipherSpec never empty.

    RFC 5246 §6.2.1: "The length MUST NOT exceed 2^14" and "Implementations MUST NOT send
    zero-length fragments of Handshake, Alert, or ChangeCipherSpec content types". A receiver
    refuses an empty alert or ChangeCipherSpec with unexpected_message but, as OpenSSL 3.0,
    accepts an empty handshake record (its sender broke the rule, but it carries nothing);
    whoever reads a stream counts empty records against a flood (OpenSSL: MAX_EMPTY_RECORDS).
    """
    if len(plaintext) > MAX_PLAINTEXT_LENGTH:
        raise RecordOverflow(
            f"a record plaintext of {len(plaintext)} bytes is longer than {MAX_PLAINTEXT_LENGTH}"
        )
    if not plaintext and content_type in _NEVER_EMPTY:
        name = _content_type(content_type)
        raise UnexpectedMessage(f"an empty {name.name.lower()} record is not allowed")  # type: ignore[union-attr]


def pull_record(buf: Buffer, *, plaintext: bool = False) -> Record:
    """Read one record from ``buf``; DecodeError if it is truncated.

    ``plaintext=True`` when the record is not protected (before ChangeCipherSpec): then the
    plaintext rules of :func:`check_plaintext` apply as well.
    """
    content_type = buf.pull_uint8()
    version = buf.pull_uint16()
    length = buf.pull_uint16()
    check_record_header(content_type, version, length, plaintext=plaintext)
    fragment = buf.pull_bytes(length)
    if plaintext:
        check_plaintext(content_type, fragment)
    return Record(_content_type(content_type), version, fragment)


def push_record(buf: Buffer, record: Record) -> None:
    """Write ``record`` (header and fragment) to ``buf``; the mirror image of :func:`pull_record`."""
    buf.push_uint8(record.content_type)
    buf.push_uint16(record.version)
    buf.push_opaque(2, record.fragment)


def split_records(data: bytes, *, plaintext: bool = False) -> tuple[list[Record], bytes]:
    """Cut a byte stream into complete records; return them and the incomplete tail.

    A header is checked as soon as its 5 bytes are there, so a bad stream fails without
    waiting for a fragment that may never come.
    """
    records: list[Record] = []
    offset = 0
    end = len(data)
    while end - offset >= RECORD_HEADER_LENGTH:
        content_type, version, length = _unpack_record_header(data, offset)
        check_record_header(content_type, version, length, plaintext=plaintext)
        if end - offset - RECORD_HEADER_LENGTH < length:
            break
        start = offset + RECORD_HEADER_LENGTH
        fragment = bytes(data[start : start + length])
        if plaintext:
            check_plaintext(content_type, fragment)
        records.append(Record(_content_type(content_type), version, fragment))
        offset = start + length
    return records, bytes(data[offset:])


def _refuse_wrong_version(content_type: int, version: int) -> None:
    raise RemoteProtocolError(
        f"a record with version 0x{version:04x} where the negotiated version is required",
        alert=AlertDescription.PROTOCOL_VERSION,
    )


class RecordReader:
    """Incremental record framing for a connection: feed bytes, get records one by one.

    ``plaintext`` says whether the records that come next are unprotected; the connection
    sets it to False after the peer's ChangeCipherSpec. Records are parsed lazily, one per
    step of the iterator :meth:`feed` returns, so flipping ``plaintext`` (or setting
    ``expected_version``) between two records of the same feed takes effect for the next one.

    ``expected_version`` is None until the hellos are done; then the connection sets it to the
    negotiated version, and a header with another version goes to ``on_wrong_version(type,
    version)`` before any other check of the header (default: protocol_version, RFC 5246
    Appendix E.1). The very first record whose version's major byte is not 3 raises
    :class:`~httpslab.errors.NotTLSError`, with no alert; a later one is protocol_version.
    The order of these checks follows OpenSSL 3.0: see docs/openssl-parity.md, "Records".
    """

    def __init__(
        self,
        *,
        plaintext: bool = False,
        expected_version: int | None = None,
        on_wrong_version: Callable[[int, int], None] = _refuse_wrong_version,
    ) -> None:
        self.plaintext = plaintext
        self.expected_version = expected_version
        self.on_wrong_version = on_wrong_version
        self._buffer = bytearray()
        #: where the next record starts in ``_buffer`` (consumed bytes are dropped on feed)
        self._offset = 0
        #: True until the first complete record was returned (OpenSSL's is_first_record)
        self.first_record = True

    def feed(self, data: bytes) -> Iterator[Record]:
        """Append ``data`` (now) and return an iterator over the complete records buffered."""
        if self._offset:
            del self._buffer[: self._offset]
            self._offset = 0
        self._buffer += data
        return self._records()

    def _records(self) -> Iterator[Record]:
        while True:
            record = self.next_record()
            if record is None:
                return
            yield record

    def next_record(self) -> Record | None:
        """The next complete record, or None if more bytes are needed."""
        buffer = self._buffer
        offset = self._offset
        available = len(buffer) - offset
        if available < RECORD_HEADER_LENGTH:
            return None
        content_type, version, length = _unpack_record_header(buffer, offset)
        if version == self.expected_version:  # the hot path: the major byte is 3, no check needed
            if content_type not in RECORD_CONTENT_TYPES or length > (
                MAX_PLAINTEXT_LENGTH if self.plaintext else MAX_CIPHERTEXT_LENGTH
            ):
                raise _type_or_length_error(content_type, length, self.plaintext)
        elif self.expected_version is not None:
            self.on_wrong_version(content_type, version)
            raise RemoteProtocolError(  # an on_wrong_version that returns does not let it through
                f"record version 0x{version:04x} refused", alert=AlertDescription.PROTOCOL_VERSION
            )
        else:
            if self.first_record and version >> 8 != 3:
                raise NotTLSError(describe_not_tls(buffer[offset : offset + 24]))
            check_record_header(content_type, version, length, plaintext=self.plaintext)
        if available - RECORD_HEADER_LENGTH < length:
            return None
        start = offset + RECORD_HEADER_LENGTH
        with memoryview(buffer) as view:  # one copy of the fragment, none of the rest
            fragment = bytes(view[start : start + length])
        if self.plaintext:
            check_plaintext(content_type, fragment)
        self._offset = start + length
        self.first_record = False
        return Record(_content_type(content_type), version, fragment)

    @property
    def pending(self) -> bytes:
        """Bytes received that do not yet make a complete record."""
        return bytes(self._buffer[self._offset :])


def fragment_data(
    content_type: ContentType | int, data: bytes, max_fragment: int = MAX_PLAINTEXT_LENGTH
) -> list[bytes]:
    """Split ``data`` into fragments of at most ``max_fragment`` bytes (RFC 5246 §6.2.1).

    Empty application data gives one empty fragment (allowed, §6.2.1); empty data of any
    other type gives no fragment at all, since those types may not be sent empty.
    """
    if not 1 <= max_fragment <= MAX_PLAINTEXT_LENGTH:
        raise LocalProtocolError(f"max_fragment must be between 1 and {MAX_PLAINTEXT_LENGTH}")
    if not data:
        return [b""] if content_type == ContentType.APPLICATION_DATA else []
    return [bytes(data[i : i + max_fragment]) for i in range(0, len(data), max_fragment)]
