"""A certificate path verifier that explains every check it makes.

``verify_chain`` follows the order of RFC 5280 §6.1 (basic path validation) and adds the
service-identity check of RFC 9525 (which obsoletes RFC 6125):

1. parse — every certificate decodes (its extensions and public key included);
2. path — build a path from the leaf to a trust anchor by issuer/subject names and key
   identifiers, in any order, without loops and at most :data:`MAX_PATH_LENGTH` long;
3. signature — each certificate's signature verifies with its issuer's key (§6.1.3 (a)(1));
4. validity — each certificate is valid at ``at`` (§4.1.2.5, §6.1.3 (a)(2));
5. basic_constraints / path_length — issuers are CAs and respect pathLenConstraint (§4.2.1.9);
6. key_usage / extended_key_usage — keyCertSign on issuers, the leaf's keyUsage and EKU fit
   the purpose (§4.2.1.3, §4.2.1.12);
7. name — the server name or IP address matches a subjectAltName entry (RFC 9525 §6.3,
   §6.4; wildcards only as the whole left-most label; never the common name);
8. reference — ``cryptography.x509.verification`` reaches the same verdict. A chain the
   reference rejects is never accepted.

Every check runs (on the best path found) so that a learner sees the full checklist; the
first failed one is the report's ``error`` and decides the TLS alert (RFC 5246 §7.2.2).
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import ipaddress
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import DNSName, IPAddress, PolicyBuilder, Store, VerificationError

from ..enums import AlertDescription
from ..errors import BadCertificate, CertificateError, translate_crypto_errors

__all__ = [
    "CHECK_ALERTS",
    "CHECK_NAMES",
    "MAX_PATH_LENGTH",
    "Check",
    "Purpose",
    "VerificationReport",
    "describe",
    "dns_name_matches",
    "verify_chain",
]

Purpose = Literal["server", "client"]
IPAddressLike = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Longest path (certificates, leaf and anchor included) the path builder will follow.
MAX_PATH_LENGTH = 10
#: How many candidate issuers the path builder may try in total (cross-signing can branch).
_PATH_BUILDING_BUDGET = 200

#: The check names, in the order the verifier runs them.
CHECK_NAMES: tuple[str, ...] = (
    "parse",
    "path",
    "signature",
    "validity",
    "basic_constraints",
    "path_length",
    "key_usage",
    "extended_key_usage",
    "name",
    "reference",
)

_RFC: dict[str, str] = {
    "parse": "RFC 5280 §4.1",
    "path": "RFC 5280 §6.1, §4.1.2.4",
    "signature": "RFC 5280 §6.1.3 (a)(1)",
    "validity": "RFC 5280 §4.1.2.5, §6.1.3 (a)(2)",
    "basic_constraints": "RFC 5280 §4.2.1.9, §6.1.4 (k)",
    "path_length": "RFC 5280 §4.2.1.9, §6.1.4 (l)-(m)",
    "key_usage": "RFC 5280 §4.2.1.3, §6.1.4 (n)",
    "extended_key_usage": "RFC 5280 §4.2.1.12",
    "name": "RFC 9525 §6.3 (RFC 6125 §6.4)",
    "name_ip": "RFC 9525 §6.4, RFC 5280 §4.2.1.6",
    "reference": "cryptography.x509.verification (RFC 5280 profile)",
}

#: The fatal alert a TLS client sends when a check fails (RFC 5246 §7.2.2).
#: certificate_expired: "a certificate has expired or is not currently valid";
#: unknown_ca: "the CA certificate could not be located or couldn't be matched with a known,
#: trusted CA"; bad_certificate: "corrupt, contains signatures that did not verify";
#: unsupported_certificate: "of an unsupported type" (here: not usable for this purpose,
#: as OpenSSL maps X509_V_ERR_INVALID_PURPOSE).
CHECK_ALERTS: dict[str, AlertDescription] = {
    "parse": AlertDescription.BAD_CERTIFICATE,
    "path": AlertDescription.UNKNOWN_CA,
    "signature": AlertDescription.BAD_CERTIFICATE,
    "validity": AlertDescription.CERTIFICATE_EXPIRED,
    "basic_constraints": AlertDescription.BAD_CERTIFICATE,
    "path_length": AlertDescription.BAD_CERTIFICATE,
    "key_usage": AlertDescription.UNSUPPORTED_CERTIFICATE,
    "extended_key_usage": AlertDescription.UNSUPPORTED_CERTIFICATE,
    "name": AlertDescription.BAD_CERTIFICATE,
    "reference": AlertDescription.BAD_CERTIFICATE,
}


@dataclass(frozen=True)
class Check:
    """One step of the verification: its name, verdict, a one-line explanation, the RFC."""

    name: str
    passed: bool
    explanation: str
    rfc: str
    depth: int | None = None  # position in the chain (0 = leaf), None for whole-chain checks

    def __str__(self) -> str:
        mark = "✓" if self.passed else "✗"
        where = f" [#{self.depth}]" if self.depth is not None else ""
        return f"{mark} {self.name}{where}: {self.explanation} ({self.rfc})"


@dataclass
class VerificationReport:
    """What :func:`verify_chain` found: the path (leaf first), every check, the verdict."""

    chain: list[x509.Certificate]
    checks: list[Check]
    purpose: Purpose
    at: dt.datetime
    server_name: str | None = None
    ip_address: IPAddressLike | None = None
    reference_ok: bool | None = None
    reference_error: str | None = None
    path_complete: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True only if every check passed, the reference's included."""
        return self.path_complete and all(check.passed for check in self.checks)

    @property
    def own_verdict(self) -> bool:
        """httpslab's verdict from its own checks, before consulting the reference."""
        return self.path_complete and all(check.passed for check in self.checks if check.name != "reference")

    @property
    def agrees_with_reference(self) -> bool | None:
        """Whether ``cryptography``'s validator reached the same verdict (None: not run)."""
        if self.reference_ok is None:
            return None
        return self.reference_ok == self.own_verdict

    @property
    def error(self) -> Check | None:
        """The first failed check, or None."""
        return next((check for check in self.checks if not check.passed), None)

    @property
    def alert(self) -> AlertDescription | None:
        """The fatal alert for the first failure (RFC 5246 §7.2.2), None if the chain is fine."""
        error = self.error
        return None if error is None else CHECK_ALERTS[error.name]

    def summary(self) -> str:
        """One or two sentences a learner reads."""
        target = self._target()
        if self.ok:
            return (
                f"The chain of {len(self.chain)} certificates is valid{target}: every check passed "
                "and cryptography's validator agrees."
                if self.reference_ok
                else f"The chain of {len(self.chain)} certificates is valid{target}: every check passed."
            )
        error = self.error
        assert error is not None
        alert = self.alert
        assert alert is not None
        return (
            f"Rejected{target} at the '{error.name}' check: {error.explanation} "
            f"A TLS client would send the fatal alert {alert.name.lower()} ({int(alert)})."
        )

    def _target(self) -> str:
        if self.ip_address is not None:
            return f" for IP address {self.ip_address}"
        if self.server_name is not None:
            return f" for {self.server_name}"
        return ""

    def as_text(self) -> str:
        """A checklist: one line per check, ✓ or ✗, with its explanation and RFC section."""
        from .render import report_as_text

        return report_as_text(self)

    def __str__(self) -> str:
        return self.as_text()

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:  # IPython's pretty printer
        printer.text(self.as_text() if not cycle else "VerificationReport(...)")  # type: ignore[attr-defined]

    def raise_for_failure(self) -> None:
        """Raise :class:`BadCertificate` carrying :attr:`alert` unless the chain is fine."""
        if not self.ok:
            raise BadCertificate(self.summary(), alert=self.alert)


