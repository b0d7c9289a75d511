"""verify_chain remembers what it read from each certificate by its DER: a check must still
decide on the certificate it is given, never on one seen before."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from httpslab.pki import verify_chain
from httpslab.pki.ca import DemoPKI


def _fresh(certificate: x509.Certificate) -> x509.Certificate:
    """The same DER parsed again: a different object, equal bytes (what a handshake gives)."""
    return x509.load_der_x509_certificate(certificate.public_bytes(serialization.Encoding.DER))


def test_a_fresh_parse_of_a_good_chain_gets_the_same_verdict_and_explanations() -> None:
    pki = DemoPKI("rsa")
    first = verify_chain(pki.server, [pki.intermediate], [pki.root], server_name="localhost")
    again = verify_chain(_fresh(pki.server), [_fresh(pki.intermediate)], [pki.root], server_name="localhost")
    assert first.ok and again.ok
    assert [str(check) for check in again.checks] == [str(check) for check in first.checks]


def test_a_cached_chain_is_still_checked_for_the_name_and_the_time() -> None:
    pki = DemoPKI("rsa")
    leaf, pool, anchors = _fresh(pki.server), [_fresh(pki.intermediate)], [pki.root]
    assert verify_chain(leaf, pool, anchors, server_name="localhost").ok
    wrong_name = verify_chain(leaf, pool, anchors, server_name="not-the-server.example")
    assert not wrong_name.ok and wrong_name.error is not None and wrong_name.error.name == "name"
    late = leaf.not_valid_after_utc + dt.timedelta(days=1)
    expired = verify_chain(leaf, pool, anchors, server_name="localhost", at=late)
    assert not expired.ok and expired.error is not None and expired.error.name == "validity"
    assert "expired" in expired.error.explanation


def test_another_leaf_with_the_same_subject_is_judged_on_its_own_names() -> None:
    pki = DemoPKI("rsa")
    anchors, pool = [pki.root], [pki.intermediate]
    good = pki.issue_leaf("localhost", hostnames=["localhost"])
    other = pki.issue_leaf("localhost", hostnames=["elsewhere.example"])
    assert verify_chain(good, pool, anchors, server_name="localhost").ok
    report = verify_chain(other, pool, anchors, server_name="localhost")
    assert not report.ok and report.error is not None and report.error.name == "name"
    assert "elsewhere.example" in report.error.explanation


def test_a_report_is_reused_only_inside_the_common_validity_window(monkeypatch) -> None:
    """A report (cryptography's verdict included) is remembered per exact inputs, and reused
    only at a time when every certificate given is within its validity period (the only way
    the time enters)."""
    from httpslab.pki import verify as verify_module

    calls: list[dt.datetime] = []
    real = verify_module._run_reference

    def counting(*args, **kwargs):
        calls.append(kwargs["at"])
        return real(*args, **kwargs)

    monkeypatch.setattr(verify_module, "_run_reference", counting)
    monkeypatch.setattr(verify_module, "_REPORTS", verify_module.collections.OrderedDict())
    pki = DemoPKI("ecdsa")
    leaf, pool, anchors = _fresh(pki.server), [_fresh(pki.intermediate)], [pki.root]
    now = dt.datetime.now(dt.UTC)

    first = verify_chain(leaf, pool, anchors, server_name="localhost", at=now)
    later = now + dt.timedelta(hours=1)
    again = verify_chain(_fresh(leaf), [_fresh(pool[0])], anchors, server_name="localhost", at=later)
    assert first.reference_ok is True and again.ok
    assert len(calls) == 1  # same inputs, both times inside every validity period: reused
    assert again.at == later and again is not first and again.checks is not first.checks
    assert [str(c) for c in again.checks] == [str(c) for c in first.checks]

    # another name, another leaf, another anchor set: the validator runs again
    assert verify_chain(leaf, pool, anchors, server_name="nope.example", at=now).reference_ok is False
    other = DemoPKI("ecdsa", hostnames=("other.localhost",))
    assert verify_chain(
        _fresh(other.server),
        [_fresh(other.intermediate)],
        [other.root],
        server_name="other.localhost",
        at=now,
    ).ok
    assert len(calls) == 3

    # after the leaf expires the remembered verdict does not apply: the validator runs and rejects
    late = leaf.not_valid_after_utc + dt.timedelta(days=1)
    expired = verify_chain(leaf, pool, anchors, server_name="localhost", at=late)
    assert expired.reference_ok is False and not expired.ok
    assert calls[-1] == late and len(calls) == 4
