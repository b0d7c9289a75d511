"""TLS 1.2 handshake messages, Alert and ChangeCipherSpec, as frozen dataclasses.

Each RFC 5246 §7.4 struct is one frozen dataclass with a ``pull_x`` / ``push_x`` pair; the
push function is the mirror image of the pull function, so ``encode(decode(raw)) == raw``
for every message a real peer sends. Extensions (RFC 5246 §7.4.1.4) keep their order, the
known ones are decoded into typed values (RFC 6066 server_name, RFC 8422 supported_groups and
ec_point_formats, RFC 5246 signature_algorithms, RFC 7627 extended_master_secret, RFC 7366
encrypt_then_mac, RFC 5746 renegotiation_info, RFC 5077 session_ticket) and every other one
is kept as raw bytes. Unknown code points stay plain ints; known ones become IntEnums.

Framing (RFC 5246 §7.4): ``HandshakeType msg_type; uint24 length; body``.
:func:`encode_handshake` / :func:`decode_handshake` add and check that header, and
:class:`HandshakeReader` cuts a stream of handshake-record payloads into whole messages.
Record headers are not handled here (see :mod:`httpslab.record`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar, Literal, NamedTuple, TypeVar, Union

from .enums import (
    AlertDescription,
    AlertLevel,
    CipherSuite,
    ClientCertificateType,
    CompressionMethod,
    ECCurveType,
    ECPointFormat,
    ExtensionType,
    HandshakeType,
    NamedGroup,
    NameType,
    ProtocolVersion,
    SignatureScheme,
)
from .errors import (
    DecodeError,
    IllegalParameter,
    LocalProtocolError,
    UnexpectedMessage,
)
from .wire import Buffer

__all__ = [
    "MAX_HANDSHAKE_MESSAGE_LENGTH",
    "Alert",
    "Certificate",
    "CertificateRequest",
    "CertificateVerify",
    "ChangeCipherSpec",
    "ClientHello",
    "ClientKeyExchange",
    "ECPointFormatsExtension",
    "EncryptThenMacExtension",
    "ExtendedMasterSecretExtension",
    "Extension",
    "FieldSpan",
    "Finished",
    "HandshakeMessage",
    "HandshakeReader",
    "HelloRequest",
    "KeyExchangeKind",
    "NewSessionTicket",
    "RawExtension",
    "RenegotiationInfoExtension",
    "ServerDHParams",
    "ServerECDHParams",
    "ServerHello",
    "ServerHelloDone",
    "ServerKeyExchange",
    "ServerNameExtension",
    "SessionTicketExtension",
    "SignatureAlgorithmsExtension",
    "SupportedGroupsExtension",
    "decode_alert",
    "decode_change_cipher_spec",
    "decode_handshake",
    "describe",
    "encode_alert",
    "encode_change_cipher_spec",
    "encode_handshake",
    "field_spans",
]

# ---------------------------------------------------------------------------------------
# constants
# ---------------------------------------------------------------------------------------

#: Largest handshake body :class:`HandshakeReader` accepts by default (2^16 * 4 bytes).
#: A Certificate chain is the biggest message in practice; OpenSSL's own cap for it is
#: 100 KiB. A longer announced length is refused before any byte is buffered.
MAX_HANDSHAKE_MESSAGE_LENGTH = 4 * 2**16

#: Length of ClientHello.random / ServerHello.random (RFC 5246 §7.4.1.2).
RANDOM_LENGTH = 32
#: Longest SessionID (RFC 5246 §7.4.1.2: ``opaque SessionID<0..32>``).
MAX_SESSION_ID_LENGTH = 32

KeyExchangeKind = Literal["RSA", "DHE", "ECDHE"]
_KEY_EXCHANGES = ("RSA", "DHE", "ECDHE")

E = TypeVar("E", bound=IntEnum)
T = TypeVar("T")


def _known(enum_type: type[E], value: int) -> E | int:
    """``enum_type(value)`` when the code point is known, else the plain int (it survives)."""
    # the member map is what ``enum_type(value)`` looks in (one dict lookup, no EnumMeta call)
    return enum_type._value2member_map_.get(value, value)  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------
# field spans (byte offsets of fields, for annotated hex views)
# ---------------------------------------------------------------------------------------


class FieldSpan(NamedTuple):
    """Where a field sits in an encoded message: ``raw[start:end]``."""

    name: str
    start: int
    end: int


class _SpanRecorder(Buffer):
    """A writing Buffer that also records where each named field went."""

    def __init__(self) -> None:
        super().__init__()
        self.spans: list[FieldSpan] = []


#: what :func:`_span` returns when nothing records spans (the hot path: no generator per field)
_NO_SPAN: AbstractContextManager[None] = nullcontext()


def _span(buf: Buffer, name: str) -> AbstractContextManager[None]:
    if not isinstance(buf, _SpanRecorder):
        return _NO_SPAN
    return _recorded_span(buf, name)


@contextmanager
def _recorded_span(buf: _SpanRecorder, name: str) -> Iterator[None]:
    start = len(buf.data)
    yield
    buf.spans.append(FieldSpan(name, start, len(buf.data)))


# ---------------------------------------------------------------------------------------
# describe(): short (field, text) pairs for teaching
# ---------------------------------------------------------------------------------------


_UINT16_ENUMS = (CipherSuite, SignatureScheme, NamedGroup, ExtensionType, ProtocolVersion)


def _text(value: Any) -> str:
    if isinstance(value, IntEnum):
        width = 4 if isinstance(value, _UINT16_ENUMS) else 2
        return f"{value.name} (0x{int(value):0{width}x})"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value} (0x{value:x})"
    if isinstance(value, bytes | bytearray):
        if not value:
            return "(empty)"
        if len(value) <= 32:
            return f"{value.hex()} ({len(value)} bytes)"
        return f"{value[:16].hex()}…{value[-4:].hex()} ({len(value)} bytes)"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_text(item) for item in value) + "]"
    if value is None:
        return "(absent)"
    if hasattr(value, "summary"):
        return str(value.summary())
    return str(value)


def describe(obj: Any) -> list[tuple[str, str]]:
    """(field name, value text) pairs for any message or extension dataclass."""
    if hasattr(obj, "describe"):
        return obj.describe()  # type: ignore[no-any-return]
    return [(f.name, _text(getattr(obj, f.name))) for f in dataclasses.fields(obj)]


class _Describable:
    """Gives a dataclass ``describe()``: short (field name, value text) pairs for teaching."""

    def describe(self) -> list[tuple[str, str]]:
        rows = [(f.name, _text(getattr(self, f.name))) for f in dataclasses.fields(self)]  # type: ignore[arg-type]
        return rows or [("body", "(empty)")]


# ---------------------------------------------------------------------------------------
# extensions (RFC 5246 §7.4.1.4)
# ---------------------------------------------------------------------------------------


def _pull_uint16_list(buf: Buffer, length_size: int, what: str) -> list[int]:
    with buf.pull_block(length_size) as length:
        if length % 2:
            raise DecodeError(f"{what}: a list of uint16 values has an odd length ({length})")
        data = buf.pull_bytes(length)
        return [(data[i] << 8) | data[i + 1] for i in range(0, length, 2)]


def _push_uint16_list(buf: Buffer, length_size: int, values: Sequence[int]) -> None:
    for value in values:
        if not 0 <= value <= 0xFFFF:
            raise LocalProtocolError(f"{value} does not fit in 2 byte(s)")
    with buf.push_block(length_size):
        buf.push_bytes(b"".join(value.to_bytes(2, "big") for value in values))


def _pull_uint8_list(buf: Buffer, length_size: int) -> list[int]:
    return list(buf.pull_opaque(length_size))


def _push_uint8_list(buf: Buffer, length_size: int, values: Sequence[int]) -> None:
    with buf.push_block(length_size):
        for value in values:
            buf.push_uint8(value)


def _require_non_empty(values: Sequence[Any], what: str, error: type[Exception]) -> None:
    if not values:
        raise error(f"{what} must not be empty")


@dataclass(frozen=True)
class RawExtension:
    """An extension kept as bytes: any type this module does not decode (GREASE included)."""

    type: int
    data: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", _known(ExtensionType, int(self.type)))
        object.__setattr__(self, "data", bytes(self.data))

    def push_data(self, buf: Buffer) -> None:
        buf.push_bytes(self.data)

    def summary(self) -> str:
        return f"{_text(self.type)}: {_text(self.data)}"


@dataclass(frozen=True)
class ServerNameExtension:
    """server_name (RFC 6066 §3).

    ``names`` holds (name_type, name) pairs; ``None`` is the empty extension_data a server
    sends to say it used the name ("the extension_data field of this extension SHALL be
    empty").
    """

    type: ClassVar[ExtensionType] = ExtensionType.SERVER_NAME
    names: tuple[tuple[int, bytes], ...] | None

    def __post_init__(self) -> None:
        if self.names is not None:
            names = tuple((_known(NameType, int(kind)), bytes(name)) for kind, name in self.names)
            # RFC 6066 §3: ServerName server_name_list<1..2^16-1>; HostName<1..2^16-1>
            _require_non_empty(names, "server_name_list", LocalProtocolError)
            object.__setattr__(self, "names", names)

    @classmethod
    def for_host(cls, host_name: str) -> ServerNameExtension:
        """The extension a client sends to ask for ``host_name`` (ASCII, no trailing dot)."""
        try:
            encoded = host_name.encode("ascii")
        except UnicodeEncodeError as exc:
            raise LocalProtocolError(f"host name {host_name!r} is not ASCII (use IDNA A-labels)") from exc
        return cls(names=((NameType.HOST_NAME, encoded),))

    @property
    def host_name(self) -> str | None:
        for kind, name in self.names or ():
            if kind == NameType.HOST_NAME:
                return name.decode("ascii", errors="replace")
        return None

    @classmethod
    def pull_data(cls, buf: Buffer) -> ServerNameExtension:
        if buf.eof():
            return cls(names=None)
        names = []
        with buf.pull_block(2):
            while not buf.eof():
                kind = buf.pull_uint8()
                name = buf.pull_opaque(2)
                if not name:
                    raise DecodeError("server_name: an empty HostName (RFC 6066: HostName<1..2^16-1>)")
                names.append((kind, name))
        if not names:
            raise DecodeError("server_name: an empty server_name_list (RFC 6066: <1..2^16-1>)")
        return cls(names=tuple(names))

    def push_data(self, buf: Buffer) -> None:
        if self.names is None:
            return
        with buf.push_block(2):
            for kind, name in self.names:
                buf.push_uint8(kind)
                buf.push_opaque(2, name)

    def summary(self) -> str:
        if self.names is None:
            return "server_name: (empty: the server used the name)"
        return "server_name: " + ", ".join(name.decode("ascii", errors="replace") for _, name in self.names)


@dataclass(frozen=True)
class SupportedGroupsExtension:
    """supported_groups, RFC 8422 §5.1.1 / RFC 7919: ``NamedGroup named_group_list<2..2^16-1>``."""

    type: ClassVar[ExtensionType] = ExtensionType.SUPPORTED_GROUPS
    groups: tuple[NamedGroup | int, ...]

    def __post_init__(self) -> None:
        groups = tuple(_known(NamedGroup, int(group)) for group in self.groups)
        _require_non_empty(groups, "named_group_list", LocalProtocolError)
        object.__setattr__(self, "groups", groups)

    @classmethod
    def pull_data(cls, buf: Buffer) -> SupportedGroupsExtension:
        groups = _pull_uint16_list(buf, 2, "supported_groups")
        _require_non_empty(groups, "supported_groups (RFC 8422: named_group_list<2..2^16-1>)", DecodeError)
        return cls(groups=tuple(groups))

    def push_data(self, buf: Buffer) -> None:
        _push_uint16_list(buf, 2, self.groups)

    def summary(self) -> str:
        return f"supported_groups: {_text(self.groups)}"


@dataclass(frozen=True)
class ECPointFormatsExtension:
    """ec_point_formats, RFC 8422 §5.1.2: ``ECPointFormat ec_point_format_list<1..2^8-1>``."""

    type: ClassVar[ExtensionType] = ExtensionType.EC_POINT_FORMATS
    formats: tuple[ECPointFormat | int, ...] = (ECPointFormat.UNCOMPRESSED,)

    def __post_init__(self) -> None:
        formats = tuple(_known(ECPointFormat, int(value)) for value in self.formats)
        _require_non_empty(formats, "ec_point_format_list", LocalProtocolError)
        object.__setattr__(self, "formats", formats)

    @classmethod
    def pull_data(cls, buf: Buffer) -> ECPointFormatsExtension:
        formats = _pull_uint8_list(buf, 1)
        _require_non_empty(formats, "ec_point_formats (RFC 8422: <1..2^8-1>)", DecodeError)
        return cls(formats=tuple(formats))

    def push_data(self, buf: Buffer) -> None:
        _push_uint8_list(buf, 1, self.formats)

    def summary(self) -> str:
        return f"ec_point_formats: {_text(self.formats)}"


@dataclass(frozen=True)
class SignatureAlgorithmsExtension:
    """signature_algorithms, RFC 5246 §7.4.1.4.1: ``supported_signature_algorithms<2..2^16-2>``."""

    type: ClassVar[ExtensionType] = ExtensionType.SIGNATURE_ALGORITHMS
    schemes: tuple[SignatureScheme | int, ...]

    def __post_init__(self) -> None:
        schemes = tuple(_known(SignatureScheme, int(value)) for value in self.schemes)
        _require_non_empty(schemes, "supported_signature_algorithms", LocalProtocolError)
        object.__setattr__(self, "schemes", schemes)

    @classmethod
    def pull_data(cls, buf: Buffer) -> SignatureAlgorithmsExtension:
        schemes = _pull_uint16_list(buf, 2, "signature_algorithms")
        _require_non_empty(schemes, "signature_algorithms (RFC 5246: <2..2^16-2>)", DecodeError)
        return cls(schemes=tuple(schemes))

    def push_data(self, buf: Buffer) -> None:
        _push_uint16_list(buf, 2, self.schemes)

    def summary(self) -> str:
        return f"signature_algorithms: {_text(self.schemes)}"


@dataclass(frozen=True)
class ExtendedMasterSecretExtension:
    """extended_master_secret, RFC 7627 §5.1: "The extension_data field ... is empty"."""

    type: ClassVar[ExtensionType] = ExtensionType.EXTENDED_MASTER_SECRET

    @classmethod
    def pull_data(cls, buf: Buffer) -> ExtendedMasterSecretExtension:
        if not buf.eof():
            raise DecodeError("extended_master_secret must be empty (RFC 7627 §5.1)")
        return cls()

    def push_data(self, buf: Buffer) -> None:
        pass

    def summary(self) -> str:
        return "extended_master_secret"


@dataclass(frozen=True)
class EncryptThenMacExtension:
    """encrypt_then_mac, RFC 7366 §2: "The extension_data field of this extension SHALL be empty"."""

    type: ClassVar[ExtensionType] = ExtensionType.ENCRYPT_THEN_MAC

    @classmethod
    def pull_data(cls, buf: Buffer) -> EncryptThenMacExtension:
        if not buf.eof():
            raise DecodeError("encrypt_then_mac must be empty (RFC 7366 §2)")
        return cls()

    def push_data(self, buf: Buffer) -> None:
        pass

    def summary(self) -> str:
        return "encrypt_then_mac"


@dataclass(frozen=True)
class RenegotiationInfoExtension:
    """renegotiation_info, RFC 5746 §3.2: ``opaque renegotiated_connection<0..255>``."""

    type: ClassVar[ExtensionType] = ExtensionType.RENEGOTIATION_INFO
    renegotiated_connection: bytes = b""

    @classmethod
    def pull_data(cls, buf: Buffer) -> RenegotiationInfoExtension:
        return cls(renegotiated_connection=buf.pull_opaque(1))

    def push_data(self, buf: Buffer) -> None:
        buf.push_opaque(1, self.renegotiated_connection)

    def summary(self) -> str:
        return f"renegotiation_info: {_text(self.renegotiated_connection)}"


@dataclass(frozen=True)
class SessionTicketExtension:
    """session_ticket, RFC 5077 §3.2: the whole extension_data is the ticket (may be empty)."""

    type: ClassVar[ExtensionType] = ExtensionType.SESSION_TICKET
    ticket: bytes = b""

    @classmethod
    def pull_data(cls, buf: Buffer) -> SessionTicketExtension:
        return cls(ticket=buf.pull_rest())

    def push_data(self, buf: Buffer) -> None:
        buf.push_bytes(self.ticket)

    def summary(self) -> str:
        return f"session_ticket: {_text(self.ticket)}"


Extension = Union[  # noqa: UP007 - a runtime alias, kept readable
    ServerNameExtension,
    SupportedGroupsExtension,
    ECPointFormatsExtension,
    SignatureAlgorithmsExtension,
    ExtendedMasterSecretExtension,
    EncryptThenMacExtension,
    RenegotiationInfoExtension,
    SessionTicketExtension,
    RawExtension,
]

_TYPED_EXTENSIONS: dict[int, Any] = {
    cls.type: cls
    for cls in (
        ServerNameExtension,
        SupportedGroupsExtension,
        ECPointFormatsExtension,
        SignatureAlgorithmsExtension,
        ExtendedMasterSecretExtension,
        EncryptThenMacExtension,
        RenegotiationInfoExtension,
        SessionTicketExtension,
    )
}


def _check_no_duplicates(extensions: Sequence[Extension], error: type[Exception]) -> None:
    # RFC 5246 §7.4.1.4: "There MUST NOT be more than one extension of the same type."
    # (A peer that breaks it gets illegal_parameter, as OpenSSL sends and RFC 8446 §4.2 asks.)
    if len({int(extension.type) for extension in extensions}) == len(extensions):
        return  # the common case: all distinct (the loop below names the first repeated one)
    seen: set[int] = set()
    for extension in extensions:
        if int(extension.type) in seen:
            raise error(f"extension {_text(extension.type)} appears twice")
        seen.add(int(extension.type))


def _normalize_extensions(extensions: Sequence[Any] | None) -> tuple[Extension, ...] | None:
    if extensions is None:
        return None
    # (type, bytes) is shorthand for a RawExtension
    normalized = tuple(RawExtension(*ext) if isinstance(ext, tuple) else ext for ext in extensions)
    _check_no_duplicates(normalized, LocalProtocolError)
    return normalized


def pull_extension(buf: Buffer) -> Extension:
    """Read one ``Extension { ExtensionType extension_type; opaque extension_data<0..2^16-1>; }``."""
    extension_type = buf.pull_uint16()
    with buf.pull_block(2):
        typed = _TYPED_EXTENSIONS.get(extension_type)
        if typed is not None:
            return typed.pull_data(buf)
        return RawExtension(extension_type, buf.pull_rest())


def push_extension(buf: Buffer, extension: Extension) -> None:
    if isinstance(buf, _SpanRecorder):  # the span's name is only built when spans are recorded
        with _recorded_span(buf, f"extension {getattr(extension.type, 'name', extension.type)}"):
            _push_extension_fields(buf, extension)
    else:
        _push_extension_fields(buf, extension)


def _push_extension_fields(buf: Buffer, extension: Extension) -> None:
    buf.push_uint16(extension.type)
    with buf.push_block(2):
        extension.push_data(buf)


def _pull_extensions(buf: Buffer) -> tuple[Extension, ...] | None:
    """The optional extensions block at the end of a hello: absent (None) or a list."""
    if buf.eof():
        return None
    extensions = buf.pull_list(2, pull_extension)
    _check_no_duplicates(extensions, IllegalParameter)
    return tuple(extensions)


def _push_extensions(buf: Buffer, extensions: tuple[Extension, ...] | None) -> None:
    if extensions is None:
        return
    with _span(buf, "extensions"), buf.push_block(2):
        for extension in extensions:
            push_extension(buf, extension)


class _HelloExtensions(_Describable):
    """Convenience accessors shared by ClientHello and ServerHello."""

    extensions: tuple[Extension, ...] | None

    def describe(self) -> list[tuple[str, str]]:
        """The fields, with one row per extension (in wire order)."""
        rows = [row for row in super().describe() if row[0] != "extensions"]
        if self.extensions is None:
            rows.append(("extensions", "(absent)"))
        else:
            rows.append(("extensions", f"{len(self.extensions)} extension(s)"))
            rows.extend((f"  {_text(ext.type)}", ext.summary()) for ext in self.extensions)
        return rows

    def extension(self, extension_type: int) -> Extension | None:
        """The extension of that type, or None."""
        for extension in self.extensions or ():
            if extension.type == extension_type:
                return extension
        return None

    def _typed(self, cls: type[T]) -> T | None:
        found = self.extension(cls.type)  # type: ignore[attr-defined]
        return found if isinstance(found, cls) else None

    @property
    def server_name(self) -> str | None:
        """The host_name of the server_name extension (None if absent or empty)."""
        found = self._typed(ServerNameExtension)
        return found.host_name if found else None

    @property
    def supported_groups(self) -> tuple[NamedGroup | int, ...] | None:
        found = self._typed(SupportedGroupsExtension)
        return found.groups if found else None

    @property
    def ec_point_formats(self) -> tuple[ECPointFormat | int, ...] | None:
        found = self._typed(ECPointFormatsExtension)
        return found.formats if found else None

    @property
    def signature_algorithms(self) -> tuple[SignatureScheme | int, ...] | None:
        found = self._typed(SignatureAlgorithmsExtension)
        return found.schemes if found else None

    @property
    def extended_master_secret(self) -> bool:
        return self._typed(ExtendedMasterSecretExtension) is not None

    @property
    def encrypt_then_mac(self) -> bool:
        return self._typed(EncryptThenMacExtension) is not None

    @property
    def renegotiation_info(self) -> bytes | None:
        found = self._typed(RenegotiationInfoExtension)
        return found.renegotiated_connection if found else None

    @property
    def session_ticket(self) -> bytes | None:
        found = self._typed(SessionTicketExtension)
        return found.ticket if found else None


# ---------------------------------------------------------------------------------------
# hello messages (RFC 5246 §7.4.1)
# ---------------------------------------------------------------------------------------


def _check_random(random: bytes) -> None:
    # decoding always reads exactly 32 bytes; only a constructor can be handed another length
    if len(random) != RANDOM_LENGTH:
        raise LocalProtocolError(f"random must be {RANDOM_LENGTH} bytes, not {len(random)}")


def _check_session_id(session_id: bytes, error: type[Exception]) -> None:
    # RFC 5246 §7.4.1.2: opaque SessionID<0..32>;
    if len(session_id) > MAX_SESSION_ID_LENGTH:
        raise error(f"session_id is {len(session_id)} bytes; SessionID<0..32> allows at most 32")


@dataclass(frozen=True)
class HelloRequest(_Describable):
    """HelloRequest (RFC 5246 §7.4.1.1): an empty body."""

    handshake_type: ClassVar[HandshakeType] = HandshakeType.HELLO_REQUEST


def pull_hello_request(buf: Buffer) -> HelloRequest:
    return HelloRequest()


def push_hello_request(buf: Buffer, message: HelloRequest) -> None:
    pass


@dataclass(frozen=True, kw_only=True)
class ClientHello(_HelloExtensions):
    """ClientHello (RFC 5246 §7.4.1.2).

    ``legacy_version`` is RFC 5246's ``client_version`` (named as in RFC 8446).
    ``extensions`` is None when the hello carries no extensions block at all.
    """

    handshake_type: ClassVar[HandshakeType] = HandshakeType.CLIENT_HELLO
    legacy_version: ProtocolVersion | int = ProtocolVersion.TLS1_2
    random: bytes
    session_id: bytes = b""
    cipher_suites: Sequence[CipherSuite | int]
    compression_methods: Sequence[CompressionMethod | int] = (CompressionMethod.NULL,)
    extensions: Sequence[Extension | tuple[int, bytes]] | None = ()

    def __post_init__(self) -> None:
        _check_random(self.random)
        _check_session_id(self.session_id, LocalProtocolError)
        suites = tuple(_known(CipherSuite, int(suite)) for suite in self.cipher_suites)
        compressions = tuple(_known(CompressionMethod, int(method)) for method in self.compression_methods)
        # RFC 5246 §7.4.1.2: CipherSuite cipher_suites<2..2^16-2>;
        _require_non_empty(suites, "cipher_suites", LocalProtocolError)
        # RFC 5246 §7.4.1.2: CompressionMethod compression_methods<1..2^8-1>;
        _require_non_empty(compressions, "compression_methods", LocalProtocolError)
        object.__setattr__(self, "legacy_version", _known(ProtocolVersion, int(self.legacy_version)))
        object.__setattr__(self, "cipher_suites", suites)
        object.__setattr__(self, "compression_methods", compressions)
        object.__setattr__(self, "extensions", _normalize_extensions(self.extensions))


def pull_client_hello(buf: Buffer) -> ClientHello:
    legacy_version = buf.pull_uint16()
    random = buf.pull_bytes(RANDOM_LENGTH)
    session_id = buf.pull_opaque(1)
    _check_session_id(session_id, DecodeError)
    cipher_suites = _pull_uint16_list(buf, 2, "cipher_suites")
    _require_non_empty(cipher_suites, "cipher_suites (RFC 5246: <2..2^16-2>)", DecodeError)
    compression_methods = _pull_uint8_list(buf, 1)
    _require_non_empty(compression_methods, "compression_methods (RFC 5246: <1..2^8-1>)", DecodeError)
    extensions = _pull_extensions(buf)
    return ClientHello(
        legacy_version=legacy_version,
        random=random,
        session_id=session_id,
        cipher_suites=cipher_suites,
        compression_methods=compression_methods,
        extensions=extensions,
    )


def push_client_hello(buf: Buffer, hello: ClientHello) -> None:
    with _span(buf, "legacy_version"):
        buf.push_uint16(hello.legacy_version)
    with _span(buf, "random"):
        buf.push_bytes(hello.random)
    with _span(buf, "session_id"):
        buf.push_opaque(1, hello.session_id)
    with _span(buf, "cipher_suites"):
        _push_uint16_list(buf, 2, hello.cipher_suites)  # type: ignore[arg-type]
    with _span(buf, "compression_methods"):
        _push_uint8_list(buf, 1, hello.compression_methods)  # type: ignore[arg-type]
    _push_extensions(buf, hello.extensions)  # type: ignore[arg-type]


@dataclass(frozen=True, kw_only=True)
class ServerHello(_HelloExtensions):
    """ServerHello (RFC 5246 §7.4.1.3).

    ``extensions`` is None when nothing follows compression_method (allowed in TLS 1.2),
    and ``()`` for an empty extensions block.
    """

    handshake_type: ClassVar[HandshakeType] = HandshakeType.SERVER_HELLO
    legacy_version: ProtocolVersion | int = ProtocolVersion.TLS1_2
    random: bytes
    session_id: bytes = b""
    cipher_suite: CipherSuite | int
    compression_method: CompressionMethod | int = CompressionMethod.NULL
    extensions: Sequence[Extension | tuple[int, bytes]] | None = ()

    def __post_init__(self) -> None:
        _check_random(self.random)
        _check_session_id(self.session_id, LocalProtocolError)
        object.__setattr__(self, "legacy_version", _known(ProtocolVersion, int(self.legacy_version)))
        object.__setattr__(self, "cipher_suite", _known(CipherSuite, int(self.cipher_suite)))
        object.__setattr__(
            self, "compression_method", _known(CompressionMethod, int(self.compression_method))
        )
        object.__setattr__(self, "extensions", _normalize_extensions(self.extensions))


def pull_server_hello(buf: Buffer) -> ServerHello:
    legacy_version = buf.pull_uint16()
    random = buf.pull_bytes(RANDOM_LENGTH)
    session_id = buf.pull_opaque(1)
    _check_session_id(session_id, DecodeError)
    cipher_suite = buf.pull_uint16()
    compression_method = buf.pull_uint8()
    extensions = _pull_extensions(buf)
    return ServerHello(
        legacy_version=legacy_version,
        random=random,
        session_id=session_id,
        cipher_suite=cipher_suite,
        compression_method=compression_method,
        extensions=extensions,
    )


def push_server_hello(buf: Buffer, hello: ServerHello) -> None:
    with _span(buf, "legacy_version"):
        buf.push_uint16(hello.legacy_version)
    with _span(buf, "random"):
        buf.push_bytes(hello.random)
    with _span(buf, "session_id"):
        buf.push_opaque(1, hello.session_id)
    with _span(buf, "cipher_suite"):
        buf.push_uint16(hello.cipher_suite)
    with _span(buf, "compression_method"):
        buf.push_uint8(hello.compression_method)
    _push_extensions(buf, hello.extensions)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# Certificate (RFC 5246 §7.4.2)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate(_Describable):
    """Certificate (RFC 5246 §7.4.2): DER certificates, the sender's own first.

    ``opaque ASN.1Cert<1..2^24-1>; ASN.1Cert certificate_list<0..2^24-1>;`` — an empty list
    is how a client says it has no certificate.
    """

    handshake_type: ClassVar[HandshakeType] = HandshakeType.CERTIFICATE
    certificate_list: Sequence[bytes] = ()

    def __post_init__(self) -> None:
        certificates = tuple(bytes(cert) for cert in self.certificate_list)
        if any(not cert for cert in certificates):
            raise LocalProtocolError("an empty ASN.1Cert (RFC 5246: ASN.1Cert<1..2^24-1>)")
        object.__setattr__(self, "certificate_list", certificates)


def pull_certificate(buf: Buffer) -> Certificate:
    certificates = buf.pull_list(3, lambda b: b.pull_opaque(3))
    if any(not cert for cert in certificates):
        raise DecodeError("an empty ASN.1Cert (RFC 5246 §7.4.2: ASN.1Cert<1..2^24-1>)")
    return Certificate(certificate_list=certificates)


def push_certificate(buf: Buffer, message: Certificate) -> None:
    with _span(buf, "certificate_list"), buf.push_block(3):
        for index, cert in enumerate(message.certificate_list):
            with _span(buf, f"certificate[{index}]"):
                buf.push_opaque(3, cert)


# ---------------------------------------------------------------------------------------
# ServerKeyExchange (RFC 5246 §7.4.3, RFC 8422 §5.4)
# ---------------------------------------------------------------------------------------


def _pull_non_empty_opaque(buf: Buffer, length_size: int, what: str) -> bytes:
    value = buf.pull_opaque(length_size)
    if not value:
        raise DecodeError(f"{what} must not be empty (<1..2^{8 * length_size}-1>)")
    return value


@dataclass(frozen=True)
class ServerDHParams(_Describable):
    """ServerDHParams (RFC 5246 §7.4.3): big-endian p, g and the server's g^X mod p."""

    dh_p: bytes
    dh_g: bytes
    dh_Ys: bytes

    key_exchange: ClassVar[KeyExchangeKind] = "DHE"


def pull_server_dh_params(buf: Buffer) -> ServerDHParams:
    return ServerDHParams(
        dh_p=_pull_non_empty_opaque(buf, 2, "dh_p"),
        dh_g=_pull_non_empty_opaque(buf, 2, "dh_g"),
        dh_Ys=_pull_non_empty_opaque(buf, 2, "dh_Ys"),
    )


def push_server_dh_params(buf: Buffer, params: ServerDHParams) -> None:
    with _span(buf, "dh_p"):
        buf.push_opaque(2, params.dh_p)
    with _span(buf, "dh_g"):
        buf.push_opaque(2, params.dh_g)
    with _span(buf, "dh_Ys"):
        buf.push_opaque(2, params.dh_Ys)


@dataclass(frozen=True)
class ServerECDHParams(_Describable):
    """ServerECDHParams (RFC 8422 §5.4): curve_type named_curve, the group and the point."""

    named_curve: NamedGroup | int
    point: bytes
    curve_type: ClassVar[ECCurveType] = ECCurveType.NAMED_CURVE
    key_exchange: ClassVar[KeyExchangeKind] = "ECDHE"

    def __post_init__(self) -> None:
        object.__setattr__(self, "named_curve", _known(NamedGroup, int(self.named_curve)))

    def describe(self) -> list[tuple[str, str]]:
        return [("curve_type", _text(self.curve_type)), *super().describe()]


def pull_server_ecdh_params(buf: Buffer) -> ServerECDHParams:
    curve_type = buf.pull_uint8()
    if curve_type != ECCurveType.NAMED_CURVE:
        # RFC 8422 §5.4: explicit_prime and explicit_char2 are deprecated; only named_curve.
        raise IllegalParameter(f"ECCurveType {curve_type}: only named_curve (3) is allowed")
    named_curve = buf.pull_uint16()
    # RFC 8422 §5.4: opaque point <1..2^8-1>;
    point = _pull_non_empty_opaque(buf, 1, "ECPoint")
    return ServerECDHParams(named_curve=named_curve, point=point)


def push_server_ecdh_params(buf: Buffer, params: ServerECDHParams) -> None:
    with _span(buf, "curve_type"):
        buf.push_uint8(params.curve_type)
    with _span(buf, "named_curve"):
        buf.push_uint16(params.named_curve)
    with _span(buf, "point"):
        buf.push_opaque(1, params.point)


@dataclass(frozen=True)
class ServerKeyExchange(_Describable):
    """ServerKeyExchange (RFC 5246 §7.4.3) for DHE or ECDHE, with its digitally-signed part.

    The signature covers ``client_random + server_random + params_bytes``.
    """

    handshake_type: ClassVar[HandshakeType] = HandshakeType.SERVER_KEY_EXCHANGE
    params: ServerDHParams | ServerECDHParams
    scheme: SignatureScheme | int
    signature: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "scheme", _known(SignatureScheme, int(self.scheme)))

    @property
    def key_exchange(self) -> KeyExchangeKind:
        return self.params.key_exchange

    @property
    def params_bytes(self) -> bytes:
        """The exact bytes of the ServerDHParams / ServerECDHParams that were signed."""
        buf = Buffer()
        _push_params(buf, self.params)
        return buf.data

    def describe(self) -> list[tuple[str, str]]:
        """The params' fields, then the signature."""
        return [
            *self.params.describe(),
            ("scheme", _text(self.scheme)),
            ("signature", _text(self.signature)),
        ]

    def signed_content(self, client_random: bytes, server_random: bytes) -> bytes:
        """What the signature covers (RFC 5246 §7.4.3, RFC 8422 §5.4)."""
        return client_random + server_random + self.params_bytes


