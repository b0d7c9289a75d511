"""Trust anchor sets, read once per set (RFC 5280 §6.1.1 (d): the trust anchor information).

A trust store loaded from a file is the same tuple on every handshake
(:func:`httpslab.io.load_trust_anchors` keeps one per version of the file). What
:func:`~httpslab.pki.verify.verify_chain` reads from it — which anchors decode, the notes on
those that do not, the key its reports are remembered under — is computed once per tuple, not
once per handshake: a CA bundle holds about 150 roots.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509

from ..errors import CertificateError
from .facts import _facts, _parse_problem

__all__ = ["AnchorSet", "anchor_set", "anchors_that_may_issue", "coerce_certificates"]


@dataclass(frozen=True)
class AnchorSet:
    """The trust anchors as verify_chain uses them."""

    #: the anchors that decode, in the order given
    usable: tuple[x509.Certificate, ...]
    #: one note per anchor that was skipped (it does not decode)
    notes: tuple[str, ...]
    #: the DER of every anchor given: equal keys mean the same anchors
    key: tuple[bytes, ...]


#: AnchorSets of tuples (immutable, so their contents cannot change), by identity; the entry
#: holds the tuple, so its id cannot be reused while it is here. Bounded; cleared when full.
_SETS: dict[int, tuple[tuple[object, ...], AnchorSet]] = {}
_SETS_LIMIT = 16
_SETS_LOCK = threading.Lock()  # servers verify client chains from several threads


def coerce_certificates(values: Iterable[x509.Certificate] | None, what: str) -> list[x509.Certificate]:
    """``values`` as a list of certificates; CertificateError for a string or a non-iterable."""
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


def anchor_set(trust_anchors: Iterable[x509.Certificate] | None) -> AnchorSet:
    """The :class:`AnchorSet` of ``trust_anchors``, reused for the same tuple.

    A list is read again on every call (it may have changed); an entry that is not a
    certificate raises :class:`~httpslab.errors.CertificateError`.
    """
    if isinstance(trust_anchors, tuple):
        with _SETS_LOCK:
            entry = _SETS.get(id(trust_anchors))
        if entry is not None and entry[0] is trust_anchors:
            return entry[1]
    prepared = _prepare(coerce_certificates(trust_anchors, "trust_anchors"))
    if isinstance(trust_anchors, tuple):
        with _SETS_LOCK:
            if len(_SETS) >= _SETS_LIMIT:
                _SETS.clear()
            _SETS[id(trust_anchors)] = (trust_anchors, prepared)
    return prepared


def _prepare(anchors: list[x509.Certificate]) -> AnchorSet:
    usable: list[x509.Certificate] = []
    notes: list[str] = []
    for index, certificate in enumerate(anchors):
        problem = _parse_problem(certificate)
        if problem is not None:
            if not isinstance(certificate, x509.Certificate):
                raise CertificateError(f"trust anchor #{index} is {problem}")
            notes.append(f"trust anchor #{index} was skipped: {problem}")
            continue
        usable.append(certificate)
    return AnchorSet(tuple(usable), tuple(notes), tuple(_facts(anchor).der for anchor in anchors))


def anchors_that_may_issue(
    anchors: Sequence[x509.Certificate], certificates: Sequence[x509.Certificate]
) -> list[x509.Certificate] | None:
    """The anchors a path from ``certificates`` can reach: those whose subject is the issuer
    of one of them, or of such an anchor (RFC 5280 §4.1.2.4; both path builders, ours and
    cryptography's, look issuers up by name). None if a name does not decode."""
    try:
        wanted = {certificate.issuer for certificate in certificates}
        remaining = list(anchors)
        found: list[x509.Certificate] = []
        while wanted and remaining:
            reached = [anchor for anchor in remaining if anchor.subject in wanted]
            found += reached
            remaining = [anchor for anchor in remaining if all(anchor is not r for r in reached)]
            wanted = {anchor.issuer for anchor in reached}
    except Exception:  # a name that does not decode: nothing is remembered for this chain
        return None
    return found
