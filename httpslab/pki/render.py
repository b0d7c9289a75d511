"""Text for certificates: one-line labels of a subject and an issuer (RFC 4514 names).

Standard library and ``cryptography`` only, so the core can print anywhere; the pictures
(matplotlib) live in :mod:`httpslab.notebook.pki_plots`.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import NameOID

__all__ = ["describe", "describe_issuer"]


def describe(certificate: x509.Certificate) -> str:
    """A short label for a certificate: its common name, else its whole subject."""
    try:
        names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if names:
            return str(names[0].value)
        return certificate.subject.rfc4514_string() or "(empty subject)"
    except (ValueError, KeyError):  # cryptography raises KeyError for unknown string types
        return "(unparseable subject)"


def describe_issuer(certificate: x509.Certificate) -> str:
    """The issuer name as RFC 4514 text, or a placeholder when it cannot be decoded."""
    try:
        return certificate.issuer.rfc4514_string()
    except (ValueError, KeyError):  # cryptography raises KeyError for unknown string types
        return "(unparseable issuer)"