# --------------------------------------------------------------------------------------------
# helpers


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


def _key_description(certificate: x509.Certificate) -> str:
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


# --------------------------------------------------------------------------------------------
# path building (RFC 5280 §6.1 assumes a path; RFC 4158 describes building one)


@dataclass
class _PathResult:
    path: list[x509.Certificate]
    complete: bool
    explanation: str
    tangled: bool = False  # issuers loop or too many candidates: a graph, not a chain


def _build_path(
    leaf: x509.Certificate,
    pool: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    signature_problem: Callable[[x509.Certificate, x509.Certificate], str | None] = _signature_problem,
) -> _PathResult:
    candidates = [*anchors, *pool]

    def identity(certificate: x509.Certificate) -> bytes:
        return _facts(certificate).identity

    anchor_ders = {identity(anchor) for anchor in anchors}

    issuer_cache: dict[bytes, list[x509.Certificate]] = {}

    def issuers_of(certificate: x509.Certificate) -> list[x509.Certificate]:
        key = identity(certificate)
        if key not in issuer_cache:
            issuer_cache[key] = _issuers_of(certificate)
        return issuer_cache[key]

    def _issuers_of(certificate: x509.Certificate) -> list[x509.Certificate]:
        found = [candidate for candidate in candidates if _may_have_issued(candidate, certificate)]
        # try the issuers whose key verifies the signature first (anchors first among equals)
        return sorted(found, key=lambda candidate: signature_problem(certificate, candidate) is not None)

    best_partial: list[x509.Certificate] = [leaf]
    loop_seen: list[x509.Certificate] = []
    too_long = False
    budget = _PATH_BUILDING_BUDGET
    complete: list[x509.Certificate] | None = None

    def search(path: list[x509.Certificate]) -> None:
        nonlocal best_partial, too_long, budget, complete
        if complete is not None or budget <= 0:
            return
        budget -= 1
        current = path[-1]
        if identity(current) in anchor_ders:
            complete = list(path)
            return
        if len(path) > len(best_partial):
            best_partial = list(path)
        if len(path) >= MAX_PATH_LENGTH:
            too_long = True
            return
        on_path = {identity(certificate) for certificate in path}
        for issuer in issuers_of(current):
            if identity(issuer) == identity(current):
                continue  # a self-signed certificate names itself: that is not a loop
            if identity(issuer) in on_path:
                if not loop_seen:
                    loop_seen.extend([*path, issuer])
                continue
            search([*path, issuer])
            if complete is not None:
                return

    search([leaf])
    if complete is not None:
        anchor = complete[-1]
        steps = " → ".join(_quote(certificate) for certificate in complete)
        return _PathResult(
            complete, True, f"found a path of {len(complete)} to the trust anchor {_quote(anchor)}: {steps}"
        )

    last = best_partial[-1]
    if too_long:
        why = f"the chain is longer than {MAX_PATH_LENGTH} certificates; the path builder stopped there"
    elif budget <= 0:
        why = "too many candidate issuers to try; the path builder gave up"
    elif loop_seen:
        steps = " → ".join(_quote(certificate) for certificate in loop_seen)
        why = f"the issuers go round in a loop ({steps}) and never reach a trust anchor"
    elif _is_self_issued(last) and len(best_partial) == 1:
        why = f"the leaf {_quote(last)} is self-signed and is not one of the trust anchors"
    elif _is_self_issued(last):
        why = f"the chain ends at the self-signed root {_quote(last)}, which is not a trust anchor (unknown root)"
    else:
        why = (
            f"no certificate among the {len(pool)} intermediates and {len(anchors)} trust anchors has the "
            f"subject '{last.issuer.rfc4514_string()}' that {_quote(last)} names as its issuer"
        )
        signer = next((c for c in candidates if _signature_problem_ignoring_names(last, c) is None), None)
        if signer is not None:
            why += (
                f"; yet its signature verifies with the key of {_quote(signer)}, so its issuer field "
                "was changed (wrong issuer name)"
            )
        else:
            why += " (a missing intermediate?)"
    return _PathResult(best_partial, False, why, tangled=bool(loop_seen) or budget <= 0)