def _push_params(buf: Buffer, params: ServerDHParams | ServerECDHParams) -> None:
    if isinstance(params, ServerDHParams):
        push_server_dh_params(buf, params)
    else:
        push_server_ecdh_params(buf, params)


def _check_key_exchange(key_exchange: str | None, message: str) -> KeyExchangeKind:
    if key_exchange not in _KEY_EXCHANGES:
        raise LocalProtocolError(
            f"decoding a {message} needs key_exchange='RSA', 'DHE' or 'ECDHE' (got {key_exchange!r})"
        )
    return key_exchange  # type: ignore[return-value]


def pull_server_key_exchange(buf: Buffer, key_exchange: str | None) -> ServerKeyExchange:
    kind = _check_key_exchange(key_exchange, "ServerKeyExchange")
    params: ServerDHParams | ServerECDHParams
    if kind == "DHE":
        params = pull_server_dh_params(buf)
    elif kind == "ECDHE":
        params = pull_server_ecdh_params(buf)
    else:
        # RFC 5246 §7.4.3: "It is not legal to send the server key exchange message for
        # the following key exchange methods: RSA, DH_DSS, DH_RSA".
        raise UnexpectedMessage("a ServerKeyExchange is not allowed with RSA key exchange")
    scheme = buf.pull_uint16()
    signature = buf.pull_opaque(2)
    return ServerKeyExchange(params=params, scheme=scheme, signature=signature)


