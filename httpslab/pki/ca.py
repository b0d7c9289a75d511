"""A demo certificate authority: root → intermediate → leaf, built with ``cryptography``.

Everything here is **demo material** for teaching: the keys are either generated once per
process or loaded from the shipped demo set in ``httpslab/pki/demo/`` (whose files say
"DEMO — NEVER USE FOR ANYTHING ELSE"). Certificates follow the RFC 5280 profile closely
enough that ``cryptography.x509.verification`` accepts the valid chain: basicConstraints and
keyUsage are critical on CAs, every certificate carries a subjectKeyIdentifier and every
issued one an authorityKeyIdentifier (RFC 5280 §4.2.1.1, §4.2.1.2), leaves name their server
in subjectAltName (RFC 5280 §4.2.1.6; DNS names and IP addresses).

Validity is relative to *now* (a real TLS server needs a currently valid certificate), taken
to the start of the UTC day so that a notebook re-run on the same day gives the same bytes;
pass ``now=`` to fix it. Serial numbers derive from the certificate's role and names, and
ECDSA signatures are deterministic (RFC 6979), so a given ``now`` always yields the same DER.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..errors import CertificateError

__all__ = [
    "DEFAULT_HOSTNAMES",
    "DEFAULT_IP_ADDRESSES",
    "DEMO_DIR",
    "DEMO_WARNING",
    "DemoPKI",
    "KeyType",
    "PemFiles",
    "PrivateKey",
    "demo_key",
    "demo_now",
    "issue_certificate",
    "write_demo_keys",
]

KeyType = Literal["rsa", "ecdsa"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

DEMO_DIR = Path(__file__).with_name("demo")
DEMO_WARNING = (
    "DEMO KEY from httpslab (teaching material) - NEVER USE FOR ANYTHING ELSE.\n"
    "This private key is published with the httpslab source code; anyone can read it.\n"
)
DEFAULT_HOSTNAMES: tuple[str, ...] = ("localhost",)
DEFAULT_IP_ADDRESSES: tuple[str, ...] = ("127.0.0.1", "::1")
KEY_TYPES: tuple[KeyType, ...] = ("rsa", "ecdsa")

# The roles the scenarios need a key for (one key per role and key type).
KEY_ROLES: tuple[str, ...] = ("root", "intermediate", "server", "client", "other-root", "other-intermediate")

_ORGANIZATION = "httpslab DEMO"


def demo_now() -> dt.datetime:
    """The current UTC time, truncated to the start of the day (reproducible within a day)."""
    now = dt.datetime.now(dt.UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _key_path(role: str, key_type: KeyType) -> Path:
    return DEMO_DIR / f"DEMO-{role}-{key_type}.key.pem"


def _generate_key(key_type: KeyType) -> PrivateKey:
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type == "ecdsa":
        return ec.generate_private_key(ec.SECP256R1())
    raise CertificateError(f"unknown key type {key_type!r}; expected 'rsa' or 'ecdsa'")


@cache
def demo_key(role: str, key_type: KeyType = "rsa") -> PrivateKey:
    """The demo private key for ``role`` ("root", "intermediate", "server", ...).

    Loaded from the shipped demo set when it has one (reproducible notebooks), otherwise
    generated once per process and cached. RSA keys are 2048-bit, ECDSA keys use P-256.
    """
    if key_type not in KEY_TYPES:
        raise CertificateError(f"unknown key type {key_type!r}; expected 'rsa' or 'ecdsa'")
    path = _key_path(role, key_type)
    if path.is_file():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError) as exc:
            raise CertificateError(f"the demo key {path.name} does not load: {exc}") from exc
        if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            return key
        raise CertificateError(f"the demo key {path.name} is neither RSA nor ECDSA")
    return _generate_key(key_type)


def key_to_pem(key: PrivateKey, *, label_as_demo: bool = True) -> bytes:
    """PKCS#8 PEM of ``key``, unencrypted, preceded by the DEMO warning text."""
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return (DEMO_WARNING.encode() + pem) if label_as_demo else pem


