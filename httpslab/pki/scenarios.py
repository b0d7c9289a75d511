"""Named certificate scenarios a course needs: one valid chain and each way it can break.

``scenario(name, key_type)`` builds the certificates from the demo PKI (see
:mod:`httpslab.pki.ca`) and says what a correct verifier must conclude: the verdict and the
name of the first check that fails (one of :data:`httpslab.pki.verify.CHECK_NAMES`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from ..errors import CertificateError
from .ca import DemoPKI, KeyType, _name, demo_key, demo_now, issue_certificate, leaf_key_usage
from .verify import Purpose, VerificationReport, verify_chain

__all__ = ["SCENARIOS", "Scenario", "demo_pki", "scenario"]


@dataclass(frozen=True)
class Scenario:
    """A chain to verify, how to verify it, and the verdict a correct verifier reaches."""

    name: str
    key_type: KeyType
    description: str
    leaf: x509.Certificate
    intermediates: tuple[x509.Certificate, ...]
    trust_anchors: tuple[x509.Certificate, ...]
    server_name: str | None
    ip_address: str | None
    purpose: Purpose
    at: dt.datetime
    expected_ok: bool
    expected_failure: str | None

    def verify(self) -> VerificationReport:
        """Run :func:`~httpslab.pki.verify.verify_chain` on this scenario."""
        return verify_chain(
            self.leaf,
            self.intermediates,
            self.trust_anchors,
            server_name=self.server_name,
            ip_address=self.ip_address,
            at=self.at,
            purpose=self.purpose,
        )


@dataclass(frozen=True)
class _Case:
    """What one scenario changes; ``build`` returns (leaf, intermediates, trust anchors)."""

    description: str
    build: Callable[[DemoPKI], tuple[x509.Certificate, list[x509.Certificate], list[x509.Certificate]]]
    expected_failure: str | None
    server_name: str | None = "localhost"
    ip_address: str | None = None
    purpose: Purpose = "server"


def _standard(pki: DemoPKI) -> tuple[x509.Certificate, list[x509.Certificate], list[x509.Certificate]]:
    return pki.server, [pki.intermediate], [pki.root]


def _with_leaf(
    leaf: x509.Certificate, pki: DemoPKI
) -> tuple[x509.Certificate, list[x509.Certificate], list[x509.Certificate]]:
    return leaf, [pki.intermediate], [pki.root]


def _now(pki: DemoPKI) -> dt.datetime:
    assert pki.now is not None
    return pki.now


def _expired(pki: DemoPKI):  # type: ignore[no-untyped-def]
    now = _now(pki)
    leaf = pki.issue_leaf(not_before=now - dt.timedelta(days=91), not_after=now - dt.timedelta(days=1))
    return _with_leaf(leaf, pki)


def _not_yet_valid(pki: DemoPKI):  # type: ignore[no-untyped-def]
    now = _now(pki)
    leaf = pki.issue_leaf(not_before=now + dt.timedelta(days=1), not_after=now + dt.timedelta(days=91))
    return _with_leaf(leaf, pki)


def _no_ip(pki: DemoPKI):  # type: ignore[no-untyped-def]
    return _with_leaf(pki.issue_leaf(hostnames=("localhost",), ip_addresses=()), pki)


def _self_signed(pki: DemoPKI):  # type: ignore[no-untyped-def]
    now = _now(pki)
    key = demo_key("server", pki.key_type)
    leaf = issue_certificate(
        subject="localhost",
        public_key=key.public_key(),
        issuer=None,
        signing_key=key,
        not_before=now - dt.timedelta(days=1),
        not_after=now + dt.timedelta(days=90),
        is_ca=False,
        key_usage=leaf_key_usage(pki.key_type),
        extended_key_usage=(ExtendedKeyUsageOID.SERVER_AUTH,),
        hostnames=pki.hostnames,
        ip_addresses=pki.ip_addresses,
    )
    return leaf, [], [pki.root]


def _unknown_root(pki: DemoPKI):  # type: ignore[no-untyped-def]
    other_root = pki.make_root("httpslab DEMO Unknown Root CA", key_role="other-root")
    other_intermediate = pki.make_intermediate(
        other_root,
        demo_key("other-root", pki.key_type),
        "httpslab DEMO Unknown Intermediate CA",
        key_role="other-intermediate",
    )
    leaf = pki.issue_leaf(issuer=other_intermediate, issuer_key=demo_key("other-intermediate", pki.key_type))
    return leaf, [other_intermediate, other_root], [pki.root]


def _missing_intermediate(pki: DemoPKI):  # type: ignore[no-untyped-def]
    return pki.server, [], [pki.root]


def _intermediate_not_ca(pki: DemoPKI):  # type: ignore[no-untyped-def]
    not_a_ca = pki.make_intermediate(
        pki.root, pki.root_key, "httpslab DEMO Not-a-CA Intermediate", is_ca=False
    )
    leaf = pki.issue_leaf(issuer=not_a_ca, issuer_key=pki.intermediate_key)
    return leaf, [not_a_ca], [pki.root]


def _path_length(pki: DemoPKI):  # type: ignore[no-untyped-def]
    sub_ca = pki.make_intermediate(
        pki.intermediate,
        pki.intermediate_key,
        "httpslab DEMO Sub-Intermediate CA",
        key_role="other-intermediate",
        path_length=None,
    )
    leaf = pki.issue_leaf(issuer=sub_ca, issuer_key=demo_key("other-intermediate", pki.key_type))
    return leaf, [pki.intermediate, sub_ca], [pki.root]


def _client_only(pki: DemoPKI):  # type: ignore[no-untyped-def]
    return _with_leaf(pki.issue_leaf(extended_key_usage=(ExtendedKeyUsageOID.CLIENT_AUTH,)), pki)


def _tampered(pki: DemoPKI):  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.serialization import Encoding

    der = bytearray(pki.server.public_bytes(Encoding.DER))
    der[-1] ^= 0x01  # the last byte belongs to the signature value
    try:
        leaf = x509.load_der_x509_certificate(bytes(der))
    except ValueError as exc:  # pragma: no cover - flipping a signature bit keeps the DER valid
        raise CertificateError(f"could not build the tampered certificate: {exc}") from exc
    return _with_leaf(leaf, pki)


def _wrong_issuer(pki: DemoPKI):  # type: ignore[no-untyped-def]
    return _with_leaf(pki.issue_leaf(issuer_name=_name("httpslab DEMO Wrong Issuer CA")), pki)


def _client(pki: DemoPKI):  # type: ignore[no-untyped-def]
    return pki.client, [pki.intermediate], [pki.root]


_CASES: dict[str, _Case] = {
    "valid": _Case(
        "A valid chain root → intermediate → leaf, reached by the name localhost.", _standard, None
    ),
    "valid_ip": _Case(
        "The same valid chain reached by IP address 127.0.0.1 (an iPAddress subjectAltName).",
        _standard,
        None,
        server_name=None,
        ip_address="127.0.0.1",
    ),
    "client_certificate": _Case(
        "A client certificate (EKU clientAuth) checked by a server for mutual TLS.",
        _client,
        None,
        server_name=None,
        purpose="client",
    ),
    "expired": _Case("The leaf's notAfter date is in the past.", _expired, "validity"),
    "not_yet_valid": _Case("The leaf's notBefore date is in the future.", _not_yet_valid, "validity"),
    "wrong_host_name": _Case(
        "A valid chain, but the client asked for www.example.com, a name the leaf does not carry.",
        _standard,
        "name",
        server_name="www.example.com",
    ),
    "ip_not_in_certificate": _Case(
        "The client connected to 127.0.0.1, but the leaf names only localhost (no iPAddress entry).",
        _no_ip,
        "name",
        server_name=None,
        ip_address="127.0.0.1",
    ),
    "self_signed_leaf": _Case(
        "The server presents a self-signed leaf that no one trusts.", _self_signed, "path"
    ),
    "unknown_root": _Case(
        "The chain leads to a root CA that is not among the client's trust anchors.", _unknown_root, "path"
    ),
    "missing_intermediate": _Case(
        "The server forgot to send its intermediate CA certificate.", _missing_intermediate, "path"
    ),
    "intermediate_not_ca": _Case(
        "The leaf is signed by a certificate whose basicConstraints say CA:FALSE.",
        _intermediate_not_ca,
        "basic_constraints",
    ),
    "path_length_exceeded": _Case(
        "The intermediate has pathLenConstraint 0, yet another CA sits below it.", _path_length, "path_length"
    ),
    "client_auth_only_leaf": _Case(
        "A leaf whose extendedKeyUsage allows only clientAuth is presented by a server.",
        _client_only,
        "extended_key_usage",
    ),
    "tampered_signature": _Case("One bit of the leaf's signature was flipped.", _tampered, "signature"),
    "wrong_issuer_name": _Case(
        "The leaf is signed by the intermediate's key, but its issuer field names another CA.",
        _wrong_issuer,
        "path",
    ),
}

#: The scenario names, valid ones first.
SCENARIOS: tuple[str, ...] = tuple(_CASES)


@lru_cache(maxsize=16)
def demo_pki(key_type: KeyType = "rsa", now: dt.datetime | None = None) -> DemoPKI:
    """The demo PKI for ``key_type`` (cached per process and per ``now``)."""
    return DemoPKI(key_type, now=now if now is not None else demo_now())


@lru_cache(maxsize=128)
def _scenario(name: str, key_type: KeyType, now: dt.datetime) -> Scenario:
    case = _CASES[name]
    pki = demo_pki(key_type, now)
    leaf, intermediates, anchors = case.build(pki)
    return Scenario(
        name=name,
        key_type=key_type,
        description=case.description,
        leaf=leaf,
        intermediates=tuple(intermediates),
        trust_anchors=tuple(anchors),
        server_name=case.server_name,
        ip_address=case.ip_address,
        purpose=case.purpose,
        at=now + dt.timedelta(hours=1),
        expected_ok=case.expected_failure is None,
        expected_failure=case.expected_failure,
    )


def scenario(name: str, key_type: KeyType = "rsa", *, now: dt.datetime | None = None) -> Scenario:
    """Build the scenario ``name`` (one of :data:`SCENARIOS`) with RSA or ECDSA keys.

    Certificates are valid around ``now`` (default: the start of today, UTC) and the
    scenario is verified one hour after it.
    """
    if name not in _CASES:
        raise CertificateError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}")
    if key_type not in ("rsa", "ecdsa"):
        raise CertificateError(f"unknown key type {key_type!r}; expected 'rsa' or 'ecdsa'")
    if now is None:
        now = demo_now()
    elif now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    return _scenario(name, key_type, now)