def push_server_key_exchange(buf: Buffer, message: ServerKeyExchange) -> None:
    with _span(buf, "params"):
        _push_params(buf, message.params)
    with _span(buf, "scheme"):
        buf.push_uint16(message.scheme)
    with _span(buf, "signature"):
        buf.push_opaque(2, message.signature)


# ---------------------------------------------------------------------------------------
# CertificateRequest, ServerHelloDone (RFC 5246 §7.4.4, §7.4.5)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateRequest(_Describable):
    """CertificateRequest (RFC 5246 §7.4.4), TLS 1.2 form.

    ``certificate_authorities`` holds DER DistinguishedNames (may be empty).
    """

    handshake_type: ClassVar[HandshakeType] = HandshakeType.CERTIFICATE_REQUEST
    certificate_types: Sequence[ClientCertificateType | int]
    supported_signature_algorithms: Sequence[SignatureScheme | int]
    certificate_authorities: Sequence[bytes] = ()

    def __post_init__(self) -> None:
        types = tuple(_known(ClientCertificateType, int(value)) for value in self.certificate_types)
        schemes = tuple(_known(SignatureScheme, int(value)) for value in self.supported_signature_algorithms)
        authorities = tuple(bytes(name) for name in self.certificate_authorities)
        # RFC 5246 §7.4.4: ClientCertificateType certificate_types<1..2^8-1>;
        _require_non_empty(types, "certificate_types", LocalProtocolError)
        # RFC 5246 §7.4.4: SignatureAndHashAlgorithm supported_signature_algorithms<2..2^16-2>;
        _require_non_empty(schemes, "supported_signature_algorithms", LocalProtocolError)
        object.__setattr__(self, "certificate_types", types)
        object.__setattr__(self, "supported_signature_algorithms", schemes)
        object.__setattr__(self, "certificate_authorities", authorities)