def write_demo_keys(directory: str | os.PathLike[str] = DEMO_DIR) -> list[Path]:
    """Generate a fresh demo key set into ``directory`` (how the shipped set was made)."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for role in KEY_ROLES:
        for key_type in KEY_TYPES:
            path = target / f"DEMO-{role}-{key_type}.key.pem"
            path.write_bytes(key_to_pem(_generate_key(key_type)))
            written.append(path)
    return written


def _serial_number(*parts: object) -> int:
    """A deterministic positive serial of at most 20 octets (RFC 5280 §4.1.2.2)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:19], "big") | 1


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _subject_alt_names(hostnames: Iterable[str], ip_addresses: Iterable[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in hostnames]
    try:
        names += [x509.IPAddress(ipaddress.ip_address(address)) for address in ip_addresses]
    except ValueError as exc:
        raise CertificateError(f"not an IP address: {exc}") from exc
    return names


def _sign(builder: x509.CertificateBuilder, signing_key: PrivateKey) -> x509.Certificate:
    if isinstance(signing_key, ec.EllipticCurvePrivateKey):
        return builder.sign(signing_key, hashes.SHA256(), ecdsa_deterministic=True)
    return builder.sign(signing_key, hashes.SHA256())


def issue_certificate(
    *,
    subject: str | x509.Name,
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
    issuer: x509.Certificate | None,
    signing_key: PrivateKey,
    not_before: dt.datetime,
    not_after: dt.datetime,
    is_ca: bool,
    path_length: int | None = None,
    key_usage: Sequence[str] = (),
    extended_key_usage: Sequence[x509.ObjectIdentifier] = (),
    hostnames: Iterable[str] = (),
    ip_addresses: Iterable[str] = (),
    issuer_name: x509.Name | None = None,
    basic_constraints: bool = True,
) -> x509.Certificate:
    """Build and sign one X.509 v3 certificate (RFC 5280 §4.1).

    ``issuer=None`` makes a self-signed certificate. ``key_usage`` lists KeyUsage field names
    (``"key_cert_sign"``, ``"digital_signature"``, ...). ``issuer_name`` overrides the issuer
    field (to build a broken certificate on purpose).
    """
    subject_name = subject if isinstance(subject, x509.Name) else _name(subject)
    if issuer_name is None:
        issuer_name = issuer.subject if issuer is not None else subject_name
    issuer_public_key = issuer.public_key() if issuer is not None else public_key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject_name)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(
            _serial_number(subject_name.rfc4514_string(), issuer_name.rfc4514_string(), not_before)
        )
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if issuer is not None or issuer_name != subject_name:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public_key),  # type: ignore[arg-type]
            critical=False,
        )
    if basic_constraints:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=is_ca, path_length=path_length if is_ca else None), critical=True
        )
    if key_usage:
        flags = {
            name: name in key_usage
            for name in (
                "digital_signature",
                "content_commitment",
                "key_encipherment",
                "data_encipherment",
                "key_agreement",
                "key_cert_sign",
                "crl_sign",
            )
        }
        builder = builder.add_extension(
            x509.KeyUsage(**flags, encipher_only=False, decipher_only=False), critical=True
        )
    if extended_key_usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(extended_key_usage)), critical=False)
    general_names = _subject_alt_names(hostnames, ip_addresses)
    if general_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(general_names), critical=False)
    return _sign(builder, signing_key)


def leaf_key_usage(key_type: KeyType) -> tuple[str, ...]:
    """KeyUsage bits a TLS 1.2 leaf needs: RSA also decrypts the premaster (RFC 5246 §7.4.7.1)."""
    return ("digital_signature", "key_encipherment") if key_type == "rsa" else ("digital_signature",)


@dataclass(frozen=True)
class PemFiles:
    """Paths written by :meth:`DemoPKI.write_pem_files`.

    ``ca_file`` is what a client passes as ``cafile``; ``server_chain_file`` (leaf then
    intermediate) and ``server_key_file`` go to ``SSLContext.load_cert_chain`` or to
    ``openssl s_server -cert server_cert_file -cert_chain intermediate_file -key server_key_file``.
    """

    directory: Path
    ca_file: Path
    server_chain_file: Path
    server_cert_file: Path
    intermediate_file: Path
    server_key_file: Path
    client_chain_file: Path
    client_key_file: Path


