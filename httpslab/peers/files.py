"""The files the OpenSSL peers read, in a scratch directory of this process.

- :func:`server_identity`: a self-signed demo certificate and key (RSA-2048 or ECDSA P-256)
  for localhost and 127.0.0.1, generated once per process (demo material, not for real use);
- :func:`dh_parameters_pem` / :func:`dh_parameters_file`: the finite-field groups of RFC 7919
  (ffdhe2048) and RFC 3526 §3 (the 2048-bit MODP group 14) as PKCS#3 PEM for
  ``load_dh_params`` / ``-dhparam``.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import OpenSSLPeerError

__all__ = [
    "DH_GROUPS",
    "ServerIdentity",
    "dh_parameters_file",
    "dh_parameters_pem",
    "server_identity",
]

LOOPBACK = "127.0.0.1"
SERVER_NAME = "localhost"


# --------------------------------------------------------------------------------------
# Finite-field DH groups
# --------------------------------------------------------------------------------------
def _dh_groups() -> dict[str, tuple[int, int]]:
    """name -> (p, g) of the two 2048-bit groups, from :mod:`httpslab.crypto.keyexchange`."""
    from ..crypto.keyexchange import FFDHE2048, MODP2048

    return {"ffdhe2048": (FFDHE2048.p, FFDHE2048.g), "modp2048": (MODP2048.p, MODP2048.g)}


#: Accepted spellings of the two 2048-bit groups.
_DH_ALIASES = {
    "ffdhe2048": "ffdhe2048",
    "rfc7919": "ffdhe2048",
    "modp2048": "modp2048",
    "modp_2048": "modp2048",
    "rfc3526": "modp2048",
    "group14": "modp2048",
}
DH_GROUPS: tuple[str, ...] = ("ffdhe2048", "modp2048")


def _canonical_dh_group(name: str) -> str:
    try:
        return _DH_ALIASES[name.lower()]
    except (KeyError, AttributeError):
        raise OpenSSLPeerError(
            f"unknown DH group {name!r}; known: {', '.join(sorted(_DH_ALIASES))}"
        ) from None


def _der_integer(value: int) -> bytes:
    content = value.to_bytes(value.bit_length() // 8 + 1, "big")  # leading 0x00 keeps it positive
    return b"\x02" + _der_length(len(content)) + content


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(encoded)]) + encoded


@functools.cache
def dh_parameters_pem(name: str = "ffdhe2048") -> bytes:
    """PKCS#3 ``BEGIN DH PARAMETERS`` PEM (``DHParameter ::= SEQUENCE {prime, base}``) for a group.

    Written by hand because ``cryptography`` (on OpenSSL 3) recognises these primes as named
    groups, adds q and writes ``X9.42 DH PARAMETERS``, which ``openssl s_server -dhparam``
    rejects ("unexpected parameters type"). The tests check that the result is byte for byte
    what ``openssl genpkey -genparam`` writes for the same group. (No load-back through
    ``cryptography`` here: its finite-field DH API is deprecated and warns on stderr, which
    nbgrader counts as a failed cell.)
    """
    import base64
    import textwrap

    p, g = _dh_groups()[_canonical_dh_group(name)]
    body = _der_integer(p) + _der_integer(g)
    der = b"\x30" + _der_length(len(body)) + body
    lines = textwrap.wrap(base64.b64encode(der).decode("ascii"), 64)
    pem = ("-----BEGIN DH PARAMETERS-----\n" + "\n".join(lines) + "\n-----END DH PARAMETERS-----\n").encode()
    return pem


def dh_parameters_file(name: str = "ffdhe2048") -> Path:
    """A file (in this process's scratch directory) holding :func:`dh_parameters_pem`."""
    canonical = _canonical_dh_group(name)
    path = _scratch_dir() / f"dh-{canonical}.pem"
    if not path.exists():
        path.write_bytes(dh_parameters_pem(canonical))
    return path


# --------------------------------------------------------------------------------------
# Demo certificates (to be replaced by httpslab.pki)
# --------------------------------------------------------------------------------------
@functools.cache
def _scratch_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="httpslab-peers-"))
    import atexit

    atexit.register(shutil.rmtree, path, True)
    return path


@dataclass(frozen=True)
class ServerIdentity:
    """A private key and a self-signed certificate for it, in memory and on disk."""

    key_type: Literal["rsa", "ecdsa"]
    private_key: Any = field(repr=False)
    cert_der: bytes = field(repr=False)
    cert_pem: bytes = field(repr=False)
    key_pem: bytes = field(repr=False)
    cert_file: Path
    key_file: Path

    @property
    def ca_file(self) -> Path:
        """The trust anchor for this certificate (itself: it is self-signed)."""
        return self.cert_file


def server_identity(
    key_type: Literal["rsa", "ecdsa"] = "rsa", common_name: str = SERVER_NAME
) -> ServerIdentity:
    """A self-signed demo certificate (RSA-2048 or ECDSA P-256) for localhost and 127.0.0.1.

    Generated once per process. It is its own trust anchor: give ``ca_file`` to the client.
    """
    # One cache key per identity, however the call is spelt: ``server_identity()`` and
    # ``server_identity("rsa")`` must not generate two keys that overwrite each other's files.
    return _server_identity(key_type, common_name)


@functools.cache
def _server_identity(key_type: Literal["rsa", "ecdsa"], common_name: str) -> ServerIdentity:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    if key_type == "rsa":
        private_key: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif key_type == "ecdsa":
        private_key = ec.generate_private_key(ec.SECP256R1())
    else:
        raise OpenSSLPeerError(f"key_type must be 'rsa' or 'ecdsa', not {key_type!r}")
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "httpslab demo (not for real use)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(common_name), x509.IPAddress(ipaddress.ip_address(LOOPBACK))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .sign(private_key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    key_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    stem = f"{common_name}-{key_type}"
    cert_file = _scratch_dir() / f"{stem}.crt.pem"
    key_file = _scratch_dir() / f"{stem}.key.pem"
    cert_file.write_bytes(cert_pem)
    key_file.write_bytes(key_pem)
    key_file.chmod(0o600)
    return ServerIdentity(
        key_type,
        private_key,
        certificate.public_bytes(serialization.Encoding.DER),
        cert_pem,
        key_pem,
        cert_file,
        key_file,
    )