def pull_certificate_request(buf: Buffer) -> CertificateRequest:
    certificate_types = _pull_uint8_list(buf, 1)
    _require_non_empty(certificate_types, "certificate_types (RFC 5246: <1..2^8-1>)", DecodeError)
    schemes = _pull_uint16_list(buf, 2, "supported_signature_algorithms")
    _require_non_empty(schemes, "supported_signature_algorithms (RFC 5246: <2..2^16-2>)", DecodeError)
    # RFC 5246 §7.4.4: opaque DistinguishedName<1..2^16-1>;
    authorities = buf.pull_list(2, lambda b: _pull_non_empty_opaque(b, 2, "DistinguishedName"))
    return CertificateRequest(
        certificate_types=certificate_types,
        supported_signature_algorithms=schemes,
        certificate_authorities=authorities,
    )


def push_certificate_request(buf: Buffer, message: CertificateRequest) -> None:
    with _span(buf, "certificate_types"):
        _push_uint8_list(buf, 1, message.certificate_types)  # type: ignore[arg-type]
    with _span(buf, "supported_signature_algorithms"):
        _push_uint16_list(buf, 2, message.supported_signature_algorithms)  # type: ignore[arg-type]
    with _span(buf, "certificate_authorities"):
        buf.push_list(2, lambda b, name: b.push_opaque(2, name), message.certificate_authorities)