def _signature_problem_ignoring_names(child: x509.Certificate, issuer: x509.Certificate) -> str | None:
    """Does ``issuer``'s key verify ``child``'s signature, whatever the issuer name says?"""
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        key = issuer.public_key()
        algorithm = child.signature_hash_algorithm
        with translate_crypto_errors(BadCertificate, "the signature does not verify"):
            if isinstance(key, rsa.RSAPublicKey) and algorithm is not None:
                if isinstance(child.signature_algorithm_parameters, padding.PSS):
                    key.verify(
                        child.signature,
                        child.tbs_certificate_bytes,
                        child.signature_algorithm_parameters,
                        algorithm,
                    )
                else:
                    key.verify(child.signature, child.tbs_certificate_bytes, padding.PKCS1v15(), algorithm)
            elif isinstance(key, ec.EllipticCurvePublicKey) and algorithm is not None:
                key.verify(child.signature, child.tbs_certificate_bytes, ec.ECDSA(algorithm))
            else:
                return "unsupported key type"
    except BadCertificate:
        return "the signature does not verify"
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        return str(exc)
    return None


# --------------------------------------------------------------------------------------------
# name matching (RFC 9525 §6.3, §6.4)


def _normalise_dns_name(name: str) -> str:
    name = name.strip().rstrip(".")
    if not name:
        raise CertificateError("the server name is empty")
    try:
        ascii_name = name.encode("idna").decode("ascii") if not name.isascii() else name
    except UnicodeError as exc:
        raise CertificateError(f"the server name {name!r} is not a valid DNS name: {exc}") from exc
    return ascii_name.lower()


