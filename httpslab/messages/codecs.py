"""TLS 1.2 handshake messages (RFC 5246 §7.4), Alert (§7.2) and ChangeCipherSpec (§7.1).

One frozen dataclass per RFC struct with a ``pull_x`` / ``push_x`` pair, mirror images of
each other, so that ``encode(decode(raw)) == raw`` for every message a real peer sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from ..enums import (
    AlertDescription,
    AlertLevel,
    CipherSuite,
    ClientCertificateType,
    CompressionMethod,
    ECCurveType,
    HandshakeType,
    NamedGroup,
    ProtocolVersion,
    SignatureScheme,
)
from ..errors import DecodeError, IllegalParameter, LocalProtocolError, UnexpectedMessage
from ..wire import Buffer
from .descriptions import _Describable, _span, _text
from .extensions import (
    Extension,
    _HelloExtensions,
    _known,
    _normalize_extensions,
    _pull_extensions,
    _pull_uint8_list,
    _pull_uint16_list,
    _push_extensions,
    _push_uint8_list,
    _push_uint16_list,
    _require_non_empty,
)

#: Length of ClientHello.random / ServerHello.random (RFC 5246 §7.4.1.2).
RANDOM_LENGTH = 32
#: Longest SessionID (RFC 5246 §7.4.1.2: ``opaque SessionID<0..32>``).
MAX_SESSION_ID_LENGTH = 32

KeyExchangeKind = Literal["RSA", "DHE", "ECDHE"]
_KEY_EXCHANGES = ("RSA", "DHE", "ECDHE")

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
        # RFC 5246 §7.2 defines two levels; OpenSSL's answer to a third (docs/openssl-parity.md)
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