@dataclass(frozen=True)
class ServerHelloDone(_Describable):
    """ServerHelloDone (RFC 5246 §7.4.5): an empty body."""

    handshake_type: ClassVar[HandshakeType] = HandshakeType.SERVER_HELLO_DONE


def pull_server_hello_done(buf: Buffer) -> ServerHelloDone:
    return ServerHelloDone()


def push_server_hello_done(buf: Buffer, message: ServerHelloDone) -> None:
    pass


# ---------------------------------------------------------------------------------------
# ClientKeyExchange, CertificateVerify, Finished (RFC 5246 §7.4.7-§7.4.9)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientKeyExchange(_Describable):
    """ClientKeyExchange (RFC 5246 §7.4.7, RFC 8422 §5.7).

    ``exchange_keys`` is the EncryptedPreMasterSecret (RSA, ``opaque<0..2^16-1>``), the
    client's dh_Yc (DHE, ``opaque<1..2^16-1>``) or its ECDH point (ECDHE, ``opaque<1..2^8-1>``).
    """

    handshake_type: ClassVar[HandshakeType] = HandshakeType.CLIENT_KEY_EXCHANGE
    key_exchange: KeyExchangeKind
    exchange_keys: bytes

    def __post_init__(self) -> None:
        _check_key_exchange(self.key_exchange, "ClientKeyExchange")
        if self.key_exchange != "RSA" and not self.exchange_keys:
            raise LocalProtocolError("an empty public value in ClientKeyExchange")

    @property
    def encrypted_premaster_secret(self) -> bytes | None:
        return self.exchange_keys if self.key_exchange == "RSA" else None

    @property
    def public_value(self) -> bytes | None:
        """dh_Yc (DHE) or the ECDH point (ECDHE); None for RSA."""
        return None if self.key_exchange == "RSA" else self.exchange_keys