def dns_name_matches(pattern: str, host: str) -> bool:
    """Does the DNS-ID ``pattern`` (maybe ``*.example.com``) match the host name ``host``?

    RFC 9525 §6.3: a wildcard is allowed only as the complete left-most label and matches
    exactly one non-empty label; partial wildcards (``f*o.example.com``) never match.
    """
    pattern = pattern.lower().rstrip(".")
    host = host.lower().rstrip(".")
    host_labels = host.split(".")
    if not host or "" in host_labels:
        return False
    pattern_labels = pattern.split(".")
    if "*" not in pattern:
        return pattern_labels == host_labels
    if pattern_labels[0] != "*" or any("*" in label for label in pattern_labels[1:]):
        return False
    if len(pattern_labels) < 3 or "" in pattern_labels[1:]:
        return False  # "*.com" or "*." would match far too much
    return len(host_labels) == len(pattern_labels) and host_labels[1:] == pattern_labels[1:]


def _name_check(leaf: x509.Certificate, server_name: str | None, ip_address: IPAddressLike | None) -> Check:
    san = _extension_value(leaf, x509.SubjectAlternativeName)
    dns_ids, ip_ids, listed = _facts(leaf).subject_alt_names
    if ip_address is not None:
        rfc = _RFC["name_ip"]
        if ip_address in ip_ids:
            return Check("name", True, f"the IP address {ip_address} is an iPAddress subjectAltName", rfc, 0)
        note = (
            " (a DNS name that looks like an IP address does not count)" if str(ip_address) in dns_ids else ""
        )
        return Check(
            "name",
            False,
            f"the IP address {ip_address} is not among the iPAddress subjectAltNames (the certificate names {listed}){note}",
            rfc,
            0,
        )
    assert server_name is not None
    rfc = _RFC["name"]
    if san is None:
        return Check(
            "name",
            False,
            f"the certificate has no subjectAltName, and the common name {_quote(leaf)} is never used for {server_name}",
            rfc,
            0,
        )
    for pattern in dns_ids:
        if dns_name_matches(pattern, server_name):
            how = "its wildcard" if pattern.startswith("*") else "its"
            return Check("name", True, f"{server_name} matches {how} DNS subjectAltName {pattern}", rfc, 0)
    return Check(
        "name",
        False,
        f"{server_name} matches none of the DNS subjectAltNames (the certificate names {listed}); "
        "the common name is not consulted",
        rfc,
        0,
    )


# --------------------------------------------------------------------------------------------
# the reference validator


@functools.lru_cache(maxsize=16)
def _store(anchors: tuple[x509.Certificate, ...]) -> Store:
    """The reference validator's trust store for these anchors (built once, then reused)."""
    return Store(list(anchors))


