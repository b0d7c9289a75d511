"""What the verifier reads from a certificate, read once per certificate (RFC 5280 §4).

Names, extensions, the public key and whether everything decodes; signature checks and
issuer matches memoised by the DER of both certificates.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ..errors import BadCertificate, translate_crypto_errors
from .render import describe

__all__ = ["IPAddressLike", "key_description"]

IPAddressLike = ipaddress.IPv4Address | ipaddress.IPv6Address


_MISSING = object()


class _Facts:
    """What verify_chain reads from one certificate, computed once per distinct DER.

    A certificate is immutable and every value here is a pure function of its DER, so the
    same server chain seen on every handshake is not decoded, labelled and searched again.
    Checks that depend on anything else (the time, the name, the anchors) still run per call.
    """

    __slots__ = ("_values", "certificate")

    def __init__(self, certificate: x509.Certificate) -> None:
        self.certificate = certificate
        self._values: dict[object, object] = {}

    def _get(self, key: object, compute: Callable[[], object]) -> object:
        value = self._values.get(key, _MISSING)
        if value is _MISSING:
            value = self._values[key] = compute()
        return value

    @property
    def parse_problem(self) -> str | None:
        return self._get("parse", lambda: _decode_problem(self.certificate))  # type: ignore[return-value]

    @property
    def label(self) -> str:
        return self._get("label", lambda: f"'{describe(self.certificate)}'")  # type: ignore[return-value]

    @property
    def der(self) -> bytes:
        return self._get(  # type: ignore[return-value]
            "der", lambda: self.certificate.public_bytes(serialization.Encoding.DER)
        )

    @property
    def identity(self) -> bytes:
        # tbs_certificate_bytes re-encodes the certificate on every access
        return self._get(  # type: ignore[return-value]
            "identity", lambda: self.certificate.tbs_certificate_bytes + self.certificate.signature
        )

    @property
    def key_description(self) -> str:
        return self._get("key", lambda: _describe_key(self.certificate))  # type: ignore[return-value]

    @property
    def subject_alt_names(self) -> tuple[tuple[str, ...], tuple[IPAddressLike, ...], str]:
        """The DNS and IP subjectAltNames, and both listed for an explanation."""

        def read() -> tuple[tuple[str, ...], tuple[IPAddressLike, ...], str]:
            san = self.extension_value(x509.SubjectAlternativeName)
            if not isinstance(san, x509.SubjectAlternativeName):
                return (), (), "nothing"
            dns_ids = tuple(san.get_values_for_type(x509.DNSName))
            ip_ids = tuple(san.get_values_for_type(x509.IPAddress))
            return dns_ids, ip_ids, ", ".join([*dns_ids, *map(str, ip_ids)]) or "nothing"

        return self._get("subject_alt_names", read)  # type: ignore[return-value]

    @property
    def self_issued(self) -> bool:
        return self._get(  # type: ignore[return-value]
            "self_issued", lambda: self.certificate.subject == self.certificate.issuer
        )

    @property
    def validity(self) -> tuple[dt.datetime, dt.datetime]:
        return self._get(  # type: ignore[return-value]
            "validity", lambda: (self.certificate.not_valid_before_utc, self.certificate.not_valid_after_utc)
        )

    @property
    def validity_text(self) -> str:
        def text() -> str:
            not_before, not_after = self.validity
            return f"{self.label} is valid from {not_before:%Y-%m-%d} to {not_after:%Y-%m-%d}"

        return self._get("validity_text", text)  # type: ignore[return-value]

    def extension_value(self, extension_type: type) -> object | None:
        return self._get(extension_type, lambda: _read_extension(self.certificate, extension_type))


#: facts per certificate: by object identity first (the entry keeps the object alive, so its
#: id cannot be reused while it is here), then by value (a Certificate hashes and compares by
#: its DER, so a fresh parse of the same bytes finds the same facts). Bounded; cleared when full.
_FACTS_BY_ID: dict[int, tuple[x509.Certificate, _Facts]] = {}
_FACTS_BY_DER: dict[x509.Certificate, _Facts] = {}
_FACTS_LIMIT = 256


def _facts(certificate: x509.Certificate) -> _Facts:
    entry = _FACTS_BY_ID.get(id(certificate))
    if entry is not None and entry[0] is certificate:
        return entry[1]
    facts = _FACTS_BY_DER.get(certificate)
    if facts is None:
        if len(_FACTS_BY_DER) >= _FACTS_LIMIT:
            _FACTS_BY_DER.clear()
        facts = _FACTS_BY_DER[certificate] = _Facts(certificate)
    if len(_FACTS_BY_ID) >= _FACTS_LIMIT:
        _FACTS_BY_ID.clear()
    _FACTS_BY_ID[id(certificate)] = (certificate, facts)
    return facts


def _quote(certificate: x509.Certificate) -> str:
    return _facts(certificate).label


def _read_extension(certificate: x509.Certificate, extension_type: type) -> object | None:
    try:
        return certificate.extensions.get_extension_for_class(extension_type).value
    except x509.ExtensionNotFound:
        return None


def _extension_value(certificate: x509.Certificate, extension_type: type) -> object | None:
    return _facts(certificate).extension_value(extension_type)


def _is_self_issued(certificate: x509.Certificate) -> bool:
    return _facts(certificate).self_issued


def _parse_problem(certificate: object) -> str | None:
    """None if the certificate decodes entirely, else what went wrong."""
    if not isinstance(certificate, x509.Certificate):
        return f"not a certificate but a {type(certificate).__name__}"
    return _facts(certificate).parse_problem


def _decode_problem(certificate: x509.Certificate) -> str | None:
    try:
        # decoding the names is what can fail (rfc4514_string only formats the decoded values)
        certificate.subject  # noqa: B018 - decoding is the point
        certificate.issuer  # noqa: B018
        list(certificate.extensions)
        certificate.public_key()
        certificate.not_valid_before_utc  # noqa: B018 - decoding is the point
        certificate.not_valid_after_utc  # noqa: B018
    except (ValueError, TypeError, KeyError, UnsupportedAlgorithm) as exc:
        # KeyError: cryptography raises it for a name holding a string type it does not know
        return f"it does not decode: {exc}"
    return None


def key_description(certificate: x509.Certificate) -> str:
    return _facts(certificate).key_description


def _describe_key(certificate: x509.Certificate) -> str:
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA-{key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"ECDSA {key.curve.name}"
    return type(key).__name__


def _signature_problem(child: x509.Certificate, issuer: x509.Certificate) -> str | None:
    """None if ``issuer``'s key verifies ``child``'s signature, else the reason."""
    try:
        with translate_crypto_errors(BadCertificate, "the signature does not verify"):
            child.verify_directly_issued_by(issuer)
    except BadCertificate:
        return "the signature does not verify"
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        return str(exc)
    return None


#: results of _signature_problem by the exact DER of both certificates:
#: the answer is a pure function of those bytes, so a link seen before (the same server's
#: chain on every handshake) is not verified again. Bounded; cleared when full.
_SIGNATURE_RESULTS: dict[tuple[bytes, bytes], str | None] = {}
_SIGNATURE_RESULTS_LIMIT = 512


def _signature_problem_memoised(
    child_identity: bytes, issuer_identity: bytes, child: x509.Certificate, issuer: x509.Certificate
) -> str | None:
    key = (child_identity, issuer_identity)
    try:
        return _SIGNATURE_RESULTS[key]
    except KeyError:
        pass
    result = _signature_problem(child, issuer)
    if len(_SIGNATURE_RESULTS) >= _SIGNATURE_RESULTS_LIMIT:
        _SIGNATURE_RESULTS.clear()
    _SIGNATURE_RESULTS[key] = result
    return result


#: _may_have_issued by the identities of both certificates (a pure function of their bytes).
_ISSUER_MATCHES: dict[tuple[bytes, bytes], bool] = {}


def _may_have_issued(candidate: x509.Certificate, certificate: x509.Certificate) -> bool:
    """Does ``candidate``'s subject name ``certificate``'s issuer, with no key identifier clash?"""
    key = (_facts(candidate).identity, _facts(certificate).identity)
    result = _ISSUER_MATCHES.get(key)
    if result is None:
        result = candidate.subject == certificate.issuer and not _key_identifier_mismatch(
            certificate, candidate
        )
        if len(_ISSUER_MATCHES) >= _SIGNATURE_RESULTS_LIMIT:
            _ISSUER_MATCHES.clear()
        _ISSUER_MATCHES[key] = result
    return result


def _key_identifier_mismatch(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    aki = _extension_value(child, x509.AuthorityKeyIdentifier)
    ski = _extension_value(issuer, x509.SubjectKeyIdentifier)
    if not isinstance(aki, x509.AuthorityKeyIdentifier) or aki.key_identifier is None:
        return False
    if not isinstance(ski, x509.SubjectKeyIdentifier):
        return False
    return aki.key_identifier != ski.digest