_CKE_LENGTH_SIZE = {"RSA": 2, "DHE": 2, "ECDHE": 1}


def pull_client_key_exchange(buf: Buffer, key_exchange: str | None) -> ClientKeyExchange:
    kind = _check_key_exchange(key_exchange, "ClientKeyExchange")
    if kind == "RSA":
        # RFC 5246 §7.4.7.1: public-key-encrypted PreMasterSecret, sent as opaque<0..2^16-1>
        exchange_keys = buf.pull_opaque(2)
    else:
        exchange_keys = _pull_non_empty_opaque(buf, _CKE_LENGTH_SIZE[kind], f"{kind} public value")
    return ClientKeyExchange(key_exchange=kind, exchange_keys=exchange_keys)


def push_client_key_exchange(buf: Buffer, message: ClientKeyExchange) -> None:
    with _span(buf, "exchange_keys"):
        buf.push_opaque(_CKE_LENGTH_SIZE[message.key_exchange], message.exchange_keys)


@dataclass(frozen=True)
class CertificateVerify(_Describable):
    """CertificateVerify (RFC 5246 §7.4.8): a digitally-signed hash of the handshake so far."""

    handshake_type: ClassVar[HandshakeType] = HandshakeType.CERTIFICATE_VERIFY
    scheme: SignatureScheme | int
    signature: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "scheme", _known(SignatureScheme, int(self.scheme)))