def cert_to_pem(*certificates: x509.Certificate) -> bytes:
    return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certificates)


@dataclass
class DemoPKI:
    """A demo PKI: a root CA, an intermediate CA, a server leaf and a client leaf.

    >>> pki = DemoPKI("ecdsa")
    >>> files = pki.write_pem_files(tmp_dir)           # doctest: +SKIP
    >>> ctx.load_cert_chain(files.server_chain_file, files.server_key_file)  # doctest: +SKIP

    The server leaf names ``hostnames`` (DNS) and ``ip_addresses`` (iPAddress) in its
    subjectAltName and carries EKU serverAuth; the client leaf carries clientAuth (mutual TLS).
    Validity: CAs from ``now - 1 day`` to ``now + 10 years``, leaves to ``now + 90 days``.
    """

    key_type: KeyType = "rsa"
    hostnames: Sequence[str] = DEFAULT_HOSTNAMES
    ip_addresses: Sequence[str] = DEFAULT_IP_ADDRESSES
    now: dt.datetime | None = None
    root: x509.Certificate = field(init=False)
    intermediate: x509.Certificate = field(init=False)
    server: x509.Certificate = field(init=False)
    client: x509.Certificate = field(init=False)

    def __post_init__(self) -> None:
        if self.key_type not in KEY_TYPES:
            raise CertificateError(f"unknown key type {self.key_type!r}; expected 'rsa' or 'ecdsa'")
        if self.now is None:
            self.now = demo_now()
        elif self.now.tzinfo is None:
            self.now = self.now.replace(tzinfo=dt.UTC)
        self.hostnames = tuple(self.hostnames)
        self.ip_addresses = tuple(self.ip_addresses)
        self.root = self.make_root()
        self.intermediate = self.make_intermediate(self.root, self.root_key)
        self.server = self.issue_leaf()
        self.client = self.issue_client()

    # keys ---------------------------------------------------------------------------------
    @property
    def root_key(self) -> PrivateKey:
        return demo_key("root", self.key_type)

    @property
    def intermediate_key(self) -> PrivateKey:
        return demo_key("intermediate", self.key_type)

    @property
    def server_key(self) -> PrivateKey:
        return demo_key("server", self.key_type)

    @property
    def client_key(self) -> PrivateKey:
        return demo_key("client", self.key_type)

    @property
    def ca_not_before(self) -> dt.datetime:
        assert self.now is not None
        return self.now - dt.timedelta(days=1)

    @property
    def ca_not_after(self) -> dt.datetime:
        assert self.now is not None
        return self.now + dt.timedelta(days=3650)

    # builders ------------------------------------------------------------------------------
    def make_root(
        self, common_name: str = "httpslab DEMO Root CA", key_role: str = "root"
    ) -> x509.Certificate:
        """A self-signed root CA certificate (a trust anchor)."""
        key = demo_key(key_role, self.key_type)
        return issue_certificate(
            subject=common_name,
            public_key=key.public_key(),
            issuer=None,
            signing_key=key,
            not_before=self.ca_not_before,
            not_after=self.ca_not_after,
            is_ca=True,
            key_usage=("key_cert_sign", "crl_sign", "digital_signature"),
        )

    def make_intermediate(
        self,
        issuer: x509.Certificate,
        issuer_key: PrivateKey,
        common_name: str = "httpslab DEMO Intermediate CA",
        *,
        key_role: str = "intermediate",
        path_length: int | None = 0,
        is_ca: bool = True,
    ) -> x509.Certificate:
        """An intermediate CA signed by ``issuer`` (pathLenConstraint 0 by default)."""
        key = demo_key(key_role, self.key_type)
        return issue_certificate(
            subject=common_name,
            public_key=key.public_key(),
            issuer=issuer,
            signing_key=issuer_key,
            not_before=self.ca_not_before,
            not_after=self.ca_not_after,
            is_ca=is_ca,
            path_length=path_length,
            key_usage=("key_cert_sign", "crl_sign", "digital_signature") if is_ca else ("digital_signature",),
        )

    def issue_leaf(
        self,
        common_name: str | None = None,
        *,
        hostnames: Sequence[str] | None = None,
        ip_addresses: Sequence[str] | None = None,
        issuer: x509.Certificate | None = None,
        issuer_key: PrivateKey | None = None,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        extended_key_usage: Sequence[x509.ObjectIdentifier] = (ExtendedKeyUsageOID.SERVER_AUTH,),
        key_role: str = "server",
        issuer_name: x509.Name | None = None,
        public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey | None = None,
    ) -> x509.Certificate:
        """A server leaf signed by the intermediate (or ``issuer``), SANs as given.

        The certified key is the shipped demo key for ``key_role`` unless ``public_key`` is
        given (e.g. a key on another curve); keyUsage follows the certified key's type.
        """
        assert self.now is not None
        hostnames = self.hostnames if hostnames is None else tuple(hostnames)
        ip_addresses = self.ip_addresses if ip_addresses is None else tuple(ip_addresses)
        if common_name is None:
            common_name = (
                hostnames[0] if hostnames else (ip_addresses[0] if ip_addresses else "httpslab DEMO leaf")
            )
        if public_key is None:
            public_key = demo_key(key_role, self.key_type).public_key()
        key_type: KeyType = "rsa" if isinstance(public_key, rsa.RSAPublicKey) else "ecdsa"
        return issue_certificate(
            subject=common_name,
            public_key=public_key,
            issuer=self.intermediate if issuer is None else issuer,
            signing_key=self.intermediate_key if issuer_key is None else issuer_key,
            not_before=self.now - dt.timedelta(days=1) if not_before is None else not_before,
            not_after=self.now + dt.timedelta(days=90) if not_after is None else not_after,
            is_ca=False,
            key_usage=leaf_key_usage(key_type),
            extended_key_usage=extended_key_usage,
            hostnames=hostnames,
            ip_addresses=ip_addresses,
            issuer_name=issuer_name,
        )

    def issue_client(
        self,
        common_name: str = "httpslab DEMO client",
        *,
        public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey | None = None,
    ) -> x509.Certificate:
        """A client certificate (EKU clientAuth) for mutual TLS, signed by the intermediate,
        for the shipped demo client key or for ``public_key``."""
        return self.issue_leaf(
            common_name,
            hostnames=("client.localhost",),  # cryptography's client verifier requires a SAN
            ip_addresses=(),
            extended_key_usage=(ExtendedKeyUsageOID.CLIENT_AUTH,),
            key_role="client",
            public_key=public_key,
        )

    # output --------------------------------------------------------------------------------
    def write_pem_files(self, directory: str | os.PathLike[str]) -> PemFiles:
        """Write the PEM files a ``ssl.SSLContext`` or ``openssl s_server`` loads."""
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        tag = f"demo-{self.key_type}"
        files = PemFiles(
            directory=target,
            ca_file=target / f"{tag}-ca.pem",
            server_chain_file=target / f"{tag}-server-chain.pem",
            server_cert_file=target / f"{tag}-server-cert.pem",
            intermediate_file=target / f"{tag}-intermediate.pem",
            server_key_file=target / f"DEMO-{self.key_type}-server.key.pem",
            client_chain_file=target / f"{tag}-client-chain.pem",
            client_key_file=target / f"DEMO-{self.key_type}-client.key.pem",
        )
        files.ca_file.write_bytes(cert_to_pem(self.root))
        files.server_chain_file.write_bytes(cert_to_pem(self.server, self.intermediate))
        files.server_cert_file.write_bytes(cert_to_pem(self.server))
        files.intermediate_file.write_bytes(cert_to_pem(self.intermediate))
        files.server_key_file.write_bytes(key_to_pem(self.server_key))
        files.client_chain_file.write_bytes(cert_to_pem(self.client, self.intermediate))
        files.client_key_file.write_bytes(key_to_pem(self.client_key))
        for key_file in (files.server_key_file, files.client_key_file):
            key_file.chmod(0o600)
        return files
