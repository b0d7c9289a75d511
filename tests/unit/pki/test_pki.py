"""httpslab.pki: the demo CA, the named scenarios and the explaining verifier.

Every scenario's expected verdict comes from the scenario's definition (what the broken
certificate breaks), and every verdict is cross-checked against cryptography's validator.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import DNSName, PolicyBuilder, Store, VerificationError

from httpslab.enums import AlertDescription
from httpslab.errors import BadCertificate, CertificateError, TLSError
from httpslab.pki import (
    CHECK_NAMES,
    SCENARIOS,
    DemoPKI,
    demo_key,
    demo_pki,
    dns_name_matches,
    issue_certificate,
    load_certificates,
    scenario,
    verify_chain,
)

KEY_TYPES = ("rsa", "ecdsa")
EXPECTED_FAILURES = {
    "valid": None,
    "valid_ip": None,
    "client_certificate": None,
    "expired": "validity",
    "not_yet_valid": "validity",
    "wrong_host_name": "name",
    "ip_not_in_certificate": "name",
    "self_signed_leaf": "path",
    "unknown_root": "path",
    "missing_intermediate": "path",
    "intermediate_not_ca": "basic_constraints",
    "path_length_exceeded": "path_length",
    "client_auth_only_leaf": "extended_key_usage",
    "tampered_signature": "signature",
    "wrong_issuer_name": "path",
}
EXPECTED_ALERTS = {
    "validity": AlertDescription.CERTIFICATE_EXPIRED,
    "path": AlertDescription.UNKNOWN_CA,
    "signature": AlertDescription.BAD_CERTIFICATE,
    "name": AlertDescription.BAD_CERTIFICATE,
    "basic_constraints": AlertDescription.BAD_CERTIFICATE,
    "path_length": AlertDescription.BAD_CERTIFICATE,
    "extended_key_usage": AlertDescription.UNSUPPORTED_CERTIFICATE,
}


def test_every_scenario_of_the_issue_is_defined() -> None:
    assert set(SCENARIOS) == set(EXPECTED_FAILURES)


@pytest.mark.parametrize("key_type", KEY_TYPES)
@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_verdict_first_failure_and_reference(name: str, key_type: str) -> None:
    case = scenario(name, key_type)  # type: ignore[arg-type]
    report = case.verify()
    expected_failure = EXPECTED_FAILURES[name]
    assert case.expected_failure == expected_failure
    assert report.ok is (expected_failure is None), report.as_text()
    assert (report.error.name if report.error else None) == expected_failure, report.as_text()
    assert report.reference_ok is (expected_failure is None), report.reference_error
    assert report.agrees_with_reference is True
    if expected_failure is None:
        assert report.alert is None
        assert report.path_complete and report.chain[0] == case.leaf
        assert report.chain[-1] in case.trust_anchors
    else:
        assert report.alert is EXPECTED_ALERTS[expected_failure]
        assert "✗" in report.as_text() and expected_failure in report.summary()


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_leaf_key_types(key_type: str) -> None:
    pki = demo_pki(key_type)  # type: ignore[arg-type]
    key = pki.server.public_key()
    if key_type == "rsa":
        assert key.key_size == 2048  # type: ignore[union-attr]
    else:
        assert key.curve.name == "secp256r1"  # type: ignore[union-attr]


def test_default_subject_alt_names_and_client_eku() -> None:
    pki = demo_pki("ecdsa")
    san = pki.server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]
    eku = pki.client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]


def test_ipv6_and_custom_names() -> None:
    pki = DemoPKI("ecdsa", hostnames=("lab.httpslab.test",), ip_addresses=("10.1.2.3", "::1"))
    ok = verify_chain(pki.server, [pki.intermediate], [pki.root], ip_address="::1")
    assert ok.ok, ok.as_text()
    by_name = verify_chain(pki.server, [pki.intermediate], [pki.root], server_name="LAB.httpslab.test.")
    assert by_name.ok, by_name.as_text()
    # localhost is not in this certificate, and neither is 127.0.0.1
    assert (
        verify_chain(pki.server, [pki.intermediate], [pki.root], server_name="localhost").error.name == "name"
    )  # type: ignore[union-attr]
    assert not verify_chain(pki.server, [pki.intermediate], [pki.root], server_name="127.0.0.1").ok


def test_demo_pki_is_deterministic_for_a_given_now() -> None:
    now = dt.datetime(2030, 1, 2, tzinfo=dt.UTC)
    first, second = DemoPKI("ecdsa", now=now), DemoPKI("ecdsa", now=now)
    for a, b in [
        (first.root, second.root),
        (first.intermediate, second.intermediate),
        (first.server, second.server),
    ]:
        assert a.public_bytes(Encoding.DER) == b.public_bytes(Encoding.DER)
    assert first.server.not_valid_before_utc == now - dt.timedelta(days=1)


def test_verify_at_a_fixed_time() -> None:
    case = scenario("valid", "ecdsa")
    later = case.leaf.not_valid_after_utc + dt.timedelta(seconds=1)
    report = verify_chain(
        case.leaf, case.intermediates, case.trust_anchors, server_name="localhost", at=later
    )
    assert report.error is not None and report.error.name == "validity"
    assert report.agrees_with_reference


def test_demo_keys_are_labelled() -> None:
    from httpslab.pki.ca import DEMO_DIR

    files = sorted(DEMO_DIR.glob("*.key.pem"))
    assert files, "the shipped demo key set is missing"
    for path in files:
        assert path.name.startswith("DEMO-")
        assert b"NEVER USE FOR ANYTHING ELSE" in path.read_bytes().split(b"-----BEGIN")[0]
    assert "NEVER USE FOR ANYTHING ELSE" in (DEMO_DIR / "README.md").read_text()


def test_write_pem_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pki = demo_pki("rsa")
    files = pki.write_pem_files(tmp_path)
    chain = load_certificates(files.server_chain_file)
    assert chain == [pki.server, pki.intermediate]
    assert load_certificates(files.ca_file) == [pki.root]
    assert load_certificates(files.client_chain_file)[0] == pki.client
    assert b"DEMO" in files.server_key_file.read_bytes()


# --------------------------------------------------------------------------------------------
# name matching: RFC 9525 §6.3 (wildcards), §6.4 (IP addresses), no common-name fallback


@pytest.mark.parametrize(
    ("pattern", "host", "matches"),
    [
        ("www.example.com", "www.example.com", True),
        ("WWW.Example.COM", "www.example.com", True),
        ("*.example.com", "foo.example.com", True),
        ("*.example.com", "bar.foo.example.com", False),  # one label only
        ("*.example.com", "example.com", False),  # never an empty label
        ("*.example.com", ".example.com", False),
        ("f*.example.com", "foo.example.com", False),  # partial wildcard
        ("www.*.example.com", "www.foo.example.com", False),  # not the left-most label
        ("*.*.example.com", "a.b.example.com", False),
        ("*.com", "example.com", False),
    ],
)
def test_dns_name_matches(pattern: str, host: str, matches: bool) -> None:
    assert dns_name_matches(pattern, host) is matches


def _leaf(pki: DemoPKI, **kwargs: object) -> x509.Certificate:
    return pki.issue_leaf(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("server_name", "ok"),
    [("www.httpslab.test", True), ("a.b.httpslab.test", False), ("httpslab.test", False)],
)
def test_wildcard_certificate_agrees_with_reference(server_name: str, ok: bool) -> None:
    pki = demo_pki("ecdsa")
    leaf = _leaf(pki, hostnames=("*.httpslab.test",), ip_addresses=())
    report = verify_chain(leaf, [pki.intermediate], [pki.root], server_name=server_name)
    assert report.ok is ok, report.as_text()
    assert report.agrees_with_reference


def test_wildcard_never_matches_an_ip_and_dns_ip_is_not_an_ip_san() -> None:
    pki = demo_pki("ecdsa")
    leaf = _leaf(pki, hostnames=("*.0.0.1", "127.0.0.1"), ip_addresses=())
    report = verify_chain(leaf, [pki.intermediate], [pki.root], ip_address="127.0.0.1")
    assert report.error is not None and report.error.name == "name"
    assert report.agrees_with_reference


def test_no_common_name_fallback() -> None:
    pki = demo_pki("ecdsa")
    leaf = issue_certificate(
        subject="localhost",
        public_key=demo_key("server", "ecdsa").public_key(),
        issuer=pki.intermediate,
        signing_key=pki.intermediate_key,
        not_before=pki.server.not_valid_before_utc,
        not_after=pki.server.not_valid_after_utc,
        is_ca=False,
        key_usage=("digital_signature",),
        extended_key_usage=(ExtendedKeyUsageOID.SERVER_AUTH,),
    )
    report = verify_chain(leaf, [pki.intermediate], [pki.root], server_name="localhost")
    assert not report.ok
    assert report.error is not None and report.error.name == "name"
    assert "common name" in report.error.explanation
    assert report.reference_ok is False


def test_client_purpose_checks_client_auth() -> None:
    pki = demo_pki("rsa")
    as_client = verify_chain(pki.server, [pki.intermediate], [pki.root], purpose="client")
    assert as_client.error is not None and as_client.error.name == "extended_key_usage"
    assert as_client.agrees_with_reference


# --------------------------------------------------------------------------------------------
# the reference is never overruled


def test_reference_rejection_makes_the_report_fail() -> None:
    """A leaf without AKI/SKI: our checks pass, the reference rejects, so the report is not ok."""
    pki = demo_pki("ecdsa")
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name.from_rfc4514_string("CN=localhost"))
        .issuer_name(pki.intermediate.subject)
        .public_key(demo_key("server", "ecdsa").public_key())
        .serial_number(12345)
        .not_valid_before(pki.server.not_valid_before_utc)
        .not_valid_after(pki.server.not_valid_after_utc)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
    )
    from cryptography.hazmat.primitives import hashes

    leaf = builder.sign(pki.intermediate_key, hashes.SHA256())  # type: ignore[arg-type]
    store = Store([pki.root])
    with pytest.raises(VerificationError):
        PolicyBuilder().store(store).build_server_verifier(DNSName("localhost")).verify(
            leaf, [pki.intermediate]
        )
    report = verify_chain(leaf, [pki.intermediate], [pki.root], server_name="localhost")
    assert report.own_verdict is True
    assert report.ok is False
    assert report.error is not None and report.error.name == "reference"
    assert report.agrees_with_reference is False
    with pytest.raises(BadCertificate):
        report.raise_for_failure()


def test_checks_are_ordered_and_carry_rfc_sections() -> None:
    report = scenario("valid", "rsa").verify()
    order = [CHECK_NAMES.index(check.name) for check in report.checks]
    assert order == sorted(order)
    assert all(check.rfc and check.explanation for check in report.checks)
    assert report.checks[-1].name == "reference"


def test_report_text() -> None:
    report = scenario("expired", "rsa").verify()
    text = str(report)
    assert "✗ validity [#0]" in text and "✓ signature [#0]" in text
    assert "certificate_expired" in report.summary()


# --------------------------------------------------------------------------------------------
# bad input: a clear failed report or a typed error, within a second


def test_garbage_bytes_raise_a_typed_error() -> None:
    for data in (
        b"",
        b"\x00\x01garbage",
        b"-----BEGIN CERTIFICATE-----\nnot base64!!\n-----END CERTIFICATE-----\n",
    ):
        with pytest.raises(CertificateError):
            load_certificates(data)


def test_truncated_pem_raises_a_typed_error() -> None:
    pem = demo_pki("rsa").server.public_bytes(Encoding.PEM)
    for cut in (len(pem) // 2, len(pem) - 30):
        with pytest.raises(CertificateError):
            load_certificates(pem[:cut])
    der = demo_pki("rsa").server.public_bytes(Encoding.DER)
    with pytest.raises(CertificateError):
        load_certificates(der[:-10])


def test_wrong_argument_types_raise_typed_errors() -> None:
    pki = demo_pki("rsa")
    with pytest.raises(CertificateError):
        verify_chain(pki.server.public_bytes(Encoding.PEM), [], [pki.root])  # type: ignore[arg-type]
    with pytest.raises(CertificateError):
        verify_chain(pki.server, [b"junk"], [pki.root])  # type: ignore[list-item]
    with pytest.raises(CertificateError):
        verify_chain(pki.server, [], [pki.root], purpose="sideways")  # type: ignore[arg-type]
    with pytest.raises(CertificateError):
        verify_chain(pki.server, [], [pki.root], ip_address="not-an-ip")
    with pytest.raises(TLSError):
        scenario("no_such_scenario")


def test_wrong_order_certificate_list() -> None:
    pki = demo_pki("ecdsa")
    extra = scenario("unknown_root", "ecdsa").intermediates
    report = verify_chain(
        pki.server, [pki.root, *extra, pki.intermediate], [pki.root], server_name="localhost"
    )
    assert report.ok, report.as_text()
    assert report.chain == [pki.server, pki.intermediate, pki.root]


def test_no_trust_anchors() -> None:
    pki = demo_pki("ecdsa")
    report = verify_chain(pki.server, [pki.intermediate], [], server_name="localhost")
    assert report.error is not None and report.error.name == "path"
    assert report.reference_ok is False


def _ca(pki: DemoPKI, name: str, issuer: x509.Certificate | None, issuer_key, key) -> x509.Certificate:  # type: ignore[no-untyped-def]
    return issue_certificate(
        subject=name,
        public_key=key.public_key(),
        issuer=issuer,
        signing_key=issuer_key if issuer is not None else key,
        not_before=pki.ca_not_before,
        not_after=pki.ca_not_after,
        is_ca=True,
        key_usage=("key_cert_sign", "crl_sign"),
    )


@pytest.mark.timeout(10)
def test_chain_of_twenty_intermediates_fails_fast() -> None:
    pki = demo_pki("ecdsa")
    key = demo_key("other-intermediate", "ecdsa")
    chain = [pki.intermediate]
    issuer_key = pki.intermediate_key
    # the demo intermediate has pathLen 0, so build under the root instead
    chain = []
    issuer, issuer_key = pki.root, pki.root_key
    for index in range(20):
        ca = _ca(pki, f"httpslab DEMO Deep CA {index}", issuer, issuer_key, key)
        chain.append(ca)
        issuer, issuer_key = ca, key
    leaf = pki.issue_leaf(issuer=issuer, issuer_key=issuer_key)
    started = time.monotonic()
    report = verify_chain(leaf, list(reversed(chain)), [pki.root], server_name="localhost")
    assert time.monotonic() - started < 1.0
    assert report.error is not None and report.error.name == "path"
    assert "longer than" in report.error.explanation
    assert report.reference_ok is False and report.agrees_with_reference


@pytest.mark.timeout(10)
def test_loop_of_cross_signed_cas_fails_fast() -> None:
    pki = demo_pki("ecdsa")
    key_a, key_b = demo_key("other-root", "ecdsa"), demo_key("other-intermediate", "ecdsa")
    self_a = _ca(pki, "httpslab DEMO Loop CA A", None, None, key_a)
    self_b = _ca(pki, "httpslab DEMO Loop CA B", None, None, key_b)
    a_by_b = _ca(pki, "httpslab DEMO Loop CA A", self_b, key_b, key_a)
    b_by_a = _ca(pki, "httpslab DEMO Loop CA B", self_a, key_a, key_b)
    leaf = pki.issue_leaf(issuer=a_by_b, issuer_key=key_a)
    started = time.monotonic()
    report = verify_chain(leaf, [a_by_b, b_by_a], [pki.root], server_name="localhost")
    assert time.monotonic() - started < 1.0
    assert report.error is not None and report.error.name == "path"
    assert "loop" in report.error.explanation
    assert report.reference_ok is None  # not asked: its path builder is exponential on loops
    assert not report.ok and report.alert is AlertDescription.UNKNOWN_CA


@pytest.mark.timeout(10)
def test_mesh_of_cross_signed_cas_fails_fast() -> None:
    """Every CA cross-signs every other: many candidate paths, none to an anchor."""
    pki = demo_pki("ecdsa")
    key = demo_key("other-intermediate", "ecdsa")
    names = [f"httpslab DEMO Mesh CA {index}" for index in range(6)]
    roots = [_ca(pki, name, None, None, key) for name in names]
    mesh = [
        _ca(pki, subject, issuer, key, key)
        for subject in names
        for issuer in roots
        if issuer.subject.rfc4514_string() != subject
    ]
    leaf = pki.issue_leaf(issuer=roots[0], issuer_key=key)
    started = time.monotonic()
    report = verify_chain(leaf, mesh, [pki.root], server_name="localhost")
    assert time.monotonic() - started < 1.0
    assert report.error is not None and report.error.name == "path"
    assert not report.ok


def test_remembered_signature_results_follow_the_exact_bytes() -> None:
    # verify_chain remembers each link's signature result by the DER of both certificates;
    # a good chain verified first must not make a tampered copy of its leaf pass afterwards.
    pki = demo_pki("rsa")
    good = pki.server.public_bytes(Encoding.DER)
    tampered = bytearray(good)
    tampered[-1] ^= 0x01  # one bit of the signature value
    for _ in range(2):
        leaf = x509.load_der_x509_certificate(good)
        assert verify_chain(leaf, [pki.intermediate], [pki.root], server_name="localhost").ok
        bad = verify_chain(
            x509.load_der_x509_certificate(bytes(tampered)),
            [pki.intermediate],
            [pki.root],
            server_name="localhost",
        )
        assert not bad.ok and bad.error is not None
        assert bad.error.name in ("path", "signature")
        assert bad.reference_ok is False  # the reference validator still runs on every call


def test_undecodable_issuer_name_is_a_failed_parse_check() -> None:
    # cryptography parses the DER, then raises KeyError when the issuer name holds a string
    # type it has no name for (tag 0x26 here): a report that fails at "parse", not a KeyError.
    pki = demo_pki("rsa")
    der = pki.server.public_bytes(Encoding.DER)
    issuer_cn = pki.intermediate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value.encode()
    at = der.find(b"\x0c" + bytes([len(issuer_cn)]) + issuer_cn)
    assert at > 0
    leaf = x509.load_der_x509_certificate(der[:at] + b"\x26" + der[at + 1 :])
    report = verify_chain(leaf, [pki.intermediate], [pki.root], server_name="localhost")
    assert not report.ok
    assert report.error is not None and report.error.name == "parse"
    assert "does not decode" in report.summary()
    assert "(unparseable issuer)" in report.as_text()  # the checklist prints, too


def test_unknown_signature_algorithm_with_no_issuer_fails_the_path_check() -> None:
    # The leaf's issuer is missing, so the path builder looks for a key that verifies the
    # signature anyway; an unknown signature algorithm OID must not escape from that search.
    pki = demo_pki("rsa")
    der = pki.server.public_bytes(Encoding.DER)
    sha256_with_rsa = bytes.fromhex("06092a864886f70d01010b")  # 1.2.840.113549.1.1.11
    assert der.count(sha256_with_rsa) == 2  # TBSCertificate.signature and signatureAlgorithm
    leaf = x509.load_der_x509_certificate(der.replace(sha256_with_rsa, sha256_with_rsa[:-1] + b"\x7f"))
    report = verify_chain(leaf, [], [pki.root], server_name="localhost")
    assert not report.ok
    assert report.error is not None and report.error.name == "path"