def pull_certificate_verify(buf: Buffer) -> CertificateVerify:
    scheme = buf.pull_uint16()
    signature = buf.pull_opaque(2)
    return CertificateVerify(scheme=scheme, signature=signature)


def push_certificate_verify(buf: Buffer, message: CertificateVerify) -> None:
    with _span(buf, "scheme"):
        buf.push_uint16(message.scheme)
    with _span(buf, "signature"):
        buf.push_opaque(2, message.signature)


@dataclass(frozen=True)
class Finished(_Describable):
    """Finished (RFC 5246 §7.4.9): verify_data (12 bytes for every TLS 1.2 suite here)."""

    handshake_type: ClassVar[HandshakeType] = HandshakeType.FINISHED
    verify_data: bytes


def pull_finished(buf: Buffer) -> Finished:
    # verify_data_length is 12 unless a suite says otherwise; decode what is there and let
    # the connection compare it with what the PRF computed.
    return Finished(verify_data=buf.pull_rest())


def push_finished(buf: Buffer, message: Finished) -> None:
    with _span(buf, "verify_data"):
        buf.push_bytes(message.verify_data)


@dataclass(frozen=True)
class NewSessionTicket(_Describable):
    """NewSessionTicket (RFC 5077 §3.3): ``uint32 ticket_lifetime_hint; opaque ticket<0..2^16-1>``."""

    handshake_type: ClassVar[HandshakeType] = HandshakeType.NEW_SESSION_TICKET
    lifetime_hint: int
    ticket: bytes


def pull_new_session_ticket(buf: Buffer) -> NewSessionTicket:
    lifetime_hint = buf.pull_uint32()
    ticket = buf.pull_opaque(2)
    return NewSessionTicket(lifetime_hint=lifetime_hint, ticket=ticket)


def push_new_session_ticket(buf: Buffer, message: NewSessionTicket) -> None:
    with _span(buf, "lifetime_hint"):
        buf.push_uint32(message.lifetime_hint)
    with _span(buf, "ticket"):
        buf.push_opaque(2, message.ticket)


# ---------------------------------------------------------------------------------------
# handshake framing (RFC 5246 §7.4)
# ---------------------------------------------------------------------------------------

HandshakeMessage = Union[  # noqa: UP007
    HelloRequest,
    ClientHello,
    ServerHello,
    Certificate,
    ServerKeyExchange,
    CertificateRequest,
    ServerHelloDone,
    ClientKeyExchange,
    CertificateVerify,
    Finished,
    NewSessionTicket,
]

_PULL: dict[int, Callable[[Buffer], Any]] = {
    HandshakeType.HELLO_REQUEST: pull_hello_request,
    HandshakeType.CLIENT_HELLO: pull_client_hello,
    HandshakeType.SERVER_HELLO: pull_server_hello,
    HandshakeType.NEW_SESSION_TICKET: pull_new_session_ticket,
    HandshakeType.CERTIFICATE: pull_certificate,
    HandshakeType.CERTIFICATE_REQUEST: pull_certificate_request,
    HandshakeType.SERVER_HELLO_DONE: pull_server_hello_done,
    HandshakeType.CERTIFICATE_VERIFY: pull_certificate_verify,
    HandshakeType.FINISHED: pull_finished,
}

_PUSH: dict[type, Callable[[Buffer, Any], None]] = {
    HelloRequest: push_hello_request,
    ClientHello: push_client_hello,
    ServerHello: push_server_hello,
    NewSessionTicket: push_new_session_ticket,
    Certificate: push_certificate,
    ServerKeyExchange: push_server_key_exchange,
    CertificateRequest: push_certificate_request,
    ServerHelloDone: push_server_hello_done,
    ClientKeyExchange: push_client_key_exchange,
    CertificateVerify: push_certificate_verify,
    Finished: push_finished,
}

HANDSHAKE_HEADER_LENGTH = 4


