"""The peer's certificate chain: parse it, decode its key, verify it (RFC 5246 §7.4.2, §7.4.6).

Verification is :func:`httpslab.pki.verify.verify_chain` against ``TLSConfig.trust_anchors``;
a rejected chain becomes the fatal alert its failed check names.
"""

from __future__ import annotations

import functools
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from ..enums import AlertDescription
from ..errors import BadCertificate
from ..messages import Certificate
from .config import TLSConfig, is_ip_literal
from .tables import Role

__all__ = ["leaf_public_key", "parse_certificates", "rejection", "verify_peer_chain"]


def parse_certificates(message: Certificate, peer: Role) -> list[x509.Certificate]:
    """The certificates of a Certificate message, leaf first; BadCertificate if one does not parse."""
    certificates = []
    for index, der in enumerate(message.certificate_list):
        try:
            certificates.append(_load_der_certificate(bytes(der)))
        except ValueError as exc:
            raise BadCertificate(f"certificate #{index} from the {peer} does not parse: {exc}") from exc
    return certificates


def leaf_public_key(leaf: x509.Certificate, peer: Role) -> Any:
    """The public key of the peer's leaf; BadCertificate if it does not decode.

    A certificate parses with its key still encoded: a key off its curve fails only here.
    """
    try:
        return leaf.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise BadCertificate(f"the public key of the {peer}'s certificate does not decode: {exc}") from exc


def verify_peer_chain(config: TLSConfig, chain: list[x509.Certificate], purpose: str) -> Any:
    """The :class:`~httpslab.pki.verify.VerificationReport` of ``chain`` (leaf first) for ``purpose``."""
    from ..pki.verify import verify_chain

    name = config.server_name if purpose == "server" else None
    ip = None
    if name is not None and is_ip_literal(name):
        ip, name = name.strip("[]"), None
    return verify_chain(
        chain[0],
        chain[1:],
        config.trust_anchors,  # as given: a loaded trust store is one tuple, prepared once
        server_name=name,
        ip_address=ip,
        at=config.verify_time,
        purpose=purpose,  # type: ignore[arg-type]
    )


def rejection(report: Any, peer: Role) -> BadCertificate:
    """The error for a report that is not ok, carrying the alert its failed check names."""
    alert = report.alert or AlertDescription.BAD_CERTIFICATE
    check = report.error
    if check is None:  # pragma: no cover - a report that is not ok names its failed check
        reason = report.summary()
    else:
        reason = f"at the '{check.name}' check: {check.explanation.rstrip('.')} ({check.rfc})"
    return BadCertificate(
        f"the {peer}'s certificate was rejected {reason}; sending the fatal alert {alert.name.lower()}",
        alert=alert,
    )


@functools.lru_cache(maxsize=64)
def _load_der_certificate(der: bytes) -> x509.Certificate:
    """One DER certificate, parsed once and reused (every check on it still runs on every handshake)."""
    return x509.load_der_x509_certificate(der)