#: Reports, keyed by every input but the time: (purpose, name, IP, leaf, intermediates,
#: anchors) -> (report, window). See verify_chain.
_REPORTS: collections.OrderedDict[
    tuple[object, ...], tuple[VerificationReport, tuple[dt.datetime, dt.datetime]]
] = collections.OrderedDict()
_REPORTS_MAX = 256
_REPORTS_LOCK = threading.Lock()  # servers verify client chains from several threads


def _common_validity(certificates: Iterable[x509.Certificate]) -> tuple[dt.datetime, dt.datetime] | None:
    """The span of time in which every one of ``certificates`` is within its validity period."""
    try:
        start = max(c.not_valid_before_utc for c in certificates)
        end = min(c.not_valid_after_utc for c in certificates)
    except Exception:  # a certificate that does not decode: nothing is remembered for it
        return None
    return (start, end) if start <= end else None


def _remembered_report(key: tuple[object, ...], at: dt.datetime) -> VerificationReport | None:
    with _REPORTS_LOCK:
        remembered = _REPORTS.get(key)
        if remembered is None or not remembered[1][0] <= at <= remembered[1][1]:
            return None
        _REPORTS.move_to_end(key)
        report = remembered[0]
    return replace(
        report, at=at, chain=list(report.chain), checks=list(report.checks), notes=list(report.notes)
    )


def _remember_report(
    key: tuple[object, ...], report: VerificationReport, certificates: list[x509.Certificate]
) -> None:
    window = _common_validity(certificates)
    if window is None or not window[0] <= report.at <= window[1]:
        return
    copy = replace(report, chain=list(report.chain), checks=list(report.checks), notes=list(report.notes))
    with _REPORTS_LOCK:
        _REPORTS[key] = (copy, window)
        if len(_REPORTS) > _REPORTS_MAX:
            _REPORTS.popitem(last=False)


