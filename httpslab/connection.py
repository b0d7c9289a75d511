"""Sans-I/O TLS 1.2 client and server connections (RFC 5246), in the h11 / aioquic pattern.

A connection never touches a socket. Feed it the bytes that arrived with
:meth:`~TLSConnection.receive_data` (it returns the :class:`Event` objects they produced) and
send what :meth:`~TLSConnection.data_to_send` returns::

    client = ClientConnection(TLSConfig(server_name="localhost", cafile="ca.pem"))
    client.start_handshake()
    sock.sendall(client.data_to_send())
    for event in client.receive_data(sock.recv(65536)): ...

The handshake follows the transition table of :mod:`httpslab.state` (anything not in it is
unexpected_message). It supports every suite of :data:`httpslab.crypto.suites.SUITES`: RSA key
exchange, DHE (RFC 7919 groups), ECDHE (X25519, P-256; RFC 8422); RSA-PSS, RSA-PKCS#1 and
ECDSA signatures on ServerKeyExchange and CertificateVerify; the extended master secret
(RFC 7627) and encrypt-then-MAC (RFC 7366) as OpenSSL negotiates them; renegotiation_info
(RFC 5746, we never renegotiate); server_name (RFC 6066 §3, never for an IP literal);
mutual TLS. Certificates are checked with :func:`httpslab.pki.verify.verify_chain`.

Errors: any problem queues the fatal alert that matches it in :meth:`data_to_send`, moves
the connection to ``State.ERROR``, wipes its keys, and raises from :meth:`receive_data` a
:class:`~httpslab.errors.RemoteProtocolError` carrying ``.alert`` (a received fatal alert
raises :class:`~httpslab.errors.AlertReceived`). The conversion of errors happens in one
place, :meth:`TLSConnection.receive_data`. No application data is delivered after a failure.

Close: :meth:`close` queues close_notify; on receiving close_notify the connection answers
with its own and reports :class:`ConnectionClosed`. After either, the record keys are wiped
and the master secret is dropped from the connection. **The transcript keeps a copy of the
session secrets** (``TLSConfig.keep_secrets=True``, the default) because the notebooks
show them; pass ``keep_secrets=False`` to keep none.

Replaceable primitives: :class:`Primitives` lets a lab plug a learner's function in for the
RSA premaster encryption, the DH / ECDH shared secret, the PRF or the record protection; the
connection calls through it (no monkey-patching).
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import os
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .crypto import keyexchange, keyschedule
from .crypto.signatures import (
    DEFAULT_PEER_SCHEMES,
    SCHEMES,
    PrivateKey,
    choose_scheme,
    key_kind,
    sign,
    verify_signature,
)
from .crypto.suites import SUITES, SuiteInfo, parse_suite_name, suite_info
from .enums import (
    AlertDescription,
    AlertLevel,
    CipherSuite,
    ClientCertificateType,
    ContentType,
    ECPointFormat,
    HandshakeType,
    NamedGroup,
    ProtocolVersion,
    SignatureScheme,
)
from .errors import (
    AlertReceived,
    BadCertificate,
    CertificateError,
    DecodeError,
    DecryptError,
    HandshakeFailure,
    IllegalParameter,
    InternalError,
    LocalProtocolError,
    NotTLSError,
    ProtocolError,
    RemoteProtocolError,
    TLSError,
    UnexpectedMessage,
)
from .messages import (
    Alert,
    Certificate,
    CertificateRequest,
    CertificateVerify,
    ClientHello,
    ClientKeyExchange,
    ECPointFormatsExtension,
    EncryptThenMacExtension,
    ExtendedMasterSecretExtension,
    Finished,
    HandshakeReader,
    RenegotiationInfoExtension,
    ServerDHParams,
    ServerECDHParams,
    ServerHello,
    ServerHelloDone,
    ServerKeyExchange,
    ServerNameExtension,
    SignatureAlgorithmsExtension,
    SupportedGroupsExtension,
    decode_alert,
    decode_change_cipher_spec,
    decode_handshake,
    encode_alert,
    encode_change_cipher_spec,
    encode_handshake,
)
from .record import (
    MAX_PLAINTEXT_LENGTH,
    RECORD_HEADER_LENGTH,
    Record,
    RecordProtection,
    RecordReader,
    check_plaintext,
    fragment_data,
)
from .state import MessageKind, Role, State, message_name, next_states
from .transcript import Transcript

__all__ = [
    "ApplicationData",
    "ClientConnection",
    "ConnectionClosed",
    "Credential",
    "DirectionKeys",
    "Event",
    "HandshakeComplete",
    "LiveSecrets",
    "Primitives",
    "ServerConnection",
    "TLSConfig",
    "TLSConnection",
    "WarningAlertReceived",
]

TLS12 = ProtocolVersion.TLS1_2
_PRIVATE_KEY_TYPES = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)

#: Groups a client offers by default, in order (the brief of OpenSSL 3's default list).
DEFAULT_GROUPS: tuple[NamedGroup, ...] = (
    NamedGroup.X25519,
    NamedGroup.SECP256R1,
    NamedGroup.FFDHE2048,
    NamedGroup.FFDHE3072,
)
#: OpenSSL 3.0's own default supported groups, in its order (``supported_groups_default`` in
#: ssl/t1_lib.c; the GOST groups of that list need a GOST provider and are left out). httpslab's
#: :data:`DEFAULT_GROUPS` is shorter because it implements fewer key exchanges, but where
#: OpenSSL only *checks* a curve against its own list — the client's ECDSA certificate, in
#: ``tls1_check_group_id(s, group, 1)`` — a server left with the default groups checks it
#: against this list, so that it accepts what a default ``s_server -Verify`` accepts.
OPENSSL_DEFAULT_GROUPS: tuple[NamedGroup, ...] = (
    NamedGroup.X25519,
    NamedGroup.SECP256R1,
    NamedGroup.X448,
    NamedGroup.SECP521R1,
    NamedGroup.SECP384R1,
    NamedGroup.FFDHE2048,
    NamedGroup.FFDHE3072,
    NamedGroup.FFDHE4096,
    NamedGroup.FFDHE6144,
    NamedGroup.FFDHE8192,
)
#: Signature schemes offered / accepted by default (RFC 5246 §7.4.1.4.1, RFC 8446 codes).
DEFAULT_SIGNATURE_SCHEMES: tuple[SignatureScheme, ...] = (
    SignatureScheme.ECDSA_SECP256R1_SHA256,
    SignatureScheme.ECDSA_SECP384R1_SHA384,
    SignatureScheme.RSA_PSS_RSAE_SHA256,
    SignatureScheme.RSA_PSS_RSAE_SHA384,
    SignatureScheme.RSA_PKCS1_SHA256,
    SignatureScheme.RSA_PKCS1_SHA384,
)
_EC_GROUPS = frozenset({NamedGroup.X25519, NamedGroup.SECP256R1, NamedGroup.SECP384R1, NamedGroup.X448})
_FFDHE_GROUPS = frozenset({NamedGroup.FFDHE2048, NamedGroup.FFDHE3072})
#: the curve of an ECDSA key (cryptography's curve name) as a supported_groups code point
_CURVE_GROUPS: dict[str, NamedGroup] = {
    "secp256r1": NamedGroup.SECP256R1,
    "secp384r1": NamedGroup.SECP384R1,
    "secp521r1": NamedGroup.SECP521R1,
}


def _certificate_curve_offered(key: object, groups: Sequence[NamedGroup | int] | None) -> bool:
    """RFC 8422 §5.3: is an ECDSA ``key`` on a curve named in ``groups`` (a supported_groups list)?

    True for a key that is not ECDSA, and when ``groups`` is None or empty (no extension:
    RFC 8422 §4 lets the peer use any curve; OpenSSL's ``tls1_check_group_id`` reads an empty
    list as no extension).
    """
    if not groups or not isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return True
    return _CURVE_GROUPS.get(key.curve.name) in groups


# ============================================================================ events


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


# ============================================================================ configuration


@dataclass(frozen=True)
class Credential:
    """A certificate chain (leaf first) and the private key of its leaf."""

    certificate_chain: tuple[x509.Certificate, ...]
    private_key: PrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        chain = tuple(self.certificate_chain)
        if not chain:
            raise CertificateError("a credential needs at least one certificate")
        if not isinstance(self.private_key, _PRIVATE_KEY_TYPES):
            raise CertificateError(f"unsupported private key type {type(self.private_key).__name__}")
        if chain[0].public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ) != self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ):
            raise CertificateError("the private key does not belong to the first certificate of the chain")
        object.__setattr__(self, "certificate_chain", chain)

    @classmethod
    def load(
        cls, certfile: str | os.PathLike[str], keyfile: str | os.PathLike[str], password: bytes | None = None
    ) -> Credential:
        """Load a PEM chain (leaf first) and a PEM private key, as ``load_cert_chain`` does."""
        try:
            chain = x509.load_pem_x509_certificates(Path(certfile).read_bytes())
            key = serialization.load_pem_private_key(Path(keyfile).read_bytes(), password=password)
        except (OSError, ValueError, TypeError) as exc:
            raise CertificateError(f"cannot load {certfile} / {keyfile}: {exc}") from exc
        if not isinstance(key, _PRIVATE_KEY_TYPES):
            raise CertificateError(f"{keyfile} holds a {type(key).__name__}; RSA or ECDSA expected")
        return cls(tuple(chain), key)

    @property
    def authentication(self) -> str:
        """``"RSA"`` or ``"ECDSA"``: which suites this credential can serve."""
        return "RSA" if isinstance(self.private_key, rsa.RSAPrivateKey) else "ECDSA"


@dataclass(frozen=True)
class DirectionKeys:
    """The keys of one direction, handed to a caller's ``record_seal`` / ``record_open``."""

    suite: SuiteInfo
    key: bytes
    iv: bytes
    mac_key: bytes
    encrypt_then_mac: bool


