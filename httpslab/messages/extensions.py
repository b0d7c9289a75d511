"""Hello extensions (RFC 5246 §7.4.1.4): the typed ones decoded, every other kept as bytes.

Typed: RFC 6066 server_name, RFC 8422 supported_groups and ec_point_formats, RFC 5246
signature_algorithms, RFC 7627 extended_master_secret, RFC 7366 encrypt_then_mac, RFC 5746
renegotiation_info, RFC 5077 session_ticket, RFC 7301 application_layer_protocol_negotiation. Unknown code points stay plain ints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar, TypeVar, Union

from ..enums import ECPointFormat, ExtensionType, NamedGroup, NameType, SignatureScheme
from ..errors import DecodeError, IllegalParameter, LocalProtocolError
from ..wire import Buffer
from .descriptions import _Describable, _recorded_span, _span, _SpanRecorder, _text

E = TypeVar("E", bound=IntEnum)
T = TypeVar("T")


def _known(enum_type: type[E], value: int) -> E | int:
    """``enum_type(value)`` when the code point is known, else the plain int (it survives)."""
    # the member map is what ``enum_type(value)`` looks in (one dict lookup, no EnumMeta call)
    return enum_type._value2member_map_.get(value, value)  # type: ignore[return-value]


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


@dataclass(frozen=True)
class ALPNExtension:
    """application_layer_protocol_negotiation, RFC 7301 §3.1.

    ``opaque ProtocolName<1..2^8-1>; ProtocolName protocol_name_list<2..2^16-1>``: the
    client's list in preference order, or the one protocol the server selected.
    """

    type: ClassVar[ExtensionType] = ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION
    protocols: tuple[bytes, ...]

    def __post_init__(self) -> None:
        protocols = tuple(p.encode("ascii") if isinstance(p, str) else bytes(p) for p in self.protocols)
        _require_non_empty(protocols, "protocol_name_list", LocalProtocolError)
        if not all(1 <= len(p) <= 255 for p in protocols):
            raise LocalProtocolError("an ALPN protocol name is 1 to 255 bytes (RFC 7301 §3.1)")
        object.__setattr__(self, "protocols", protocols)

    @classmethod
    def pull_data(cls, buf: Buffer) -> ALPNExtension:
        protocols = []
        with buf.pull_block(2):
            while not buf.eof():
                protocols.append(buf.pull_opaque(1))
        # RFC 7301 §3.1: the list and each name are non-empty
        if not protocols or not all(protocols):
            raise DecodeError("application_layer_protocol_negotiation: an empty list or protocol name")
        return cls(protocols=tuple(protocols))

    def push_data(self, buf: Buffer) -> None:
        with buf.push_block(2):
            for protocol in self.protocols:
                buf.push_opaque(1, protocol)

    def summary(self) -> str:
        return "alpn: " + ", ".join(p.decode("ascii", "replace") for p in self.protocols)


Extension = Union[  # noqa: UP007 - a runtime alias, kept readable
    ServerNameExtension,
    SupportedGroupsExtension,
    ECPointFormatsExtension,
    SignatureAlgorithmsExtension,
    ExtendedMasterSecretExtension,
    EncryptThenMacExtension,
    RenegotiationInfoExtension,
    SessionTicketExtension,
    ALPNExtension,
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
        ALPNExtension,
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

    @property
    def alpn_protocols(self) -> tuple[bytes, ...] | None:
        """The ALPN protocol names (RFC 7301), or None without the extension."""
        found = self._typed(ALPNExtension)
        return found.protocols if found else None
