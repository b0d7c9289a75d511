"""Finite-field Diffie-Hellman done by real OpenSSL, through the ``openssl`` command.

The reference the keyexchange tests compare httpslab's DH arithmetic against (RFC 5246
§8.1.2, RFC 7919, RFC 3526), replacing ``cryptography``'s FFDH API, which cryptography 50
deprecates. OpenSSL makes the key pairs (``openssl genpkey -paramfile``), shows their numbers
(``-text``) and derives the shared secret (``openssl pkeyutl -derive``).

About leading zero bytes: TLS 1.2 strips them from the shared secret Z (RFC 5246 §8.1.2).
``pkeyutl -derive`` on OpenSSL 3.0 strips them too by default, and pads Z to the length of p
with ``-pkeyopt dh_pad:1``; :func:`derive` always says which one it wants.

OpenSSL 3.0 refuses DH moduli below 512 bits ("modulus too small"), so the toy groups
cannot be checked this way.
"""

from __future__ import annotations

import base64
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

from httpslab.crypto.keyexchange import DHGroup
from httpslab.peers.files import DH_GROUPS as PEER_DH_GROUPS
from httpslab.peers.files import _der_integer, _der_length, dh_parameters_file

#: DER of the OID 1.2.840.113549.1.3.1 (PKCS#3 dhKeyAgreement), the algorithm of a DH key.
_DH_KEY_AGREEMENT_OID = bytes.fromhex("06092a864886f70d010301")


def openssl(*arguments: str | Path, stdin: bytes | None = None) -> bytes:
    """Run ``openssl arguments...`` and return its stdout; a failure shows OpenSSL's stderr."""
    result = subprocess.run(["openssl", *map(str, arguments)], input=stdin, capture_output=True)
    if result.returncode != 0:
        raise AssertionError(f"openssl {' '.join(map(str, arguments))} failed:\n{result.stderr.decode()}")
    return result.stdout


def _der(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(body)) + body


def _pem(label: str, der: bytes) -> bytes:
    lines = textwrap.wrap(base64.b64encode(der).decode("ascii"), 64)
    return f"-----BEGIN {label}-----\n{chr(10).join(lines)}\n-----END {label}-----\n".encode()


def _dh_parameter(group: DHGroup) -> bytes:
    """PKCS#3 ``DHParameter ::= SEQUENCE {prime INTEGER, base INTEGER}``, DER."""
    return _der(0x30, _der_integer(group.p) + _der_integer(group.g))


def parameters_file(group: DHGroup, directory: Path) -> Path:
    """A ``DH PARAMETERS`` PEM file for ``group``, for ``openssl genpkey -paramfile``.

    ffdhe2048 and modp2048 come from :func:`httpslab.peers.openssl.dh_parameters_file` (which
    only knows those two); any other group is written here with the same DER pieces.
    """
    if group.name in PEER_DH_GROUPS:
        return dh_parameters_file(group.name)
    path = directory / f"{group.name}-parameters.pem"
    path.write_bytes(_pem("DH PARAMETERS", _dh_parameter(group)))
    return path


def private_key_file(group: DHGroup, private: int, path: Path) -> Path:
    """A PKCS#8 ``PRIVATE KEY`` file holding *our* exponent, so OpenSSL can use a value we chose.

    PrivateKeyInfo (RFC 5208): version 0, AlgorithmIdentifier {dhKeyAgreement, DHParameter},
    OCTET STRING {INTEGER x}. OpenSSL computes the public value itself when it loads it.
    """
    algorithm = _der(0x30, _DH_KEY_AGREEMENT_OID + _dh_parameter(group))
    der = _der(0x30, _der_integer(0) + algorithm + _der(0x04, _der_integer(private)))
    path.write_bytes(_pem("PRIVATE KEY", der))
    return path


def parse_key_text(text: str) -> dict[str, str]:
    """The fields of ``openssl pkey -text`` / ``genpkey -text`` output for a DH key.

    ``{"private-key": "01fa...", "public-key": "8e1b...", "GROUP": "ffdhe2048"}`` (named groups)
    or ``{..., "P": "0100...0a570f", "G": "4 (0x4)"}``: hex blocks joined without colons.
    """
    fields: dict[str, list[str]] = {}
    label = None
    for line in text.splitlines():
        if not line.strip() or line.startswith("-----"):
            label = None
            continue
        if line[0].isspace() and label is not None:
            fields[label].append(line.strip().replace(":", ""))
        elif ":" in line:
            label, _, rest = line.partition(":")
            fields[label] = [rest.strip()] if rest.strip() else []
    return {name: "".join(parts) for name, parts in fields.items()}


@dataclass(frozen=True)
class OpenSSLKey:
    """A DH key pair OpenSSL holds in files, and the numbers OpenSSL printed for it."""

    private_file: Path
    public_file: Path
    private: int
    public: int
    fields: dict[str, str]


def generate_key(parameters: Path, directory: Path, name: str) -> OpenSSLKey:
    """A fresh key pair from ``openssl genpkey`` (two processes: genpkey, pkey -pubout)."""
    private_file, public_file = directory / f"{name}.pem", directory / f"{name}.pub.pem"
    openssl("genpkey", "-paramfile", parameters, "-text", "-out", private_file)  # PEM + text
    openssl("pkey", "-in", private_file, "-pubout", "-out", public_file)
    fields = parse_key_text(private_file.read_text())
    return OpenSSLKey(
        private_file, public_file, int(fields["private-key"], 16), int(fields["public-key"], 16), fields
    )


def derive(private_file: Path, peer_public_file: Path, *, pad: bool) -> bytes:
    """``openssl pkeyutl -derive``: Z with leading zero bytes stripped, or padded to len(p)."""
    padding = f"dh_pad:{int(pad)}"
    return openssl(
        "pkeyutl", "-derive", "-inkey", private_file, "-peerkey", peer_public_file, "-pkeyopt", padding
    )


def parameter_numbers(parameters_pem: bytes) -> tuple[int, int]:
    """(p, g) of a ``DH PARAMETERS`` PEM, as ``openssl asn1parse`` reads them."""
    listing = openssl("asn1parse", stdin=parameters_pem).decode()
    integers = [line.rpartition(":")[2] for line in listing.splitlines() if "prim: INTEGER" in line]
    if len(integers) != 2:
        raise AssertionError(f"not a PKCS#3 DHParameter:\n{listing}")
    return int(integers[0], 16), int(integers[1], 16)