@dataclass(frozen=True)
class Primitives:
    """Caller functions that replace one primitive each; ``None`` means the library's own.

    - ``rsa_encrypt_premaster(public_key, premaster) -> encrypted`` (client, RSA suites;
      default :func:`httpslab.crypto.keyexchange.rsa_encrypt_premaster`);
    - ``rsa_decrypt_premaster(private_key, encrypted, client_version) -> premaster`` (server);
    - ``dh_shared_secret(group, private, peer_public) -> premaster`` (DHE; ints);
    - ``ecdh_shared_secret(group, private_key, peer_point) -> premaster`` (ECDHE);
    - ``prf(secret, label, seed, length, hash_name) -> bytes`` (every PRF use: master secret,
      key block, Finished);
    - ``aead_seal(key, nonce, plaintext, aad)`` / ``aead_open(key, nonce, ciphertext, aad)``
      (AEAD suites; passed to :class:`~httpslab.record.RecordProtection`);
    - ``record_seal(keys, sequence_number, content_type, version, plaintext) -> fragment`` /
      ``record_open(keys, sequence_number, content_type, version, fragment) -> plaintext``
      (the whole record protection of any suite; ``keys`` is a :class:`DirectionKeys`).
    """

    rsa_encrypt_premaster: Callable[[rsa.RSAPublicKey, bytes], bytes] | None = None
    rsa_decrypt_premaster: Callable[[rsa.RSAPrivateKey, bytes, int], bytes] | None = None
    dh_shared_secret: Callable[[keyexchange.DHGroup, int, int], bytes] | None = None
    ecdh_shared_secret: Callable[[NamedGroup, Any, bytes], bytes] | None = None
    prf: Callable[[bytes, bytes, bytes, int, str], bytes] | None = None
    aead_seal: Callable[[bytes, bytes, bytes, bytes], bytes] | None = None
    aead_open: Callable[[bytes, bytes, bytes, bytes], bytes] | None = None
    record_seal: Callable[[DirectionKeys, int, int, int, bytes], bytes] | None = None
    record_open: Callable[[DirectionKeys, int, int, int, bytes], bytes] | None = None


@dataclass(frozen=True, kw_only=True)
class TLSConfig:
    """How a connection behaves. The defaults are what OpenSSL 3 does for TLS 1.2.

    Client side: ``server_name`` is the host to check the certificate against and, unless
    it is an IP literal, the SNI name; ``cafile`` / ``trust_anchors`` are what it trusts
    (the system CA file if neither is given); ``credentials`` hold a client certificate.
    Server side: ``credentials`` hold one certificate per key type (RSA and/or ECDSA);
    ``request_client_certificate`` / ``require_client_certificate`` ask for mutual TLS and
    ``cafile`` / ``trust_anchors`` are then what client certificates must chain to.
    """

    cipher_suites: Sequence[CipherSuite | str] = tuple(SUITES)
    server_name: str | None = None
    verify: bool = True
    cafile: str | os.PathLike[str] | None = None
    trust_anchors: Sequence[x509.Certificate] = ()
    credentials: Sequence[Credential] = ()
    groups: Sequence[NamedGroup] = DEFAULT_GROUPS
    signature_schemes: Sequence[SignatureScheme] = DEFAULT_SIGNATURE_SCHEMES
    extended_master_secret: bool = True
    encrypt_then_mac: bool = True
    #: client: refuse a server without renegotiation_info (RFC 5746 §4.1; OpenSSL 3 does)
    require_secure_renegotiation: bool = True
    #: client: signal secure renegotiation with the SCSV instead of the extension
    renegotiation_scsv: bool = False
    #: client: smallest DH prime accepted in a DHE ServerKeyExchange (OpenSSL 3 security level 2)
    minimum_dh_bits: int = 2048
    #: server: the group for DHE when the client names none (RFC 7919 §4)
    dh_group: keyexchange.DHGroup = keyexchange.FFDHE2048
    request_client_certificate: bool = False
    require_client_certificate: bool = False
    #: keep premaster / master secret / key block in ``transcript.secrets`` (for teaching)
    keep_secrets: bool = True
    #: ``random(n) -> n bytes`` for hello randoms and ephemeral keys (None: the OS); a seeded
    #: source makes a notebook reproducible
    random: Callable[[int], bytes] | None = None
    #: certificate validity is checked at this time (None: now)
    verify_time: Any = None
    primitives: Primitives = Primitives()
    #: application data the transcript keeps record by record, per direction, in bytes
    #: (None: all of it); later records are only counted (``Transcript.elided``), so that a
    #: bulk transfer does not hold every byte two or three times over
    transcript_application_data_limit: int | None = 1 << 20

    def __post_init__(self) -> None:
        # LocalProtocolError for a name or code point httpslab does not implement
        suites = tuple(
            parse_suite_name(s) if isinstance(s, str) else suite_info(s).suite for s in self.cipher_suites
        )
        if not suites:
            raise LocalProtocolError("at least one cipher suite is needed")
        object.__setattr__(self, "cipher_suites", suites)
        object.__setattr__(self, "credentials", tuple(self.credentials))
        try:
            groups = tuple(NamedGroup(g) for g in self.groups)
            schemes = tuple(SignatureScheme(s) for s in self.signature_schemes)
        except ValueError as exc:
            raise LocalProtocolError(f"unknown group or signature scheme: {exc}") from None
        unsupported = [s.name for s in schemes if s not in SCHEMES]
        if unsupported:
            raise LocalProtocolError(f"httpslab does not implement the signature schemes {unsupported}")
        object.__setattr__(self, "groups", groups)
        object.__setattr__(self, "signature_schemes", schemes)
        if self.require_client_certificate:
            object.__setattr__(self, "request_client_certificate", True)
        limit = self.transcript_application_data_limit
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise LocalProtocolError("transcript_application_data_limit must be None or a byte count >= 0")

    def load_trust_anchors(self) -> list[x509.Certificate]:
        """The certificates this side trusts: ``trust_anchors`` + ``cafile`` (or the system's)."""
        anchors = list(self.trust_anchors)
        cafile = self.cafile
        if cafile is None and not anchors:
            cafile = ssl.get_default_verify_paths().cafile
        if cafile is not None:
            try:
                status = os.stat(cafile)
                anchors += _pem_certificates(os.fspath(cafile), status.st_mtime_ns, status.st_size)
            except (OSError, ValueError) as exc:
                raise CertificateError(f"cannot read trust anchors from {cafile}: {exc}") from exc
        return anchors

    @property
    def server_name_is_ip(self) -> bool:
        return _is_ip(self.server_name)


@functools.lru_cache(maxsize=8)
def _pem_certificates(path: str, mtime_ns: int, size: int) -> tuple[x509.Certificate, ...]:
    """The certificates of a PEM file, parsed once per version of the file (path, mtime, size)."""
    return tuple(x509.load_pem_x509_certificates(Path(path).read_bytes()))


def _is_ip(name: str | None) -> bool:
    if name is None:
        return False
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


# ============================================================================ record protection


class _CallerRecordProtection:
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
            from .errors import BadRecordMac

            raise BadRecordMac("record authentication failed (the caller's record_open refused it)")
        self.sequence_number += 1
        return bytes(plaintext)

    def wipe(self) -> None:
        self.keys = None
        self._fallback.wipe()

    @property
    def wiped(self) -> bool:
        return self.keys is None


# ============================================================================ the connection


@dataclass(frozen=True)
class LiveSecrets:
    """The key material a connection holds at one moment (see :meth:`TLSConnection.live_secrets`).

    Copies, for teaching: changing them changes nothing in the connection. After ``close``
    (or a fatal error) the connection forgets its secrets: every field is None and
    ``wiped`` is True.
    """

    master_secret: bytes | None
    key_block: bytes | None
    #: this side's write key and the peer's (the cipher keys of the key block, RFC 5246 §6.3)
    write_key: bytes | None
    read_key: bytes | None
    #: True once the active record protections have been wiped (or when there never were any)
    wiped: bool