def _run_reference(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    *,
    server_name: str | None,
    ip_address: IPAddressLike | None,
    at: dt.datetime,
    purpose: Purpose,
) -> tuple[bool | None, str | None]:
    try:
        builder = PolicyBuilder().store(_store(tuple(anchors))).time(at)
        if purpose == "client":
            builder.build_client_verifier().verify(leaf, list(intermediates))
            return True, None
        if ip_address is not None:
            subject: DNSName | IPAddress = IPAddress(ip_address)
        elif server_name is not None:
            subject = DNSName(server_name)
        else:
            return None, "no server name or IP address to give it"
        builder.build_server_verifier(subject).verify(leaf, list(intermediates))
    except (VerificationError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
        return False, str(exc) or type(exc).__name__
    return True, None


# --------------------------------------------------------------------------------------------
# the verifier


def _coerce_certificates(values: Iterable[x509.Certificate] | None, what: str) -> list[x509.Certificate]:
    if values is None:
        return []
    if isinstance(values, x509.Certificate):
        return [values]
    if isinstance(values, bytes | str):
        raise CertificateError(
            f"{what} must be cryptography Certificate objects; load PEM with load_certificates()"
        )
    try:
        return list(values)
    except TypeError as exc:
        raise CertificateError(f"{what} must be a list of certificates: {exc}") from exc


def _coerce_ip(value: str | IPAddressLike | None) -> IPAddressLike | None:
    if value is None or isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return value
    try:
        return ipaddress.ip_address(str(value).strip("[]"))
    except ValueError as exc:
        raise CertificateError(f"{value!r} is not an IP address") from exc


def verify_chain(
    leaf: x509.Certificate,
    intermediates: Iterable[x509.Certificate] = (),
    trust_anchors: Iterable[x509.Certificate] = (),
    *,
    server_name: str | None = None,
    ip_address: str | IPAddressLike | None = None,
    at: dt.datetime | None = None,
    purpose: Purpose = "server",
) -> VerificationReport:
    """Verify ``leaf`` up to one of ``trust_anchors`` and explain every check.

    ``intermediates`` may come in any order and hold extra certificates. For a server
    (``purpose="server"``) give the ``server_name`` the client asked for, or the
    ``ip_address`` it connected to (a server name that is an IP literal counts as one).
    ``at`` defaults to now (UTC). Arguments of the wrong type raise :class:`CertificateError`;
    certificates that fail a check give a report whose ``ok`` is False.
    """
    if purpose not in ("server", "client"):
        raise CertificateError(f"purpose must be 'server' or 'client', not {purpose!r}")
    if at is None:
        at = dt.datetime.now(dt.UTC)
    elif at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    ip = _coerce_ip(ip_address)
    name: str | None = None
    if server_name is not None and ip is None:
        try:
            ip = ipaddress.ip_address(server_name.strip("[]"))
        except ValueError:
            name = _normalise_dns_name(server_name)
    pool_in = _coerce_certificates(intermediates, "intermediates")
    anchors_in = _coerce_certificates(trust_anchors, "trust_anchors")

    quote = _quote  # each certificate's label is built once (see _Facts)

    checks: list[Check] = []
    report = VerificationReport(
        chain=[], checks=checks, purpose=purpose, at=at, server_name=name, ip_address=ip
    )

    # 1. parse
    problem = _parse_problem(leaf)
    if problem is not None:
        if not isinstance(leaf, x509.Certificate):
            raise CertificateError(f"the leaf is {problem}")
        checks.append(Check("parse", False, f"the leaf {problem}", _RFC["parse"], 0))
        report.chain = [leaf]
        return report
    checks.append(
        Check(
            "parse", True, f"the leaf {quote(leaf)} decodes ({_key_description(leaf)} key)", _RFC["parse"], 0
        )
    )
    pool: list[x509.Certificate] = []
    for index, certificate in enumerate(pool_in):
        problem = _parse_problem(certificate)
        if problem is not None:
            if not isinstance(certificate, x509.Certificate):
                raise CertificateError(f"intermediate #{index} is {problem}")
            checks.append(Check("parse", False, f"intermediate #{index} {problem}", _RFC["parse"]))
            continue
        if certificate != leaf and certificate not in pool:
            pool.append(certificate)
    anchors: list[x509.Certificate] = []
    for index, certificate in enumerate(anchors_in):
        problem = _parse_problem(certificate)
        if problem is not None:
            if not isinstance(certificate, x509.Certificate):
                raise CertificateError(f"trust anchor #{index} is {problem}")
            report.notes.append(f"trust anchor #{index} was skipped: {problem}")
            continue
        anchors.append(certificate)

    # Every check depends on the certificates, the name or IP address, the purpose and the
    # anchors, and on the time only through the certificates' validity periods (so does the
    # reference validator). A report made at a time when every certificate given was within
    # its validity period therefore holds at any other such time: it is reused then, and the
    # whole verification runs again at any other time. No certificate's report decides for
    # another: the key holds every input but the time.
    memo_key = (purpose, name, str(ip), leaf, tuple(pool_in), tuple(anchors_in))
    remembered = _remembered_report(memo_key, at)
    if remembered is not None:
        return remembered
    report = _verify_parsed(report, leaf, pool, anchors, pool_in, name=name, ip=ip, at=at, purpose=purpose)
    _remember_report(memo_key, report, [leaf, *pool_in, *anchors_in])
    return report


def _verify_parsed(
    report: VerificationReport,
    leaf: x509.Certificate,
    pool: list[x509.Certificate],
    anchors: list[x509.Certificate],
    pool_in: list[x509.Certificate],
    *,
    name: str | None,
    ip: IPAddressLike | None,
    at: dt.datetime,
    purpose: Purpose,
) -> VerificationReport:
    """Steps 2 to 8 of :func:`verify_chain` on parsed inputs (step 1 is in ``report`` already)."""
    checks = report.checks
    quote = _quote

    # 2. path. Each signature is verified once per call: the path builder tries issuers by
    # their signatures, and step 3 reports on the same links (the objects live until we return,
    # so their ids are stable keys).
    signature_results: dict[tuple[int, int], str | None] = {}

    def der_identity(certificate: x509.Certificate) -> bytes:
        return _facts(certificate).der

    def signature_problem(child: x509.Certificate, issuer: x509.Certificate) -> str | None:
        key = (id(child), id(issuer))
        if key not in signature_results:
            signature_results[key] = _signature_problem_memoised(
                der_identity(child), der_identity(issuer), child, issuer
            )
        return signature_results[key]

    path = _build_path(leaf, pool, anchors, signature_problem)
    report.chain = path.path
    report.path_complete = path.complete
    checks.append(Check("path", path.complete, path.explanation, _RFC["path"]))
    chain = path.path

    # 3. signatures, link by link (the anchor's own signature is not checked: RFC 5280 §6.1.1 (d))
    for depth in range(len(chain) - 1):
        child, issuer = chain[depth], chain[depth + 1]
        problem = signature_problem(child, issuer)
        if problem is None:
            text = f"{quote(child)} is signed by the key of {quote(issuer)} ({_key_description(issuer)}, {child.signature_hash_algorithm.name if child.signature_hash_algorithm else '?'})"
        else:
            text = (
                f"the signature on {quote(child)} does not verify with the key of {quote(issuer)}: {problem}"
            )
        checks.append(Check("signature", problem is None, text, _RFC["signature"], depth))

    # 4. validity periods
    def stamp() -> str:  # formatted only for a certificate outside its validity period
        return at.strftime("%Y-%m-%d %H:%M UTC")

    for depth, certificate in enumerate(chain):
        facts = _facts(certificate)
        not_before, not_after = facts.validity
        if at < not_before:
            text = (
                f"{quote(certificate)} is not yet valid at {stamp()}: it starts {not_before:%Y-%m-%d %H:%M}"
            )
        elif at > not_after:
            text = f"{quote(certificate)} expired on {not_after:%Y-%m-%d %H:%M}, before {stamp()}"
        else:
            text = facts.validity_text
        checks.append(Check("validity", not_before <= at <= not_after, text, _RFC["validity"], depth))

    # 5. basicConstraints and pathLenConstraint
    for depth, certificate in enumerate(chain):
        constraints = _extension_value(certificate, x509.BasicConstraints)
        is_ca = isinstance(constraints, x509.BasicConstraints) and constraints.ca
        if depth == 0:
            text = (
                f"the leaf {quote(certificate)} is not a CA"
                if not is_ca
                else f"the leaf {quote(certificate)} claims CA:TRUE, which an end-entity must not"
            )
            checks.append(Check("basic_constraints", not is_ca, text, _RFC["basic_constraints"], depth))
            continue
        if is_ca:
            text = f"{quote(certificate)} may issue certificates (basicConstraints CA:TRUE)"
        elif constraints is None:
            text = f"{quote(certificate)} issued a certificate but has no basicConstraints: it is not a CA"
        else:
            text = f"{quote(certificate)} issued a certificate but its basicConstraints say CA:FALSE"
        checks.append(Check("basic_constraints", is_ca, text, _RFC["basic_constraints"], depth))
    for depth, certificate in enumerate(chain[1:], start=1):
        constraints = _extension_value(certificate, x509.BasicConstraints)
        if not isinstance(constraints, x509.BasicConstraints) or not constraints.ca:
            continue
        below = sum(1 for between in chain[1:depth] if not _is_self_issued(between))
        limit = constraints.path_length
        if limit is None:
            text = f"{quote(certificate)} sets no pathLenConstraint ({below} CA certificates below it)"
            passed = True
        else:
            passed = below <= limit
            text = (
                f"{quote(certificate)} allows {limit} CA certificates below it and {below} follow"
                if passed
                else f"{quote(certificate)} allows at most {limit} CA certificates below it, but {below} follow"
            )
        checks.append(Check("path_length", passed, text, _RFC["path_length"], depth))

    # 6. keyUsage and extendedKeyUsage
    for depth, certificate in enumerate(chain):
        usage = _extension_value(certificate, x509.KeyUsage)
        if not isinstance(usage, x509.KeyUsage):
            text = f"{quote(certificate)} has no keyUsage extension, so its key may be used for anything"
            checks.append(Check("key_usage", True, text, _RFC["key_usage"], depth))
            continue
        if depth > 0:
            passed = usage.key_cert_sign
            text = (
                f"{quote(certificate)} may sign certificates (keyCertSign)"
                if passed
                else f"{quote(certificate)} issued a certificate but its keyUsage lacks keyCertSign"
            )
        elif isinstance(certificate.public_key(), rsa.RSAPublicKey):
            passed = usage.digital_signature or usage.key_encipherment
            text = (
                "the RSA leaf key may sign (digitalSignature) or decrypt a premaster secret (keyEncipherment)"
                if passed
                else "the RSA leaf's keyUsage allows neither digitalSignature nor keyEncipherment"
            )
        else:
            passed = usage.digital_signature
            text = (
                "the leaf key may sign handshakes (digitalSignature)"
                if passed
                else "the leaf's keyUsage lacks digitalSignature, which an ECDSA key needs to sign the handshake"
            )
        checks.append(Check("key_usage", passed, text, _RFC["key_usage"], depth))
    wanted = ExtendedKeyUsageOID.SERVER_AUTH if purpose == "server" else ExtendedKeyUsageOID.CLIENT_AUTH
    wanted_name = "serverAuth" if purpose == "server" else "clientAuth"
    eku = _extension_value(leaf, x509.ExtendedKeyUsage)
    if not isinstance(eku, x509.ExtendedKeyUsage):
        checks.append(
            Check(
                "extended_key_usage",
                True,
                "the leaf has no extendedKeyUsage: any purpose",
                _RFC["extended_key_usage"],
                0,
            )
        )
    else:
        names = ", ".join(getattr(oid, "_name", None) or oid.dotted_string for oid in eku) or "nothing"
        passed = wanted in eku
        text = (
            f"the leaf may act as a {purpose} (extendedKeyUsage includes {wanted_name})"
            if passed
            else f"the leaf is presented as a {purpose} but its extendedKeyUsage allows only {names}, not {wanted_name}"
        )
        checks.append(Check("extended_key_usage", passed, text, _RFC["extended_key_usage"], 0))

    # 7. name or IP address
    if purpose == "server":
        if name is None and ip is None:
            report.notes.append("no server name or IP address was given, so the name was not checked")
        else:
            checks.append(_name_check(leaf, name, ip))

    # 8. the reference validator
    if path.tangled:
        # We already reject; cryptography's path builder can take exponential time on a
        # mesh of cross-signed CAs, so it is not asked (nothing it says could make us accept).
        reference_ok: bool | None = None
        reference_error: str | None = "the issuers form loops, and httpslab already rejects the chain"
    else:
        reference_ok, reference_error = _run_reference(
            leaf, pool_in, anchors, server_name=name, ip_address=ip, at=at, purpose=purpose
        )
    report.reference_ok, report.reference_error = reference_ok, reference_error
    ours = report.own_verdict
    first = report.error
    if reference_ok is None:
        checks.append(
            Check(
                "reference",
                True,
                f"cryptography's validator was not run: {reference_error}",
                _RFC["reference"],
            )
        )
    elif reference_ok and ours:
        checks.append(
            Check("reference", True, "cryptography's validator also accepts this chain", _RFC["reference"])
        )
    elif not reference_ok and not ours:
        checks.append(
            Check(
                "reference",
                True,
                f"cryptography's validator also rejects it: {reference_error}",
                _RFC["reference"],
            )
        )
    elif ours:
        checks.append(
            Check(
                "reference",
                False,
                f"every check above passed, but cryptography's validator rejects the chain ({reference_error}); "
                "httpslab never accepts what the reference rejects",
                _RFC["reference"],
            )
        )
    else:
        assert first is not None
        checks.append(
            Check(
                "reference",
                False,
                f"the verdicts differ: cryptography's validator accepts this chain, but httpslab rejects it at "
                f"'{first.name}'",
                _RFC["reference"],
            )
        )
    return report
