"""Building a path from a leaf to a trust anchor (RFC 5280 §6.1 assumes one; RFC 4158)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ..errors import BadCertificate, translate_crypto_errors
from .facts import _facts, _is_self_issued, _may_have_issued, _quote, _signature_problem

__all__ = ["MAX_PATH_LENGTH"]

#: Longest path (certificates, leaf and anchor included) the path builder will follow.
MAX_PATH_LENGTH = 10
#: How many candidate issuers the path builder may try in total (cross-signing can branch).
_PATH_BUILDING_BUDGET = 200


# --------------------------------------------------------------------------------------------
# path building (RFC 5280 §6.1 assumes a path; RFC 4158 describes building one)


@dataclass
class _PathResult:
    path: list[x509.Certificate]
    complete: bool
    explanation: str
    tangled: bool = False  # issuers loop or too many candidates: a graph, not a chain


def _build_path(  # long: a depth-first search whose closures share its caches and budget
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