class TLSConnection:
    """What client and server share: records, alerts, ChangeCipherSpec, Finished, close.

    Use :class:`ClientConnection` or :class:`ServerConnection`.
    """

    role: ClassVar[Role]

    def __init__(self, config: TLSConfig | None = None) -> None:
        self.config = config if config is not None else TLSConfig()
        self.state = State.START
        self.transcript = Transcript(application_data_limit=self.config.transcript_application_data_limit)
        self.suite: SuiteInfo | None = None
        self.version: ProtocolVersion | None = None
        self.client_random: bytes | None = None
        self.server_random: bytes | None = None
        self.extended_master_secret = False
        self.encrypt_then_mac = False
        self.server_name: str | None = None
        self.peer_certificates: tuple[x509.Certificate, ...] = ()
        #: the error that ended the connection, if any
        self.error: TLSError | None = None
        #: expected_version is set once the peer's hello was read: from then on every record
        #: must carry TLS 1.2, checked before anything else in its header
        self._records = RecordReader(plaintext=True, on_wrong_version=self._wrong_record_version)
        self._handshake_reader = HandshakeReader()
        self._handshake_log = bytearray()
        self._outgoing = bytearray()
        self._events: list[Event] = []
        self._premaster_secret: bytes | None = None
        self._master_secret: bytes | None = None
        self._key_block: keyschedule.KeyBlock | None = None
        self._read_protection: Any = None
        self._write_protection: Any = None
        self._pending_read: Any = None
        self._pending_write: Any = None
        self._close_notify_sent = False
        #: the version of the records this side writes (changed only to answer a wrong version)
        self._record_version_out = int(TLS12)
        #: the next failure queues no alert (OpenSSL's SSL_AD_NO_ALERT)
        self._fail_silently = False
        #: consecutive empty records and consecutive warning alerts received (flood limits)
        self._empty_records = 0
        self._warning_alerts = 0
        #: the :class:`~httpslab.pki.verify.VerificationReport` of the peer's chain, once checked
        self.verification_report: Any = None

    # -- public surface -------------------------------------------------------------
    @property
    def peer(self) -> Role:
        return "server" if self.role == "client" else "client"

    @property
    def handshake_complete(self) -> bool:
        return self.state is State.CONNECTED

    @property
    def cipher_suite(self) -> CipherSuite | None:
        return self.suite.suite if self.suite else None

    @property
    def write_protection(self) -> Any:
        """The record protection sealing what this side sends (None before ChangeCipherSpec).

        Read-only; once the connection is closed it is wiped, and its ``seal`` refuses to
        work (:class:`LocalProtocolError`).
        """
        return self._write_protection

    @property
    def read_protection(self) -> Any:
        """The record protection opening what the peer sends (None before its ChangeCipherSpec)."""
        return self._read_protection

    def live_secrets(self) -> LiveSecrets:
        """Copies of the master secret, key block and cipher keys this connection holds now.

        All None (and ``wiped`` True) before the keys are derived and after ``close``: the
        connection wipes them as soon as it no longer needs them.
        """
        key_block = self._key_block
        write_key = read_key = None
        if key_block is not None:
            write_key = bytes(key_block.write_keys(self.role)[1])
            read_key = bytes(key_block.write_keys(self.peer)[1])
        protections = [p for p in (self._write_protection, self._read_protection) if p is not None]
        wiped = not protections or all(protection.wiped for protection in protections)
        master = self._master_secret
        return LiveSecrets(
            master_secret=bytes(master) if master is not None else None,
            key_block=bytes(key_block.key_block) if key_block is not None else None,
            write_key=write_key,
            read_key=read_key,
            wiped=wiped,
        )

    def data_to_send(self) -> bytes:
        """Everything queued for the wire since the last call (records, alerts included)."""
        data = bytes(self._outgoing)
        self._outgoing.clear()
        return data

    def receive_data(self, data: bytes) -> list[Event]:
        """Process bytes from the peer; return the events they produced.

        ``b""`` means the byte stream ended. On a protocol error the fatal alert is queued
        in :meth:`data_to_send` and the error is raised (flush, then handle it).
        """
        if self.state is State.ERROR:
            raise LocalProtocolError(
                "this connection already failed; it cannot be used any more"
            ) from self.error
        if self.state is State.CLOSED:
            return []
        self._events = []
        try:
            if not data:
                self._end_of_stream()
            else:
                for record in self._records.feed(data):
                    self._receive_record(record)
                    if self.state in (State.CLOSED, State.ERROR):
                        break
        except (AlertReceived, NotTLSError) as exc:  # a fatal alert is not answered; nor is not-TLS
            self._fail(exc, send_alert=False)
            raise
        except RemoteProtocolError as exc:
            self._fail(exc)
            raise
        except InternalError as exc:
            self._fail(exc)
            raise
        except ProtocolError as exc:
            # The one place where a local error becomes a remote one (h11's rule): whatever
            # went wrong while processing the peer's bytes was caused by those bytes.
            remote = RemoteProtocolError(
                str(exc.args[0]) if exc.args else type(exc).__name__, alert=exc.alert
            )
            self._fail(remote)
            raise remote from exc
        except TLSError as exc:
            alert = (
                AlertDescription.BAD_CERTIFICATE
                if isinstance(exc, CertificateError)
                else AlertDescription.INTERNAL_ERROR
            )
            remote = RemoteProtocolError(str(exc), alert=alert)
            self._fail(remote)
            raise remote from exc
        except Exception as exc:  # a caller's primitive or a bug: never leak a bare ValueError
            internal = InternalError(f"{type(exc).__name__}: {exc}")
            self._fail(internal)
            raise internal from exc
        return self._events

    def send_data(self, data: bytes) -> None:
        """Queue application data (split into records of at most 2^14 bytes)."""
        if self.state is not State.CONNECTED:
            raise LocalProtocolError(f"cannot send application data in state {self.state.name}")
        protection = self._write_protection
        if type(protection) is RecordProtection:
            self._send_data_in_place(protection, data)
            return
        for fragment in fragment_data(ContentType.APPLICATION_DATA, bytes(data)):
            if self.transcript.keeps_application_data(self.role, len(fragment)):
                self._write_record(ContentType.APPLICATION_DATA, fragment)
                self.transcript.add(
                    self.role, "application_data", "application data", fragment, encrypted=True
                )
            else:
                self._write_record(ContentType.APPLICATION_DATA, fragment, note=False)

    def _send_data_in_place(self, protection: RecordProtection, data: bytes) -> None:
        """The bulk path: every record sealed straight into one output buffer (seal_into)."""
        view = memoryview(data).cast("B")
        total = len(view)
        version = int(TLS12)
        application_data = ContentType.APPLICATION_DATA
        starts = range(0, total, MAX_PLAINTEXT_LENGTH) if total else range(1)  # b"": one empty record
        output = bytearray(protection.record_length(MAX_PLAINTEXT_LENGTH) * len(starts))
        offset = 0
        try:
            with memoryview(output) as output_view:
                for start in starts:
                    plaintext = view[start : start + MAX_PLAINTEXT_LENGTH]
                    written = protection.seal_into(output_view, offset, application_data, version, plaintext)
                    if self.transcript.keeps_application_data(self.role, len(plaintext)):
                        raw = bytes(output_view[offset : offset + written])
                        kept = bytes(plaintext)
                        record = Record(application_data, version, raw[RECORD_HEADER_LENGTH:])
                        self._note_record(self.role, record, raw, kept, True)
                        self.transcript.add(
                            self.role, "application_data", "application data", kept, encrypted=True
                        )
                    offset += written
        finally:  # what was sealed is queued, even if a later record failed
            try:
                del output[offset:]
            except BufferError:  # a view into it is still held (by a traceback)
                output = bytearray(memoryview(output)[:offset])
            if self._outgoing:
                self._outgoing += output
            else:
                self._outgoing = output

    def close(self) -> None:
        """Queue close_notify (RFC 5246 §7.2.1) and wipe the keys. Safe to call twice."""
        if self.state in (State.CLOSED, State.ERROR):
            return
        self._send_alert(AlertLevel.WARNING, AlertDescription.CLOSE_NOTIFY)
        self._close_notify_sent = True
        self.state = State.CLOSED
        self._wipe()

    # -- records ------------------------------------------------------------------
    def _receive_record(self, record: Record) -> None:
        if record.content_type == ContentType.APPLICATION_DATA and self._read_protection is not None:
            self._receive_application_data(record)
            return
        raw = record.encode()
        encrypted = self._read_protection is not None
        if encrypted:
            plaintext = self._read_protection.open(record.content_type, record.version, record.fragment)
            if len(plaintext) > MAX_PLAINTEXT_LENGTH:
                from .errors import RecordOverflow

                raise RecordOverflow(f"a decrypted record of {len(plaintext)} bytes is longer than 2^14")
            if not plaintext:  # a learner's record_open need not check it: an empty alert or CCS
                check_plaintext(record.content_type, plaintext)
        else:
            plaintext = record.fragment
        self._count_record(record.content_type, plaintext)
        self._note_record(self.peer, record, raw, plaintext, encrypted)
        content_type = record.content_type
        if content_type == ContentType.HANDSHAKE:
            for kind, message in self._handshake_reader.feed(plaintext):
                self._receive_handshake(kind, message, encrypted)
                if self.state in (State.CLOSED, State.ERROR):
                    return
            return
        if self.state is State.WAIT_FINISHED:
            self._refuse_record_between_change_cipher_spec_and_finished(content_type)
        if self._handshake_reader.has_partial_message and content_type != ContentType.ALERT:
            self._refuse_record_inside_handshake_message(content_type)
        if content_type == ContentType.ALERT:
            self._receive_alert(plaintext, encrypted)
        elif content_type == ContentType.CHANGE_CIPHER_SPEC:
            decode_change_cipher_spec(plaintext)
            self.transcript.add(self.peer, "change_cipher_spec", "ChangeCipherSpec", plaintext)
            self._advance(ContentType.CHANGE_CIPHER_SPEC, self._on_change_cipher_spec)
        elif content_type == ContentType.APPLICATION_DATA:
            next_states(self.role, self.state, ContentType.APPLICATION_DATA)
            self.transcript.add(self.peer, "application_data", "application data", plaintext, encrypted=True)
            if plaintext:
                self._events.append(ApplicationData(plaintext))
        else:  # pragma: no cover - RecordReader refuses other types already
            raise UnexpectedMessage(f"record content type {content_type} is not allowed")

    #: OpenSSL 3.0 MAX_EMPTY_RECORDS (ssl/record/ssl3_record.c)
    MAX_EMPTY_RECORDS: ClassVar[int] = 32
    #: OpenSSL 3.0 MAX_WARN_ALERT_COUNT (ssl/record/record.h)
    MAX_WARNING_ALERTS: ClassVar[int] = 5

    def _count_record(self, content_type: int, plaintext: bytes) -> None:
        """Limit floods of empty records (a peer could keep us spinning on them for free).

        RFC 5246 §6.2.1 allows zero-length application-data fragments ("may be sent as they
        are potentially useful as a traffic analysis countermeasure") but sets no limit; an
        empty handshake record (which its sender MUST NOT send) is counted the same way and
        otherwise ignored, as OpenSSL 3.0 does (ssl3_read_bytes: "We must have read empty
        records. Get more data"); an empty alert or ChangeCipherSpec never gets here
        (:func:`~httpslab.record.check_plaintext`, unexpected_message). OpenSSL
        3.0's ``ssl3_get_record`` fails with unexpected_message (SSL_R_RECORD_TOO_SMALL) once
        more than MAX_EMPTY_RECORDS come in a row, and any non-empty record resets the count.
        A non-empty record that is not an alert also resets the warning-alert count
        (``ssl3_read_bytes``, ssl/record/rec_layer_s3.c).
        """
        if plaintext:
            self._empty_records = 0
            if content_type != ContentType.ALERT:
                self._warning_alerts = 0
            return
        self._empty_records += 1
        if self._empty_records > self.MAX_EMPTY_RECORDS:
            raise UnexpectedMessage(
                f"the {self.peer} sent more than {self.MAX_EMPTY_RECORDS} empty records in a row "
                "(OpenSSL's limit, SSL_R_RECORD_TOO_SMALL)"
            )

    def _wrong_record_version(self, content_type: int, version: int) -> None:
        """A record header after the hellos whose version is not the negotiated one.

        RFC 5246 §6.2.1 (``version``: "The version of the protocol being employed") and
        Appendix E.1: only the records of the first hello may carry another 0x03xx. As OpenSSL
        3.0's ``ssl3_get_record`` (ssl/record/ssl3_record.c) does: protocol_version
        (SSL_R_WRONG_VERSION_NUMBER), checked first, before the content type, the length and
        any decryption (the :class:`RecordReader` calls this from its header check); while this
        side still writes plaintext the alert goes back in a record with the peer's version
        ("send back error using their minor version number") when its major byte is 3, and a
        record with the wrong version that is itself an alert is answered with nothing
        (SSL_AD_NO_ALERT).
        """
        wrong = f"0x{version:04x}"
        if self._write_protection is None and version >> 8 == TLS12 >> 8:
            if content_type == ContentType.ALERT:
                self._fail_silently = True
            else:
                self._record_version_out = version
        raise RemoteProtocolError(
            f"the {self.peer} sent a {_content_name(content_type)} record with record version "
            f"{wrong} after the hellos; every record must now carry the negotiated 0x0303 "
            "(RFC 5246 §6.2.1, Appendix E.1)",
            alert=AlertDescription.PROTOCOL_VERSION,
        )

    def _receive_application_data(self, record: Record) -> None:
        """A protected application-data record (the bulk path: no work the transcript does not keep)."""
        plaintext = self._read_protection.open(record.content_type, record.version, record.fragment)
        if len(plaintext) > MAX_PLAINTEXT_LENGTH:
            from .errors import RecordOverflow

            raise RecordOverflow(f"a decrypted record of {len(plaintext)} bytes is longer than 2^14")
        if plaintext:  # _count_record inlined for the bulk path: a non-empty record resets both counts
            self._empty_records = 0
            self._warning_alerts = 0
        else:
            self._count_record(ContentType.APPLICATION_DATA, plaintext)
        keep = self.transcript.keeps_application_data(self.peer, len(plaintext))
        if keep:
            self._note_record(self.peer, record, record.encode(), plaintext, True)
        if self._handshake_reader.has_partial_message:
            self._refuse_record_inside_handshake_message(ContentType.APPLICATION_DATA)
        next_states(self.role, self.state, ContentType.APPLICATION_DATA)
        if keep:
            self.transcript.add(self.peer, "application_data", "application data", plaintext, encrypted=True)
        if plaintext:
            self._events.append(ApplicationData(plaintext))

    def _refuse_record_between_change_cipher_spec_and_finished(self, content_type: int) -> None:
        """Any record but a handshake record after the peer's ChangeCipherSpec and before its Finished.

        RFC 5246 §7.1 / §7.4.9: the Finished message is "always sent immediately after a
        change cipher spec message". OpenSSL 3.0's ``ssl3_read_bytes``
        (ssl/record/rec_layer_s3.c) refuses any non-handshake record while
        ``s->s3.change_cipher_spec`` is set ("set when we receive ChangeCipherSpec, reset by
        ssl3_get_finished") with unexpected_message (SSL_R_DATA_BETWEEN_CCS_AND_FINISHED),
        before it looks at alerts: a warning, close_notify or even a fatal alert there is
        answered with unexpected_message, and so is one between two fragments of the Finished.
        """
        raise UnexpectedMessage(
            f"the {self.peer} sent a record of type {_content_name(content_type)} between its "
            "ChangeCipherSpec and its Finished (only the Finished may come there: OpenSSL's "
            "SSL_R_DATA_BETWEEN_CCS_AND_FINISHED)"
        )

    def _refuse_record_inside_handshake_message(self, content_type: int) -> None:
        """A ChangeCipherSpec or application-data record between two fragments of one handshake message.

        RFC 5246 §6.2.1 lets a handshake message span records and says that records of
        different content types MAY be interleaved; it does not say what may come between the
        fragments of one message. OpenSSL 3.0 (TLS 1.2) takes an alert there as it takes an
        alert at that point of the handshake outside a message (``ssl3_read_bytes``,
        ssl/record/rec_layer_s3.c, refuses mixing with
        SSL_R_MIXED_HANDSHAKE_AND_NON_HANDSHAKE_DATA only in TLS 1.3), so the caller lets
        alerts through — except between the fragments of a Finished, which come after the
        peer's ChangeCipherSpec: there every non-handshake record is unexpected_message
        (:meth:`_refuse_record_between_change_cipher_spec_and_finished`). A ChangeCipherSpec is unexpected_message: SSL_R_BAD_CHANGE_CIPHER_SPEC
        inside the 4-byte header (``tls_get_message_header``, ssl/statem/statem_lib.c: "may not
        occur in the middle of a handshake message"), SSL_R_CCS_RECEIVED_EARLY inside the body
        (``tls_get_message_body`` reads without ``recvd_type``); application data during the
        handshake is unexpected_message too (SSL_R_UNEXPECTED_RECORD). Once connected, httpslab
        refuses application data inside a fragmented (renegotiation) message as well.
        """
        raise UnexpectedMessage(
            f"a record of type {_content_name(content_type)} arrived in the middle of a fragmented "
            "handshake message (only alerts may come between its fragments in TLS 1.2, as in OpenSSL 3.0)"
        )

    def _note_record(
        self, sender: Role, record: Record, raw: bytes, plaintext: bytes, encrypted: bool
    ) -> None:
        """The transcript entry of a record that crossed the wire (``raw`` = header || fragment)."""
        self.transcript.add(
            sender,
            "record",
            f"{_content_name(record.content_type)} record",
            raw,
            decoded=record,
            plaintext=plaintext,
            ciphertext=record.fragment if encrypted else None,
            encrypted=encrypted,
        )

    def _write_record(self, content_type: ContentType, plaintext: bytes, *, note: bool = True) -> None:
        version = self._record_version_out
        encrypted = self._write_protection is not None
        if encrypted:
            fragment = self._write_protection.seal(content_type, version, plaintext)
            record = Record(content_type, version, fragment)
        else:
            record = Record(content_type, version, plaintext)
        raw = record.encode()
        self._outgoing += raw
        if note:
            self._note_record(self.role, record, raw, plaintext, encrypted)

    # -- handshake messages ---------------------------------------------------------
    def _receive_handshake(self, kind: HandshakeType | int, raw: bytes, encrypted: bool) -> None:
        if not isinstance(kind, HandshakeType):
            raise UnexpectedMessage(f"handshake message type {kind} is not part of TLS 1.2")
        if (
            kind == HandshakeType.HELLO_REQUEST
            and self.role == "client"
            and self.state is not State.CONNECTED
            and len(raw) == 4
        ):
            # RFC 5246 §7.4.1.1: "This message will be ignored by the client if the client is
            # currently negotiating a session", and it is not in the handshake hash. OpenSSL 3.0
            # (tls_get_message_header in ssl/statem/statem_lib.c) skips an empty one while the
            # client is not in TLS_ST_OK; one with a body falls through to unexpected_message.
            self.transcript.add(
                self.peer,
                "handshake",
                "HelloRequest",
                raw,
                decoded=decode_handshake(raw),
                encrypted=encrypted,
                note="ignored: the client is negotiating (RFC 5246 §7.4.1.1)",
            )
            return
        allowed = next_states(self.role, self.state, kind)
        key_exchange = self.suite.key_exchange if self.suite else None
        message = decode_handshake(raw, key_exchange=key_exchange)
        name = message_name(kind)
        self.transcript.add(
            self.peer, "handshake", name, raw, decoded=message, encrypted=encrypted, note=_note(message)
        )
        if self.state is State.CONNECTED:
            # HelloRequest / a renegotiating ClientHello: not part of the handshake hash.
            self._refuse_renegotiation(name)
            return
        transcript_before = bytes(self._handshake_log)
        self._handshake_log += raw
        handler: Callable[[Any, bytes], State] = getattr(self, f"_on_{kind.name.lower()}")
        new_state = handler(message, transcript_before)
        if new_state not in allowed:
            raise InternalError(
                f"{name} moved the {self.role} to {new_state.name}, which the table does not allow"
            )
        if self.state not in (State.CLOSED, State.ERROR):
            self.state = new_state

    def _advance(self, kind: MessageKind, handler: Callable[[], State]) -> None:
        allowed = next_states(self.role, self.state, kind)
        new_state = handler()
        if new_state not in allowed:
            raise InternalError(
                f"{message_name(kind)} moved the {self.role} to {new_state.name}, not allowed"
            )
        self.state = new_state

    def _send_handshake(self, message: Any) -> bytes:
        raw = encode_handshake(message)
        if self.state is not State.CONNECTED:
            self._handshake_log += raw
        for fragment in fragment_data(ContentType.HANDSHAKE, raw):
            self._write_record(ContentType.HANDSHAKE, fragment)
        self.transcript.add(
            self.role,
            "handshake",
            message_name(message.handshake_type),
            raw,
            decoded=message,
            encrypted=self._write_protection is not None,
            note=_note(message),
        )
        return raw

    def _refuse_renegotiation(self, name: str) -> None:
        # RFC 5746 §4.2/§4.4 and RFC 5246 §7.2.2: a peer that does not renegotiate may answer
        # with a no_renegotiation warning alert; httpslab never renegotiates.
        self._send_alert(AlertLevel.WARNING, AlertDescription.NO_RENEGOTIATION)

    # -- alerts ---------------------------------------------------------------------
    def _receive_alert(self, plaintext: bytes, encrypted: bool) -> None:
        alert = decode_alert(plaintext)
        description = alert.description
        name = _alert_name(description)
        self.transcript.add(
            self.peer, "alert", f"Alert {name}", plaintext, decoded=alert, encrypted=encrypted
        )
        if not alert.is_fatal:
            # RFC 5246 §7.2 sets no limit on warning alerts; OpenSSL 3.0's ssl3_read_bytes
            # (ssl/record/rec_layer_s3.c) fails on the MAX_WARN_ALERT_COUNT-th in a row with
            # unexpected_message (SSL_R_TOO_MANY_WARN_ALERTS), close_notify counted too.
            self._warning_alerts += 1
            if self._warning_alerts >= self.MAX_WARNING_ALERTS:
                raise UnexpectedMessage(
                    f"the {self.peer} sent {self._warning_alerts} warning alerts in a row "
                    "(OpenSSL's limit, SSL_R_TOO_MANY_WARN_ALERTS)"
                )
        if description == AlertDescription.CLOSE_NOTIFY:
            if self.state is not State.CONNECTED:
                # A close_notify before the handshake completed ends it: OpenSSL 3.0's
                # ssl3_read_bytes (ssl/record/rec_layer_s3.c) sets SSL_RECEIVED_SHUTDOWN and
                # returns 0, the handshake fails, and nothing is sent back (its close_notify
                # reply comes only from SSL_shutdown on a completed connection). The caller
                # gets an error (no alert queued: AlertReceived), not a clean close.
                raise AlertReceived(
                    description,
                    int(alert.level),
                    message=f"the {self.peer} closed the connection (close_notify) during the "
                    f"handshake (state {self.state.name}); the handshake did not complete",
                )
            # RFC 5246 §7.2.1: "the other party MUST respond with a close_notify alert of its
            # own and close down the connection immediately, discarding any pending writes."
            if not self._close_notify_sent:
                self._send_alert(AlertLevel.WARNING, AlertDescription.CLOSE_NOTIFY)
                self._close_notify_sent = True
            self.state = State.CLOSED
            self._wipe()
            self._events.append(ConnectionClosed(by_peer=True, clean=True))
            return
        if not isinstance(description, AlertDescription):
            if alert.is_fatal:
                raise RemoteProtocolError(
                    f"the {self.peer} sent a fatal alert with the unknown description {description}",
                    alert=AlertDescription.ILLEGAL_PARAMETER,
                )
        elif alert.is_fatal:
            # A fatal alert ends the connection (RFC 5246 §7.2.2).
            raise AlertReceived(description, int(alert.level))
        elif description == AlertDescription.NO_RENEGOTIATION and self.state is not State.CONNECTED:
            # OpenSSL 3.0 (ssl3_read_bytes, ssl/record/rec_layer_s3.c) answers a no_renegotiation
            # warning with a fatal handshake_failure (SSL_R_NO_RENEGOTIATION) in every state.
            # During a handshake httpslab does the same: the peer refused the negotiation under way.
            raise HandshakeFailure(f"the {self.peer} refused the handshake with a no_renegotiation warning")
        # A DELIBERATE DIFFERENCE from OpenSSL 3.0: once connected, a no_renegotiation warning
        # falls through to here and is only reported, where OpenSSL sends a fatal
        # handshake_failure (it assumes it asked to renegotiate). httpslab never asks to
        # renegotiate, so a refusal refuses nothing and the connection goes on.
        # Every *other* warning (RFC 5246 §7.2: the connection goes on) is reported as an event
        # and otherwise ignored, during the handshake too, as OpenSSL 3.0 does in TLS 1.2
        # ("We ignore any other warning alert in TLSv1.2 and below") — but not between the
        # peer's ChangeCipherSpec and its Finished, where no alert gets this far
        # (_refuse_record_between_change_cipher_spec_and_finished, as OpenSSL 3.0).
        self._events.append(WarningAlertReceived(description))

    def _send_alert(self, level: AlertLevel, description: AlertDescription) -> None:
        body = encode_alert(Alert(level=level, description=description))
        encrypted = self._write_protection is not None
        self._write_record(ContentType.ALERT, body)
        self.transcript.add(
            self.role,
            "alert",
            f"Alert {_alert_name(description)}",
            body,
            decoded=Alert(level, description),
            encrypted=encrypted,
        )

    def _end_of_stream(self) -> None:
        """The transport closed without close_notify."""
        if self.state is State.CONNECTED:
            self.state = State.CLOSED
            self._wipe()
            self._events.append(ConnectionClosed(by_peer=True, clean=False))
            return
        raise RemoteProtocolError(
            f"the {self.peer} closed the connection during the handshake (state {self.state.name})",
            alert=AlertDescription.HANDSHAKE_FAILURE,
        )

    def _fail(self, error: TLSError, *, send_alert: bool = True) -> None:
        self.error = error
        if self._fail_silently:
            send_alert = False
        if send_alert and isinstance(error, ProtocolError) and self.state not in (State.CLOSED, State.ERROR):
            try:
                self._send_alert(AlertLevel.FATAL, error.alert)
            except TLSError:
                pass
        self.state = State.ERROR
        self._wipe()

    def _wipe(self) -> None:
        for protection in (
            self._read_protection,
            self._write_protection,
            self._pending_read,
            self._pending_write,
        ):
            if protection is not None:
                protection.wipe()
        self._pending_read = self._pending_write = None
        self._premaster_secret = None
        self._master_secret = None
        self._key_block = None
        self._forget_ephemeral()

    def _forget_ephemeral(self) -> None:
        """Drop ephemeral private keys (subclasses hold them)."""

    # -- key schedule ---------------------------------------------------------------
    def _random(self, length: int) -> bytes | None:
        if self.config.random is None:
            return None
        value = bytes(self.config.random(length))
        if len(value) != length:
            raise InternalError(f"TLSConfig.random returned {len(value)} bytes, not {length}")
        return value

    def _prf(self, secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
        assert self.suite is not None
        function = self.config.primitives.prf or keyschedule.prf
        value = bytes(function(secret, label, seed, length, self.suite.prf_hash))
        if len(value) != length:
            raise InternalError(f"the PRF returned {len(value)} bytes, not {length}")
        return value

    def _handshake_hash(self, data: bytes) -> bytes:
        assert self.suite is not None
        return keyschedule.transcript_hash(data, self.suite.prf_hash)

    def _derive_keys(self, premaster_secret: bytes) -> None:
        """Master secret (RFC 5246 §8.1 or RFC 7627 §4) and key block (§6.3), both directions."""
        suite = self.suite
        assert suite is not None and self.client_random and self.server_random
        custom_prf = self.config.primitives.prf is not None
        session_hash = None
        if self.extended_master_secret:
            # RFC 7627 §3: the hash of the handshake messages up to and including ClientKeyExchange
            session_hash = self._handshake_hash(bytes(self._handshake_log))
            if custom_prf:
                master = self._prf(premaster_secret, b"extended master secret", session_hash, 48)
            else:
                master = keyschedule.extended_master_secret(premaster_secret, session_hash, suite.prf_hash)
        elif custom_prf:
            master = self._prf(
                premaster_secret, b"master secret", self.client_random + self.server_random, 48
            )
        else:
            master = keyschedule.master_secret(
                premaster_secret, self.client_random, self.server_random, suite.prf_hash
            )
        if custom_prf:
            block = self._prf(
                master, b"key expansion", self.server_random + self.client_random, suite.key_block_length
            )
            sizes = [suite.mac_length] * 2 + [suite.enc_key_length] * 2 + [suite.fixed_iv_length] * 2
            pieces, offset = [], 0
            for size in sizes:
                pieces.append(block[offset : offset + size])
                offset += size
            key_block = keyschedule.KeyBlock(*pieces, key_block=block)
        else:
            key_block = keyschedule.key_block(master, self.client_random, self.server_random, suite)
        self._premaster_secret = premaster_secret
        self._master_secret = master
        self._key_block = key_block
        secrets = self.transcript.secrets
        secrets.extended_master_secret = self.extended_master_secret
        secrets.encrypt_then_mac = self.encrypt_then_mac
        if self.config.keep_secrets:
            secrets.premaster_secret = premaster_secret
            secrets.session_hash = session_hash
            secrets.master_secret = master
            secrets.key_block = key_block
        own = self.role
        self._pending_write = self._protection(own)
        self._pending_read = self._protection(self.peer)

    def _protection(self, sender: Role) -> Any:
        suite = self.suite
        assert suite is not None and self._key_block is not None
        mac_key, key, iv = self._key_block.write_keys(sender)
        primitives = self.config.primitives
        etm = self.encrypt_then_mac and not suite.is_aead
        if primitives.record_seal is not None or primitives.record_open is not None:
            return _CallerRecordProtection(DirectionKeys(suite, key, iv, mac_key, etm), primitives)
        if suite.is_aead:
            return RecordProtection(
                suite, key, iv, mac_key, aead_seal=primitives.aead_seal, aead_open=primitives.aead_open
            )
        return RecordProtection(suite, key, iv, mac_key, encrypt_then_mac=etm)

    def _verify_data(self, sender: Role, handshake_messages: bytes) -> bytes:
        assert self.suite is not None and self._master_secret is not None
        handshake_hash = self._handshake_hash(handshake_messages)
        if self.config.primitives.prf is not None:
            label = b"client finished" if sender == "client" else b"server finished"
            return self._prf(self._master_secret, label, handshake_hash, keyschedule.VERIFY_DATA_LENGTH)
        return keyschedule.verify_data(self._master_secret, sender, handshake_hash, self.suite.prf_hash)

    # -- ChangeCipherSpec and Finished (both roles) -----------------------------------
    def _send_change_cipher_spec_and_finished(self) -> None:
        body = encode_change_cipher_spec()
        self._write_record(ContentType.CHANGE_CIPHER_SPEC, body)
        self.transcript.add(self.role, "change_cipher_spec", "ChangeCipherSpec", body)
        # RFC 5246 §7.1: the pending write state becomes current right after ChangeCipherSpec.
        self._write_protection, self._pending_write = self._pending_write, None
        verify_data = self._verify_data(self.role, bytes(self._handshake_log))
        self._send_handshake(Finished(verify_data=verify_data))

    def _on_change_cipher_spec(self) -> State:
        if self._pending_read is None:
            raise UnexpectedMessage("ChangeCipherSpec before the keys were agreed")
        self._read_protection, self._pending_read = self._pending_read, None
        self._records.plaintext = False
        return State.WAIT_FINISHED

    def _check_finished(self, message: Finished, transcript_before: bytes) -> None:
        expected = self._verify_data(self.peer, transcript_before)
        if not hmac.compare_digest(expected, message.verify_data):
            # RFC 5246 §7.4.9: "Recipients of Finished messages MUST verify that the contents
            # are correct." OpenSSL answers a wrong verify_data with decrypt_error.
            raise DecryptError(
                f"the {self.peer}'s Finished does not match: expected {expected.hex()}, "
                f"got {message.verify_data.hex()} (the two sides derived different keys, "
                "or the handshake was tampered with)"
            )

    def _complete(self) -> None:
        assert self.suite is not None
        self._events.append(
            HandshakeComplete(
                version=TLS12,
                cipher_suite=self.suite.suite,
                extended_master_secret=self.extended_master_secret,
                encrypt_then_mac=self.encrypt_then_mac and not self.suite.is_aead,
                server_name=self.server_name,
                peer_certificates=self.peer_certificates,
            )
        )

    # -- certificates ---------------------------------------------------------------
    def _parse_certificates(self, message: Certificate) -> list[x509.Certificate]:
        certificates = []
        for index, der in enumerate(message.certificate_list):
            try:
                certificates.append(_load_der_certificate(bytes(der)))
            except ValueError as exc:
                raise BadCertificate(
                    f"certificate #{index} from the {self.peer} does not parse: {exc}"
                ) from exc
        return certificates

    def _leaf_public_key(self, leaf: x509.Certificate) -> Any:
        """The public key of the peer's leaf; BadCertificate if it does not decode.

        The DER of a certificate parses with its key still encoded: a key that is not on its
        curve or not valid DER fails only here, and that is the peer's bad certificate.
        """
        try:
            return leaf.public_key()
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise BadCertificate(
                f"the public key of the {self.peer}'s certificate does not decode: {exc}"
            ) from exc

    def _verify_peer_chain(self, chain: list[x509.Certificate], purpose: str) -> None:
        if not self.config.verify:
            return
        from .pki.verify import verify_chain

        try:
            anchors = self.config.load_trust_anchors()
        except CertificateError as exc:
            raise InternalError(str(exc)) from exc
        name = self.config.server_name if purpose == "server" else None
        ip = None
        if name is not None and _is_ip(name):
            ip, name = name.strip("[]"), None
        report = verify_chain(
            chain[0],
            chain[1:],
            anchors,
            server_name=name,
            ip_address=ip,
            at=self.config.verify_time,
            purpose=purpose,  # type: ignore[arg-type]
        )
        self.verification_report = report
        if not report.ok:
            alert = report.alert or AlertDescription.BAD_CERTIFICATE
            check = report.error
            if check is None:  # pragma: no cover - a report that is not ok names its failed check
                reason = report.summary()
            else:
                reason = f"at the '{check.name}' check: {check.explanation.rstrip('.')} ({check.rfc})"
            raise BadCertificate(
                f"the {self.peer}'s certificate was rejected {reason}; "
                f"sending the fatal alert {alert.name.lower()}",
                alert=alert,
            )


@functools.lru_cache(maxsize=64)
def _load_der_certificate(der: bytes) -> x509.Certificate:
    """Parse one DER certificate; a certificate is immutable, so the same server's chain is
    parsed once and the object reused (every check on it still runs on every handshake)."""
    return x509.load_der_x509_certificate(der)


def _name(value: Any) -> str:
    return value.name.lower() if hasattr(value, "name") else f"0x{int(value):04x}"


def _note(message: Any) -> str:
    """A few words for the transcript ladder: what this message decided."""
    if isinstance(message, ClientHello):
        count = len(message.cipher_suites)
        return f"{count} cipher suite{'s' if count != 1 else ''} offered"
    if isinstance(message, ServerHello):
        return _name(message.cipher_suite).upper()
    if isinstance(message, Certificate):
        count = len(message.certificate_list)
        return f"{count} certificate{'s' if count != 1 else ''}" if count else "no certificate"
    if isinstance(message, ServerKeyExchange):
        params = message.params
        if isinstance(params, ServerECDHParams):
            kind = f"curve {_name(params.named_curve)}"
        else:
            kind = f"{len(params.dh_p) * 8}-bit DH group"
        return f"{kind}, signed with {_name(message.scheme)}"
    if isinstance(message, CertificateVerify):
        return f"signed with {_name(message.scheme)}"
    if isinstance(message, Finished):
        return f"verify_data {message.verify_data.hex()}"
    return ""


_CONTENT_NAMES: dict[int, str] = {
    int(content_type): content_type.name.lower() for content_type in ContentType
}


def _content_name(content_type: int) -> str:
    name = _CONTENT_NAMES.get(content_type)
    return name if name is not None else f"type {content_type}"


def _alert_name(description: AlertDescription | int) -> str:
    return description.name.lower() if isinstance(description, AlertDescription) else str(int(description))


# ============================================================================ client


class ClientConnection(TLSConnection):
    """The client side of a TLS 1.2 handshake (RFC 5246 §7.3)."""

    role: ClassVar[Role] = "client"

    def __init__(self, config: TLSConfig | None = None) -> None:
        super().__init__(config)
        self._offered_suites: tuple[CipherSuite, ...] = ()
        self._offered_extensions: set[int] = set()
        self._server_public_key: Any = None
        self._certificate_request: CertificateRequest | None = None
        self._ephemeral: Any = None
        self._client_hello: ClientHello | None = None
        self._key_exchange_result: tuple[bytes, bytes] | None = None
        self.server_name = self.config.server_name

    def start_handshake(self) -> None:
        """Queue the ClientHello."""
        if self.state is not State.START:
            raise LocalProtocolError("the handshake was already started")
        config = self.config
        self.client_random = self._random(32) or os.urandom(32)
        suites: list[int] = list(config.cipher_suites)
        extensions: list[Any] = []
        name = config.server_name
        if name is not None and not config.server_name_is_ip:
            # RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in HostName."
            extensions.append(ServerNameExtension.for_host(name.rstrip(".")))
        if any(suite_info(s).key_exchange == "ECDHE" for s in config.cipher_suites):
            extensions.append(ECPointFormatsExtension((ECPointFormat.UNCOMPRESSED,)))
        if config.groups:
            extensions.append(SupportedGroupsExtension(tuple(config.groups)))
        if config.encrypt_then_mac:
            extensions.append(EncryptThenMacExtension())
        if config.extended_master_secret:
            extensions.append(ExtendedMasterSecretExtension())
        extensions.append(SignatureAlgorithmsExtension(tuple(config.signature_schemes)))
        if config.renegotiation_scsv:
            suites.append(CipherSuite.TLS_EMPTY_RENEGOTIATION_INFO_SCSV)
        else:
            extensions.append(RenegotiationInfoExtension(b""))
        hello = ClientHello(random=self.client_random, cipher_suites=suites, extensions=extensions)
        self._client_hello = hello
        self._offered_suites = tuple(config.cipher_suites)
        self._offered_extensions = {int(e.type) for e in extensions}
        self.transcript.secrets.client_random = self.client_random
        self._send_handshake(hello)
        self.state = State.WAIT_HELLO

    # -- handlers (names follow HandshakeType: _on_<type>) -------------------------------
    def _on_server_hello(self, hello: ServerHello, _: bytes) -> State:
        if hello.legacy_version != TLS12:
            raise RemoteProtocolError(
                f"the server chose version {hello.legacy_version!r}; httpslab speaks TLS 1.2 only",
                alert=AlertDescription.PROTOCOL_VERSION,
            )
        if hello.cipher_suite not in self._offered_suites:
            # RFC 5246 §7.4.1.3: "cipher_suite: The single cipher suite selected by the server
            # from the list in ClientHello.cipher_suites."
            raise IllegalParameter(
                f"the server chose cipher suite {hello.cipher_suite!r}, which the client did not offer"
            )
        if hello.compression_method != 0:
            raise IllegalParameter("the server chose a compression method the client did not offer")
        for extension in hello.extensions or ():
            if int(extension.type) not in self._offered_extensions:
                # RFC 5246 §7.4.1.4: an extension the client did not ask for -> unsupported_extension
                raise RemoteProtocolError(
                    f"the server answered extension {extension.type!r}, which the client did not offer",
                    alert=AlertDescription.UNSUPPORTED_EXTENSION,
                )
        renegotiation_info = hello.renegotiation_info
        if renegotiation_info is None:
            if self.config.require_secure_renegotiation:
                # RFC 5746 §4.1 lets a client refuse; OpenSSL 3 does (unsafe legacy renegotiation).
                raise HandshakeFailure(
                    "the server did not answer renegotiation_info (RFC 5746): it may be open to "
                    "renegotiation attacks, and OpenSSL 3 refuses such servers too"
                )
        elif renegotiation_info:
            raise HandshakeFailure("renegotiation_info must be empty in an initial handshake (RFC 5746 §3.4)")
        formats = hello.ec_point_formats
        if formats is not None and ECPointFormat.UNCOMPRESSED not in formats:
            raise IllegalParameter("the server's ec_point_formats lack uncompressed (RFC 8422 §5.2)")
        self.suite = suite_info(hello.cipher_suite)
        self.version = TLS12
        self.server_random = hello.random
        self.extended_master_secret = self.config.extended_master_secret and hello.extended_master_secret
        # RFC 7366 §3: encrypt-then-MAC applies only to CBC suites (OpenSSL ignores it otherwise)
        self.encrypt_then_mac = (
            self.config.encrypt_then_mac and hello.encrypt_then_mac and not self.suite.is_aead
        )
        secrets = self.transcript.secrets
        secrets.server_random = hello.random
        secrets.cipher_suite = self.suite.suite
        secrets.extended_master_secret = self.extended_master_secret
        secrets.encrypt_then_mac = self.encrypt_then_mac
        self._records.expected_version = int(TLS12)  # OpenSSL: first_packet = 0 once the hello was read
        return State.WAIT_CERTIFICATE

    def _on_certificate(self, message: Certificate, _: bytes) -> State:
        assert self.suite is not None
        if not message.certificate_list:
            raise HandshakeFailure("the server sent an empty Certificate message")
        chain = self._parse_certificates(message)
        self.peer_certificates = tuple(chain)
        public_key = self._leaf_public_key(chain[0])
        kind = key_kind(public_key)
        if kind != self.suite.authentication:
            # OpenSSL: SSL_R_WRONG_CERTIFICATE_TYPE with illegal_parameter
            raise IllegalParameter(
                f"{self.suite.name} needs an {self.suite.authentication} certificate; the server sent "
                f"{'an' if kind else 'a'} {kind or type(public_key).__name__} one"
            )
        self._verify_peer_chain(chain, "server")
        self._server_public_key = public_key
        return State.WAIT_KEY_EXCHANGE if self.suite.forward_secret else State.WAIT_CERTIFICATE_REQUEST

    def _on_server_key_exchange(self, message: ServerKeyExchange, _: bytes) -> State:
        assert self.suite is not None and self.client_random and self.server_random
        offered = self.config.signature_schemes
        if message.scheme not in offered:
            raise IllegalParameter(
                f"the server signed with {message.scheme!r}, which the client did not offer"
            )
        self._check_certificate_curve()
        verify_signature(
            self._server_public_key,
            message.scheme,
            message.signature,
            message.signed_content(self.client_random, self.server_random),
            "ServerKeyExchange",
        )
        params = message.params
        if isinstance(params, ServerDHParams):
            group = keyexchange.group_from_params(
                int.from_bytes(params.dh_p, "big"), int.from_bytes(params.dh_g, "big")
            )
            if group.bits < self.config.minimum_dh_bits:
                raise HandshakeFailure(
                    f"the server's DH group has {group.bits} bits; at least {self.config.minimum_dh_bits} required"
                )
            server_public = int.from_bytes(params.dh_Ys, "big")
            private = keyexchange.dh_generate_private(group, self._random(group.byte_length))
            self._ephemeral = private
            function = self.config.primitives.dh_shared_secret or keyexchange.dh_shared_secret
            premaster = bytes(function(group, private, server_public))
            public_value = keyexchange.int_to_bytes(keyexchange.dh_public(group, private))
        else:
            assert isinstance(params, ServerECDHParams)
            curve = params.named_curve
            if curve not in self.config.groups or curve not in _EC_GROUPS:
                raise IllegalParameter(f"the server chose curve {curve!r}, which the client did not offer")
            private_key = _ecdhe_generate(NamedGroup(curve), self._random)
            self._ephemeral = private_key
            function = self.config.primitives.ecdh_shared_secret or keyexchange.ecdhe_shared_secret
            premaster = bytes(function(NamedGroup(curve), private_key, params.point))
            public_value = keyexchange.ecdhe_public_bytes(private_key)
        self._key_exchange_result = (premaster, public_value)
        return State.WAIT_CERTIFICATE_REQUEST

    def _check_certificate_curve(self) -> None:
        """RFC 8422 §5.3: an ECDSA server key "MUST employ a curve supported by the client".

        Checked, as OpenSSL 3.0's ``tls12_check_peer_sigalg`` (ssl/t1_lib.c) does, when the
        ServerKeyExchange signed with that key arrives and before its signature is verified:
        illegal_parameter (SSL_R_WRONG_CURVE). Without a supported_groups extension the client
        named no curves (RFC 8422 §4), and there is nothing to check.
        """
        key = self._server_public_key
        offered = self.config.groups
        if offered and not _certificate_curve_offered(key, offered):
            assert isinstance(key, ec.EllipticCurvePublicKey)
            raise IllegalParameter(
                f"the server's ECDSA certificate key is on {key.curve.name}, a curve the client did "
                f"not offer in supported_groups ({', '.join(g.name.lower() for g in offered)}; RFC 8422 §5.3)"
            )

    def _on_certificate_request(self, message: CertificateRequest, _: bytes) -> State:
        self._certificate_request = message
        return State.WAIT_HELLO_DONE

    def _on_server_hello_done(self, message: ServerHelloDone, _: bytes) -> State:
        assert self.suite is not None
        credential: Credential | None = None
        scheme: SignatureScheme | None = None
        request = self._certificate_request
        if request is not None:
            credential, scheme = self._choose_client_credential(request)
            chain = credential.certificate_chain if credential else ()
            self._send_handshake(
                Certificate(tuple(c.public_bytes(serialization.Encoding.DER) for c in chain)),
            )
        if self.suite.key_exchange == "RSA":
            premaster = keyexchange.make_rsa_premaster(0x0303, self._random(46))
            function = self.config.primitives.rsa_encrypt_premaster or keyexchange.rsa_encrypt_premaster
            exchange_keys = bytes(function(self._server_public_key, premaster))
        else:
            assert self._key_exchange_result is not None
            premaster, exchange_keys = self._key_exchange_result
        self._send_handshake(
            ClientKeyExchange(key_exchange=self.suite.key_exchange, exchange_keys=exchange_keys)
        )
        self._derive_keys(premaster)
        self._forget_ephemeral()
        if credential is not None and scheme is not None:
            # RFC 5246 §7.4.8: the signature covers handshake_messages, all of them so far.
            signature = sign(credential.private_key, scheme, bytes(self._handshake_log))
            self._send_handshake(CertificateVerify(scheme=scheme, signature=signature))
        self._send_change_cipher_spec_and_finished()
        return State.WAIT_CHANGE_CIPHER_SPEC

    def _choose_client_credential(
        self, request: CertificateRequest
    ) -> tuple[Credential | None, SignatureScheme | None]:
        type_for = {"RSA": ClientCertificateType.RSA_SIGN, "ECDSA": ClientCertificateType.ECDSA_SIGN}
        for credential in self.config.credentials:
            if type_for[credential.authentication] not in request.certificate_types:
                continue
            scheme = choose_scheme(
                credential.private_key, request.supported_signature_algorithms, self.config.signature_schemes
            )
            if scheme is not None:
                return credential, scheme
        return None, None

    def _on_finished(self, message: Finished, transcript_before: bytes) -> State:
        self._check_finished(message, transcript_before)
        self._complete()
        return State.CONNECTED

    def _forget_ephemeral(self) -> None:
        self._ephemeral = None
        self._key_exchange_result = None


def _ecdhe_generate(group: NamedGroup, random: Callable[[int], bytes | None]) -> Any:
    length = keyexchange.ecdhe_point_length(group)
    length = length if group in (NamedGroup.X25519, NamedGroup.X448) else (length - 1) // 2
    for _ in range(8):
        try:
            return keyexchange.ecdhe_generate(group, random(length))
        except LocalProtocolError:
            continue  # a scalar >= n from a caller's random source: draw again
    raise InternalError(f"could not draw a {group.name} private key from TLSConfig.random")


# ============================================================================ server


class ServerConnection(TLSConnection):
    """The server side of a TLS 1.2 handshake (RFC 5246 §7.3)."""

    role: ClassVar[Role] = "server"

    def __init__(self, config: TLSConfig | None = None) -> None:
        super().__init__(config)
        if not self.config.credentials:
            raise LocalProtocolError("a server needs at least one Credential (certificate and key)")
        self.state = State.WAIT_HELLO
        self._credential: Credential | None = None
        self._client_hello: ClientHello | None = None
        self._ephemeral: Any = None
        self._dh_group: keyexchange.DHGroup | None = None
        self._ecdh_group: NamedGroup | None = None
        self._client_public_key: Any = None
        self._requested_schemes: tuple[SignatureScheme, ...] = ()

    def _on_client_hello(self, hello: ClientHello, _: bytes) -> State:
        config = self.config
        if hello.legacy_version < TLS12:
            # RFC 5246 Appendix E.1; OpenSSL answers protocol_version (SSL_R_UNSUPPORTED_PROTOCOL)
            raise RemoteProtocolError(
                f"the client offers at most {hello.legacy_version!r}; this server speaks TLS 1.2 only",
                alert=AlertDescription.PROTOCOL_VERSION,
            )
        if 0 not in hello.compression_methods:
            raise DecodeError(
                "the ClientHello does not offer the null compression method (RFC 5246 §7.4.1.2)"
            )
        renegotiation_info = hello.renegotiation_info
        if renegotiation_info:
            raise HandshakeFailure("renegotiation_info must be empty in an initial handshake (RFC 5746 §3.6)")
        secure_renegotiation = (
            renegotiation_info is not None
            or CipherSuite.TLS_EMPTY_RENEGOTIATION_INFO_SCSV in hello.cipher_suites
        )
        formats = hello.ec_point_formats
        if formats is not None and ECPointFormat.UNCOMPRESSED not in formats:
            raise IllegalParameter("the client's ec_point_formats lack uncompressed (RFC 8422 §5.1.2)")
        peer_schemes = hello.signature_algorithms or DEFAULT_PEER_SCHEMES
        suite, credential, scheme = self._choose_suite(hello, peer_schemes)
        self._client_hello = hello
        self._credential = credential
        self.suite = suite
        self.version = TLS12
        self.client_random = hello.random
        self.server_random = self._random(32) or os.urandom(32)
        self.server_name = hello.server_name
        self._records.expected_version = int(TLS12)  # OpenSSL: first_packet = 0 once the hello was read
        self.extended_master_secret = config.extended_master_secret and hello.extended_master_secret
        self.encrypt_then_mac = config.encrypt_then_mac and hello.encrypt_then_mac and not suite.is_aead
        secrets = self.transcript.secrets
        secrets.client_random, secrets.server_random = self.client_random, self.server_random
        secrets.cipher_suite = suite.suite
        secrets.extended_master_secret = self.extended_master_secret
        secrets.encrypt_then_mac = self.encrypt_then_mac

        extensions: list[Any] = []
        if secure_renegotiation:
            extensions.append(RenegotiationInfoExtension(b""))
        if suite.key_exchange == "ECDHE" and formats is not None:
            extensions.append(ECPointFormatsExtension((ECPointFormat.UNCOMPRESSED,)))
        if self.encrypt_then_mac:
            extensions.append(EncryptThenMacExtension())
        if self.extended_master_secret:
            extensions.append(ExtendedMasterSecretExtension())
        self._send_handshake(
            ServerHello(random=self.server_random, cipher_suite=suite.suite, extensions=extensions)
        )
        self._send_handshake(
            Certificate(
                tuple(c.public_bytes(serialization.Encoding.DER) for c in credential.certificate_chain)
            )
        )
        if suite.forward_secret:
            assert scheme is not None
            self._send_server_key_exchange(scheme)
        if config.request_client_certificate:
            self._requested_schemes = tuple(config.signature_schemes)
            self._send_handshake(
                CertificateRequest(
                    certificate_types=(ClientCertificateType.RSA_SIGN, ClientCertificateType.ECDSA_SIGN),
                    supported_signature_algorithms=self._requested_schemes,
                    certificate_authorities=(),
                )
            )
        self._send_handshake(ServerHelloDone())
        return State.WAIT_CERTIFICATE if config.request_client_certificate else State.WAIT_KEY_EXCHANGE

    def _choose_suite(
        self, hello: ClientHello, peer_schemes: Sequence[SignatureScheme | int]
    ) -> tuple[SuiteInfo, Credential, SignatureScheme | None]:
        """The server's first suite that the client offered and that it can serve (RFC 5246 §7.4.1.3).

        As OpenSSL 3.0's ``ssl3_choose_cipher`` (ssl/s3_lib.c), a suite is skipped, not refused,
        when it cannot be completed: a certificate on a curve the client did not name in
        supported_groups (RFC 8422 §5.3; ``tls1_check_cert_param`` in ssl/t1_lib.c leaves it out
        of the masks), no signature scheme in common, or no group for its key exchange
        (``tls1_check_ec_tmp_key``). With no suite left: handshake_failure (SSL_R_NO_SHARED_CIPHER).
        """
        client_groups = hello.supported_groups
        for suite in self.config.cipher_suites:
            if suite not in hello.cipher_suites:
                continue
            info = suite_info(suite)
            for credential in self.config.credentials:
                if credential.authentication != info.authentication:
                    continue
                if not _certificate_curve_offered(credential.private_key, client_groups):
                    continue  # RFC 8422 §5.3; OpenSSL: tls1_check_cert_param, no aECDSA in the masks
                scheme = None
                if info.forward_secret:
                    scheme = choose_scheme(
                        credential.private_key, peer_schemes, self.config.signature_schemes
                    )
                    if scheme is None:
                        continue
                if info.key_exchange == "ECDHE":
                    group = self._choose_ec_group(client_groups)
                    if group is None:
                        continue
                    self._ecdh_group = group
                if info.key_exchange == "DHE":
                    dh_group = self._choose_dh_group(client_groups)
                    if dh_group is None:
                        continue
                    self._dh_group = dh_group
                return info, credential, scheme
        raise HandshakeFailure(
            "no shared cipher: none of the client's suites is one this server offers and can complete "
            "(a certificate on a curve the client named, a signature scheme and a group in common)"
        )

    def _choose_ec_group(self, client_groups: Sequence[NamedGroup | int] | None) -> NamedGroup | None:
        ours = [g for g in self.config.groups if g in _EC_GROUPS]
        if client_groups is None:
            # RFC 8422 §4: without the extension the server may pick any curve; P-256 is safe.
            return NamedGroup.SECP256R1 if NamedGroup.SECP256R1 in ours or not ours else ours[0]
        for group in ours:
            if group in client_groups:
                return group
        return None

    def _choose_dh_group(
        self, client_groups: Sequence[NamedGroup | int] | None
    ) -> keyexchange.DHGroup | None:
        offered_ffdhe = [g for g in (client_groups or ()) if g in _FFDHE_GROUPS or 0x0100 <= int(g) <= 0x01FF]
        if not offered_ffdhe:
            return self.config.dh_group  # RFC 7919 §4: a client that names no FFDHE group
        for group in self.config.groups:
            if group in _FFDHE_GROUPS and group in offered_ffdhe:
                return keyexchange.dh_group(group)
        return None  # RFC 7919 §4: do not pick a DHE suite then

    def _send_server_key_exchange(self, scheme: SignatureScheme) -> None:
        assert self.suite is not None and self._credential is not None
        params: ServerDHParams | ServerECDHParams
        if self.suite.key_exchange == "DHE":
            group = self._dh_group
            assert group is not None
            private = keyexchange.dh_generate_private(group, self._random(group.byte_length))
            self._ephemeral = private
            params = ServerDHParams(
                dh_p=keyexchange.int_to_bytes(group.p),
                dh_g=keyexchange.int_to_bytes(group.g),
                dh_Ys=keyexchange.int_to_bytes(keyexchange.dh_public(group, private)),
            )
        else:
            curve = self._ecdh_group
            assert curve is not None
            private_key = _ecdhe_generate(curve, self._random)
            self._ephemeral = private_key
            params = ServerECDHParams(named_curve=curve, point=keyexchange.ecdhe_public_bytes(private_key))
        unsigned = ServerKeyExchange(params=params, scheme=scheme, signature=b"")
        assert self.client_random and self.server_random
        signature = sign(
            self._credential.private_key,
            scheme,
            unsigned.signed_content(self.client_random, self.server_random),
        )
        self._send_handshake(ServerKeyExchange(params=params, scheme=scheme, signature=signature))

    def _on_certificate(self, message: Certificate, _: bytes) -> State:
        if not message.certificate_list:
            if self.config.require_client_certificate:
                # OpenSSL 3 (TLS 1.2, SSL_VERIFY_FAIL_IF_NO_PEER_CERT): handshake_failure with
                # SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE (TLS 1.3 would send certificate_required).
                raise HandshakeFailure("the client did not send a certificate, and this server requires one")
            return State.WAIT_KEY_EXCHANGE
        chain = self._parse_certificates(message)
        if key_kind(self._leaf_public_key(chain[0])) is None:
            raise RemoteProtocolError(
                "the client's certificate key is neither RSA nor ECDSA",
                alert=AlertDescription.UNSUPPORTED_CERTIFICATE,
            )
        self._verify_peer_chain(chain, "client")
        self.peer_certificates = tuple(chain)
        self._client_public_key = chain[0].public_key()
        return State.WAIT_KEY_EXCHANGE

    def _on_client_key_exchange(self, message: ClientKeyExchange, _: bytes) -> State:
        assert self.suite is not None and self._credential is not None and self._client_hello is not None
        primitives = self.config.primitives
        if self.suite.key_exchange == "RSA":
            function = primitives.rsa_decrypt_premaster or keyexchange.rsa_decrypt_premaster
            # RFC 5246 §7.4.7.1: compare with the version the client *offered*.
            premaster = bytes(
                function(
                    self._credential.private_key,
                    message.exchange_keys,
                    int(self._client_hello.legacy_version),
                )  # type: ignore[arg-type]
            )
        elif self.suite.key_exchange == "DHE":
            assert self._dh_group is not None
            function = primitives.dh_shared_secret or keyexchange.dh_shared_secret
            premaster = bytes(
                function(self._dh_group, self._ephemeral, int.from_bytes(message.exchange_keys, "big"))
            )
        else:
            assert self._ecdh_group is not None
            function = primitives.ecdh_shared_secret or keyexchange.ecdhe_shared_secret
            premaster = bytes(function(self._ecdh_group, self._ephemeral, message.exchange_keys))
        self._forget_ephemeral()
        self._derive_keys(premaster)
        return (
            State.WAIT_CERTIFICATE_VERIFY
            if self._client_public_key is not None
            else State.WAIT_CHANGE_CIPHER_SPEC
        )

    def _on_certificate_verify(self, message: CertificateVerify, transcript_before: bytes) -> State:
        self._check_client_certificate_curve()
        if message.scheme not in self._requested_schemes:
            raise IllegalParameter(
                f"the client signed with {message.scheme!r}, which the server did not ask for"
            )
        verify_signature(
            self._client_public_key, message.scheme, message.signature, transcript_before, "CertificateVerify"
        )
        return State.WAIT_CHANGE_CIPHER_SPEC

    def _check_client_certificate_curve(self) -> None:
        """The client's ECDSA key must be on a curve both sides name (RFC 8422 §5.1.1, §5.3).

        As OpenSSL 3.0's server in ``tls12_check_peer_sigalg`` (ssl/t1_lib.c, "Check curve
        matches extensions": ``tls1_check_group_id(s, group, 1)``), with the CertificateVerify
        and before its signature: the curve must be in the client's supported_groups (when it
        sent the extension) and in the server's own groups, else illegal_parameter
        (SSL_R_WRONG_CURVE). TLS 1.2 does not tie the curve to the scheme's hash: a P-256 key may
        sign with ecdsa_secp384r1_sha384, and OpenSSL accepts that too.

        The server's own groups: a ``groups`` the caller configured is used as given; left at
        :data:`DEFAULT_GROUPS` (or set to a list equal to it), the server checks against
        :data:`OPENSSL_DEFAULT_GROUPS`, the list a default OpenSSL server checks against, which
        also names P-384 and P-521 (httpslab's default only leaves out the groups it cannot use
        for a key exchange; verifying an ECDSA signature on those curves needs no key exchange).
        """
        assert self._client_hello is not None
        key = self._client_public_key
        own_groups = self.config.groups
        if tuple(own_groups) == DEFAULT_GROUPS:
            own_groups = OPENSSL_DEFAULT_GROUPS
        checks = (
            (self._client_hello.supported_groups, "the client did not name in supported_groups"),
            (own_groups, "this server's groups do not include"),
        )
        for groups, failure in checks:
            if not _certificate_curve_offered(key, groups):
                assert isinstance(key, ec.EllipticCurvePublicKey) and groups
                raise IllegalParameter(
                    f"the client's ECDSA certificate key is on {key.curve.name}, a curve {failure} "
                    f"({', '.join(_name(g) for g in groups)}; RFC 8422 §5.3, OpenSSL: wrong curve)"
                )

    def _on_finished(self, message: Finished, transcript_before: bytes) -> State:
        self._check_finished(message, transcript_before)
        self._send_change_cipher_spec_and_finished()
        self._complete()
        return State.CONNECTED

    def _forget_ephemeral(self) -> None:
        self._ephemeral = None
