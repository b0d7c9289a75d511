"""Loading certificates from PEM or DER bytes, with one typed error for bad input.

PEM is RFC 7468 (textual encoding), DER is X.690; a certificate is RFC 5280 §4.1.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography import x509

from ..errors import CertificateError

__all__ = ["load_certificates"]

_PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"


def load_certificates(data: bytes | str | os.PathLike[str]) -> list[x509.Certificate]:
    """Every certificate in ``data`` (PEM with one or more blocks, or one DER certificate).

    A path (``pathlib.Path``) is read first. Garbage, a truncated PEM block or DER with
    leftovers raise :class:`~httpslab.errors.CertificateError`, never a bare ValueError.
    """
    if isinstance(data, os.PathLike):
        try:
            data = Path(data).read_bytes()
        except OSError as exc:
            raise CertificateError(f"cannot read {data}: {exc}") from exc
    if isinstance(data, str):
        data = data.encode("ascii", errors="replace")
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CertificateError(f"expected PEM or DER bytes, not {type(data).__name__}")
    data = bytes(data)
    if not data:
        raise CertificateError("no certificate: the input is empty")
    try:
        if _PEM_BEGIN in data:
            if data.count(_PEM_BEGIN) != data.count(b"-----END CERTIFICATE-----"):
                raise CertificateError("a PEM certificate block is truncated (BEGIN without END)")
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise CertificateError(f"not a certificate (neither PEM nor DER that decodes): {exc}") from exc