def push_handshake(buf: Buffer, message: HandshakeMessage) -> None:
    """Write ``msg_type``, the uint24 length and the body of ``message``."""
    push_body = _PUSH.get(type(message))
    if push_body is None:
        raise LocalProtocolError(f"{type(message).__name__} is not a handshake message")
    with _span(buf, "msg_type"):
        buf.push_uint8(message.handshake_type)
    with buf.push_block(3), _span(buf, "body"):
        push_body(buf, message)


def pull_handshake(buf: Buffer, key_exchange: str | None = None) -> HandshakeMessage:
    """Read one handshake message (header and body); the body must be read exactly."""
    msg_type = buf.pull_uint8()
    with buf.pull_block(3):
        if msg_type == HandshakeType.SERVER_KEY_EXCHANGE:
            return pull_server_key_exchange(buf, key_exchange)
        if msg_type == HandshakeType.CLIENT_KEY_EXCHANGE:
            return pull_client_key_exchange(buf, key_exchange)
        pull_body = _PULL.get(msg_type)
        if pull_body is None:
            # RFC 5246 §7.4 lists the types a TLS 1.2 peer may send; anything else is out of place.
            raise UnexpectedMessage(
                f"handshake type {_text(_known(HandshakeType, msg_type))} is not supported"
            )
        return pull_body(buf)  # type: ignore[no-any-return]


def encode_handshake(message: HandshakeMessage) -> bytes:
    """The bytes of ``message`` with its 4-byte handshake header."""
    buf = Buffer()
    push_handshake(buf, message)
    return buf.data


def decode_handshake(data: bytes, *, key_exchange: str | None = None) -> HandshakeMessage:
    """Decode exactly one handshake message (with its header) from ``data``.

    ``key_exchange`` ("RSA", "DHE" or "ECDHE", from the negotiated suite) is needed only for
    ServerKeyExchange and ClientKeyExchange, whose shape depends on it.
    """
    buf = Buffer(data)
    message = pull_handshake(buf, key_exchange)
    buf.expect_eof("handshake message")
    return message


def field_spans(message: HandshakeMessage) -> list[FieldSpan]:
    """Byte ranges of the fields of ``encode_handshake(message)`` (header included).

    Because decoding is exact, the ranges also label the bytes a message was decoded from.
    Span names are the field names of ``describe()`` plus the header (``msg_type``,
    ``length``, ``body``) and nested items (``extension SERVER_NAME``, ``certificate[0]``),
    which come after the field that holds them.
    """
    buf = _SpanRecorder()
    push_handshake(buf, message)
    buf.spans.append(FieldSpan("length", 1, HANDSHAKE_HEADER_LENGTH))
    return sorted(buf.spans, key=lambda span: (span.start, -span.end))


class HandshakeReader:
    """Cut the payloads of handshake records into whole handshake messages.

    One message may span several records and one record may hold several messages
    (RFC 5246 §6.2.1). Feed each payload to :meth:`feed`; it returns the messages that are
    now complete, as ``(msg_type, raw bytes with header)``.
    """

    def __init__(self, max_message_length: int = MAX_HANDSHAKE_MESSAGE_LENGTH) -> None:
        self.max_message_length = max_message_length
        self._pending = bytearray()

    @property
    def has_partial_message(self) -> bool:
        """True when some bytes of an unfinished message are buffered."""
        return bool(self._pending)

    def feed(self, data: bytes) -> list[tuple[HandshakeType | int, bytes]]:
        self._pending += data
        messages: list[tuple[HandshakeType | int, bytes]] = []
        while len(self._pending) >= HANDSHAKE_HEADER_LENGTH:
            length = int.from_bytes(self._pending[1:4], "big")
            if length > self.max_message_length:
                # OpenSSL answers an over-long handshake message with illegal_parameter
                # (SSL_R_EXCESSIVE_MESSAGE_SIZE); refuse before buffering it.
                raise IllegalParameter(
                    f"a handshake message announces {length} bytes; at most {self.max_message_length} accepted"
                )
            total = HANDSHAKE_HEADER_LENGTH + length
            if len(self._pending) < total:
                break
            raw = bytes(self._pending[:total])
            del self._pending[:total]
            messages.append((_known(HandshakeType, raw[0]), raw))
        return messages


# ---------------------------------------------------------------------------------------
# Alert (RFC 5246 §7.2) and ChangeCipherSpec (RFC 5246 §7.1)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alert(_Describable):
    """Alert (RFC 5246 §7.2): ``AlertLevel level; AlertDescription description``."""

    level: AlertLevel | int
    description: AlertDescription | int

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", _known(AlertLevel, int(self.level)))
        object.__setattr__(self, "description", _known(AlertDescription, int(self.description)))

    @property
    def is_fatal(self) -> bool:
        return self.level == AlertLevel.FATAL


def pull_alert(buf: Buffer) -> Alert:
    level = buf.pull_uint8()
    if level not in AlertLevel._value2member_map_:
        # OpenSSL answers an unknown alert level with illegal_parameter (SSL_R_UNKNOWN_ALERT_TYPE).
        raise IllegalParameter(f"alert level {level} is neither warning (1) nor fatal (2)")
    description = buf.pull_uint8()
    return Alert(level=level, description=description)


def push_alert(buf: Buffer, alert: Alert) -> None:
    buf.push_uint8(alert.level)
    buf.push_uint8(alert.description)


def decode_alert(data: bytes) -> Alert:
    """Decode the 2-byte body of an alert record."""
    if len(data) != 2:
        raise DecodeError(f"an alert is 2 bytes, not {len(data)}")
    return pull_alert(Buffer(data))


def encode_alert(alert: Alert) -> bytes:
    buf = Buffer()
    push_alert(buf, alert)
    return buf.data


@dataclass(frozen=True)
class ChangeCipherSpec(_Describable):
    """ChangeCipherSpec (RFC 5246 §7.1): ``enum { change_cipher_spec(1), (255) } type;``."""

    value: ClassVar[int] = 1

    def describe(self) -> list[tuple[str, str]]:
        return [("type", "change_cipher_spec (1)")]


def decode_change_cipher_spec(data: bytes) -> ChangeCipherSpec:
    """Decode the body of a change_cipher_spec record: exactly the byte 1."""
    if len(data) != 1:
        raise DecodeError(f"a ChangeCipherSpec is 1 byte, not {len(data)}")
    if data[0] != ChangeCipherSpec.value:
        raise IllegalParameter(f"a ChangeCipherSpec must hold 1, not {data[0]}")
    return ChangeCipherSpec()


def encode_change_cipher_spec(message: ChangeCipherSpec | None = None) -> bytes:
    return bytes([ChangeCipherSpec.value])
