"""A certificate path verifier that explains every check it makes.

``verify_chain`` follows the order of RFC 5280 §6.1 (basic path validation) and adds the
service-identity check of RFC 9525 (which obsoletes RFC 6125):

1. parse — every certificate decodes (its extensions and public key included);
2. path — build a path from the leaf to a trust anchor by issuer/subject names and key
   identifiers, in any order, without loops and at most :data:`~httpslab.pki.path.MAX_PATH_LENGTH` long;
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
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import DNSName, IPAddress, PolicyBuilder, Store, VerificationError

from ..enums import AlertDescription
from ..errors import BadCertificate, CertificateError
from .anchors import anchor_set, anchors_that_may_issue, coerce_certificates
from .facts import (
    IPAddressLike,
    _extension_value,
    _facts,
    _is_self_issued,
    _parse_problem,
    _quote,
    _signature_problem_memoised,
    key_description,
)
from .path import _build_path
from .render import describe, describe_issuer

__all__ = [
    "CHECK_ALERTS",
    "CHECK_NAMES",
    "Check",
    "Purpose",
    "VerificationReport",
    "dns_name_matches",
    "verify_chain",
]

Purpose = Literal["server", "client"]

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
        lines = [f"Certificate chain ({'complete' if self.path_complete else 'incomplete'}, leaf first):"]
        for depth, certificate in enumerate(self.chain):
            lines.append(f"  #{depth} {describe(certificate)}  (issuer: {describe_issuer(certificate)})")
        lines.append("Checks:")
        lines.extend(f"  {check}" for check in self.checks)
        lines.extend(f"  note: {note}" for note in self.notes)
        agreement = self.agrees_with_reference
        if agreement is not None:
            verdict = "agrees" if agreement else "DISAGREES"
            lines.append(f"Reference (cryptography.x509.verification): {verdict}")
        lines.append(("VALID: " if self.ok else "REJECTED: ") + self.summary())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.as_text()

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:  # IPython's pretty printer
        printer.text(self.as_text() if not cycle else "VerificationReport(...)")  # type: ignore[attr-defined]

    def raise_for_failure(self) -> None:
        """Raise :class:`BadCertificate` carrying :attr:`alert` unless the chain is fine."""
        if not self.ok:
            raise BadCertificate(self.summary(), alert=self.alert)


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


def _coerce_ip(value: str | IPAddressLike | None) -> IPAddressLike | None:
    if value is None or isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return value
    try:
        return ipaddress.ip_address(str(value).strip("[]"))
    except ValueError as exc:
        raise CertificateError(f"{value!r} is not an IP address") from exc


def _coerce_target(
    purpose: str, at: dt.datetime | None, server_name: str | None, ip_address: str | IPAddressLike | None
) -> tuple[dt.datetime, str | None, IPAddressLike | None]:
    """The time (UTC, default now), DNS name and IP address a chain is checked for."""
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
    return at, name, ip


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
    at, name, ip = _coerce_target(purpose, at, server_name, ip_address)
    pool_in = coerce_certificates(intermediates, "intermediates")
    # a tuple (a loaded trust store) is read once, in anchor_set; a list may change between calls
    anchors_in = (
        trust_anchors
        if isinstance(trust_anchors, tuple)
        else coerce_certificates(trust_anchors, "trust_anchors")
    )

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
            "parse", True, f"the leaf {quote(leaf)} decodes ({key_description(leaf)} key)", _RFC["parse"], 0
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
    prepared = anchor_set(anchors_in)
    report.notes.extend(prepared.notes)
    anchors = list(prepared.usable)

    # Every check depends on the certificates, the name or IP address, the purpose and the
    # anchors, and on the time only through the validity periods of the certificates a path
    # can hold: the leaf, the intermediates and the anchors that may issue them (so does the
    # reference validator; an expired root of a CA bundle that issued none of them does not
    # count). A report made at a time when all of those were within their validity periods
    # therefore holds at any other such time: it is reused then, and the whole verification
    # runs again at any other time. No certificate's report decides for another: the key
    # holds every input but the time.
    memo_key = (purpose, name, str(ip), leaf, tuple(pool_in), prepared.key)
    remembered = _remembered_report(memo_key, at)
    if remembered is not None:
        return remembered
    report = _verify_parsed(report, leaf, pool, anchors, pool_in, name=name, ip=ip, at=at, purpose=purpose)
    issuing = anchors_that_may_issue(anchors, [leaf, *pool])
    if issuing is not None:
        _remember_report(memo_key, report, [leaf, *pool_in, *issuing])
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

    checks.extend(_signature_checks(chain, signature_problem))
    checks.extend(_validity_checks(chain, at))
    checks.extend(_constraint_checks(chain))
    checks.extend(_usage_checks(chain, leaf, purpose))

    # 7. name or IP address
    if purpose == "server":
        if name is None and ip is None:
            report.notes.append("no server name or IP address was given, so the name was not checked")
        else:
            checks.append(_name_check(leaf, name, ip))

    # 8. the reference validator
    checks.append(
        _reference_check(
            report, leaf, pool_in, anchors, tangled=path.tangled, name=name, ip=ip, at=at, purpose=purpose
        )
    )
    return report


def _signature_checks(
    chain: list[x509.Certificate],
    signature_problem: Callable[[x509.Certificate, x509.Certificate], str | None],
) -> list[Check]:
    """Step 3: signatures, link by link (the anchor's own is not checked: RFC 5280 §6.1.1 (d))."""
    checks: list[Check] = []
    for depth in range(len(chain) - 1):
        child, issuer = chain[depth], chain[depth + 1]
        problem = signature_problem(child, issuer)
        if problem is None:
            text = f"{_quote(child)} is signed by the key of {_quote(issuer)} ({key_description(issuer)}, {child.signature_hash_algorithm.name if child.signature_hash_algorithm else '?'})"
        else:
            text = f"the signature on {_quote(child)} does not verify with the key of {_quote(issuer)}: {problem}"
        checks.append(Check("signature", problem is None, text, _RFC["signature"], depth))
    return checks


def _validity_checks(chain: list[x509.Certificate], at: dt.datetime) -> list[Check]:
    """Step 4: every certificate is valid at ``at`` (RFC 5280 §4.1.2.5, §6.1.3 (a)(2))."""
    checks: list[Check] = []

    def stamp() -> str:  # formatted only for a certificate outside its validity period
        return at.strftime("%Y-%m-%d %H:%M UTC")

    for depth, certificate in enumerate(chain):
        facts = _facts(certificate)
        not_before, not_after = facts.validity
        if at < not_before:
            text = (
                f"{_quote(certificate)} is not yet valid at {stamp()}: it starts {not_before:%Y-%m-%d %H:%M}"
            )
        elif at > not_after:
            text = f"{_quote(certificate)} expired on {not_after:%Y-%m-%d %H:%M}, before {stamp()}"
        else:
            text = facts.validity_text
        checks.append(Check("validity", not_before <= at <= not_after, text, _RFC["validity"], depth))
    return checks


def _constraint_checks(chain: list[x509.Certificate]) -> list[Check]:
    """Step 5: basicConstraints and pathLenConstraint (RFC 5280 §4.2.1.9)."""
    checks: list[Check] = []
    for depth, certificate in enumerate(chain):
        constraints = _extension_value(certificate, x509.BasicConstraints)
        is_ca = isinstance(constraints, x509.BasicConstraints) and constraints.ca
        if depth == 0:
            text = (
                f"the leaf {_quote(certificate)} is not a CA"
                if not is_ca
                else f"the leaf {_quote(certificate)} claims CA:TRUE, which an end-entity must not"
            )
            checks.append(Check("basic_constraints", not is_ca, text, _RFC["basic_constraints"], depth))
            continue
        if is_ca:
            text = f"{_quote(certificate)} may issue certificates (basicConstraints CA:TRUE)"
        elif constraints is None:
            text = f"{_quote(certificate)} issued a certificate but has no basicConstraints: it is not a CA"
        else:
            text = f"{_quote(certificate)} issued a certificate but its basicConstraints say CA:FALSE"
        checks.append(Check("basic_constraints", is_ca, text, _RFC["basic_constraints"], depth))
    for depth, certificate in enumerate(chain[1:], start=1):
        constraints = _extension_value(certificate, x509.BasicConstraints)
        if not isinstance(constraints, x509.BasicConstraints) or not constraints.ca:
            continue
        below = sum(1 for between in chain[1:depth] if not _is_self_issued(between))
        limit = constraints.path_length
        if limit is None:
            text = f"{_quote(certificate)} sets no pathLenConstraint ({below} CA certificates below it)"
            passed = True
        else:
            passed = below <= limit
            text = (
                f"{_quote(certificate)} allows {limit} CA certificates below it and {below} follow"
                if passed
                else f"{_quote(certificate)} allows at most {limit} CA certificates below it, but {below} follow"
            )
        checks.append(Check("path_length", passed, text, _RFC["path_length"], depth))
    return checks


def _usage_checks(chain: list[x509.Certificate], leaf: x509.Certificate, purpose: Purpose) -> list[Check]:
    """Step 6: keyUsage on every certificate, extendedKeyUsage on the leaf (RFC 5280 §4.2.1.3, §4.2.1.12)."""
    checks: list[Check] = []
    for depth, certificate in enumerate(chain):
        usage = _extension_value(certificate, x509.KeyUsage)
        if not isinstance(usage, x509.KeyUsage):
            text = f"{_quote(certificate)} has no keyUsage extension, so its key may be used for anything"
            checks.append(Check("key_usage", True, text, _RFC["key_usage"], depth))
            continue
        if depth > 0:
            passed = usage.key_cert_sign
            text = (
                f"{_quote(certificate)} may sign certificates (keyCertSign)"
                if passed
                else f"{_quote(certificate)} issued a certificate but its keyUsage lacks keyCertSign"
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
    return checks


def _reference_check(
    report: VerificationReport,
    leaf: x509.Certificate,
    pool_in: list[x509.Certificate],
    anchors: list[x509.Certificate],
    *,
    tangled: bool,
    name: str | None,
    ip: IPAddressLike | None,
    at: dt.datetime,
    purpose: Purpose,
) -> Check:
    """Step 8: ``cryptography.x509.verification`` on the same inputs, compared with our verdict."""
    if tangled:
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
        return Check(
            "reference",
            True,
            f"cryptography's validator was not run: {reference_error}",
            _RFC["reference"],
        )
    elif reference_ok and ours:
        return Check("reference", True, "cryptography's validator also accepts this chain", _RFC["reference"])
    elif not reference_ok and not ours:
        return Check(
            "reference",
            True,
            f"cryptography's validator also rejects it: {reference_error}",
            _RFC["reference"],
        )
    elif ours:
        return Check(
            "reference",
            False,
            f"every check above passed, but cryptography's validator rejects the chain ({reference_error}); "
            "httpslab never accepts what the reference rejects",
            _RFC["reference"],
        )
    else:
        assert first is not None
        return Check(
            "reference",
            False,
            f"the verdicts differ: cryptography's validator accepts this chain, but httpslab rejects it at "
            f"'{first.name}'",
            _RFC["reference"],
        )
