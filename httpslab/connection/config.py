"""How a connection behaves, as plain data: TLSConfig, Credential, Primitives (RFC 5246).

The defaults are what OpenSSL 3.0 does for TLS 1.2 (docs/openssl-parity.md).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ..crypto import keyexchange
from ..crypto.signatures import SCHEMES, PrivateKey
from ..crypto.suites import (
    DEFAULT_CLIENT_SUITES,
    DEFAULT_SERVER_SUITES,
    SuiteInfo,
    parse_suite_name,
    suite_info,
)
from ..enums import CipherSuite, NamedGroup, ProtocolVersion, SignatureScheme
from ..errors import CertificateError, LocalProtocolError

__all__ = [
    "DEFAULT_GROUPS",
    "DEFAULT_SIGNATURE_SCHEMES",
    "EC_GROUPS",
    "FFDHE_GROUPS",
    "OPENSSL_DEFAULT_GROUPS",
    "SERVER_SIGNATURE_SCHEMES",
    "TLS12",
    "Credential",
    "DirectionKeys",
    "LiveSecrets",
    "Primitives",
    "TLSConfig",
    "certificate_curve_offered",
    "is_ip_literal",
]

TLS12 = ProtocolVersion.TLS1_2
_PRIVATE_KEY_TYPES = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)

#: Groups a client offers by default, in order (the ones of OpenSSL 3's default list httpslab implements).
DEFAULT_GROUPS: tuple[NamedGroup, ...] = (
    NamedGroup.X25519,
    NamedGroup.SECP256R1,
    NamedGroup.FFDHE2048,
    NamedGroup.FFDHE3072,
)
#: OpenSSL 3.0's default groups (GOST left out): a server left at DEFAULT_GROUPS checks a client
#: certificate's curve against these, to accept what a default OpenSSL server accepts (RFC 8422 §5.3).
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
#: What a server left at DEFAULT_SIGNATURE_SCHEMES also signs with when a client asks for it
#: (schemes of OpenSSL 3.0's default list; SHA-1 ones left out, as its security level 1 does).
SERVER_SIGNATURE_SCHEMES: tuple[SignatureScheme, ...] = (
    *DEFAULT_SIGNATURE_SCHEMES,
    SignatureScheme.ECDSA_SECP521R1_SHA512,
    SignatureScheme.RSA_PSS_RSAE_SHA512,
    SignatureScheme.RSA_PKCS1_SHA512,
    SignatureScheme.ECDSA_SHA224,
)
EC_GROUPS = frozenset({NamedGroup.X25519, NamedGroup.SECP256R1, NamedGroup.SECP384R1, NamedGroup.X448})
FFDHE_GROUPS = frozenset({NamedGroup.FFDHE2048, NamedGroup.FFDHE3072})
#: the curve of an ECDSA key (cryptography's curve name) as a supported_groups code point
_CURVE_GROUPS: dict[str, NamedGroup] = {
    "secp256r1": NamedGroup.SECP256R1,
    "secp384r1": NamedGroup.SECP384R1,
    "secp521r1": NamedGroup.SECP521R1,
}


def certificate_curve_offered(key: object, groups: Sequence[NamedGroup | int] | None) -> bool:
    """RFC 8422 §5.3: is an ECDSA ``key`` on a curve named in ``groups`` (a supported_groups list)?

    True for a key that is not ECDSA, and when ``groups`` is None or empty (no extension:
    RFC 8422 §4 lets the peer use any curve).
    """
    if not groups or not isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return True
    return _CURVE_GROUPS.get(key.curve.name) in groups


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
    it is an IP literal, the SNI name; ``trust_anchors`` are the certificates it trusts
    (:func:`httpslab.io.load_trust_anchors` reads a CA file or the system's);
    ``credentials`` hold a client certificate (:func:`httpslab.io.load_credential`).
    Server side: ``credentials`` hold one certificate per key type (RSA and/or ECDSA);
    ``request_client_certificate`` / ``require_client_certificate`` ask for mutual TLS and
    ``trust_anchors`` are then what client certificates must chain to.
    """

    #: a client offers these; a server left at this default accepts DEFAULT_SERVER_SUITES
    #: (the legacy CBC-SHA suites as well, as OpenSSL 3.0's default list does)
    cipher_suites: Sequence[CipherSuite | str] = DEFAULT_CLIENT_SUITES
    server_name: str | None = None
    verify: bool = True
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
    #: ALPN (RFC 7301): a client offers these protocol names in this order; a server selects
    #: the first of its own that the client offered (none in common: no_application_protocol)
    alpn_protocols: Sequence[str | bytes] = ()
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
        alpn = tuple(p.encode("ascii") if isinstance(p, str) else bytes(p) for p in self.alpn_protocols)
        if not all(1 <= len(p) <= 255 for p in alpn):
            raise LocalProtocolError("an ALPN protocol name is 1 to 255 bytes (RFC 7301 §3.1)")
        object.__setattr__(self, "alpn_protocols", alpn)
        if self.require_client_certificate:
            object.__setattr__(self, "request_client_certificate", True)
        limit = self.transcript_application_data_limit
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise LocalProtocolError("transcript_application_data_limit must be None or a byte count >= 0")

    @property
    def server_cipher_suites(self) -> tuple[CipherSuite, ...]:
        """The suites a server accepts, in its preference order (RFC 5246 §7.4.1.3)."""
        suites = tuple(self.cipher_suites)
        return DEFAULT_SERVER_SUITES if suites == DEFAULT_CLIENT_SUITES else suites  # type: ignore[return-value]

    @property
    def server_groups(self) -> tuple[NamedGroup, ...]:
        """The groups a server accepts: left at DEFAULT_GROUPS, OpenSSL 3.0's (X448 and P-384 too)."""
        groups = tuple(self.groups)
        return OPENSSL_DEFAULT_GROUPS if groups == DEFAULT_GROUPS else groups

    @property
    def server_signature_schemes(self) -> tuple[SignatureScheme, ...]:
        """The schemes a server signs with: left at the default, SERVER_SIGNATURE_SCHEMES."""
        schemes = tuple(self.signature_schemes)
        return SERVER_SIGNATURE_SCHEMES if schemes == DEFAULT_SIGNATURE_SCHEMES else schemes

    @property
    def server_name_is_ip(self) -> bool:
        return is_ip_literal(self.server_name)


def is_ip_literal(name: str | None) -> bool:
    if name is None:
        return False
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


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
