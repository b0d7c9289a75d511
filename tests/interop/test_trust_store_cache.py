"""A trust store loaded from a file is reused while the file is unchanged (issue 13).

``connect(cafile=F)`` reads and parses F once per version of the file (path, modification
time, size), hands the core the same tuple each time, and the verifier prepares that tuple
once; its remembered reports stay valid even when the file holds expired roots that issued
nothing in the chain (a real CA bundle does). Against ``openssl s_server`` on 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import os
import pathlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from httpslab.errors import BadCertificate
from httpslab.io import connect, load_trust_anchors
from httpslab.peers.openssl import OpenSSLServer, openssl_s_server
from httpslab.pki import demo_pki, verify_chain
from httpslab.pki import verify as verify_module
from httpslab.pki.ca import PemFiles

LOOPBACK = "127.0.0.1"


def _expired_root(name: str) -> x509.Certificate:
    """A self-signed CA certificate that expired a year ago (as some roots of a CA bundle)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=3650))
        .not_valid_after(now - dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


def _pem(*certificates: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


@pytest.fixture(scope="module")
def pem_files(tmp_path_factory: pytest.TempPathFactory) -> PemFiles:
    return demo_pki("rsa").write_pem_files(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def s_server(pem_files: PemFiles) -> Iterator[OpenSSLServer]:
    with openssl_s_server(
        cert_file=pem_files.server_cert_file,
        key_file=pem_files.server_key_file,
        chain_file=pem_files.intermediate_file,
        ca_file=pem_files.ca_file,
        extra_args=["-no_ticket"],
    ) as server:
        yield server


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of every ``Path.read_bytes`` call while the test runs."""
    seen: list[str] = []
    real = pathlib.Path.read_bytes

    def counting(self: pathlib.Path) -> bytes:
        seen.append(os.fspath(self))
        return real(self)

    monkeypatch.setattr(pathlib.Path, "read_bytes", counting)
    return seen


@pytest.fixture
def reference_runs(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """One entry per run of cryptography's validator (a verification not taken from memory)."""
    runs: list[object] = []
    real = verify_module._run_reference

    def counting(*args: object, **kwargs: object) -> object:
        runs.append(kwargs.get("at"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(verify_module, "_run_reference", counting)
    return runs


def _handshake(server: OpenSSLServer, cafile: Path) -> object:
    session = connect(LOOPBACK, server.port, server_name="localhost", cafile=cafile, timeout=10)
    session.close()
    return session


@pytest.mark.interop
def test_a_second_connect_does_not_read_an_unchanged_file_and_a_changed_one_is_read_again(
    s_server: OpenSSLServer, pem_files: PemFiles, tmp_path: Path, reads: list[str]
) -> None:
    cafile = tmp_path / "ca.pem"
    cafile.write_bytes(_pem(_expired_root("httpslab test: not the issuer")))
    with pytest.raises(BadCertificate):  # the demo root is not in the file yet
        _handshake(s_server, cafile)
    assert reads.count(os.fspath(cafile)) == 1

    # the file changes (new content, a new modification time): read again, and its roots used
    cafile.write_bytes(pem_files.ca_file.read_bytes())
    status = cafile.stat()
    os.utime(cafile, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))
    first = _handshake(s_server, cafile)
    assert reads.count(os.fspath(cafile)) == 2

    second = _handshake(s_server, cafile)  # unchanged: not read, the same trust store object
    assert reads.count(os.fspath(cafile)) == 2
    assert second.connection.config.trust_anchors is first.connection.config.trust_anchors

    os.utime(cafile, ns=(status.st_atime_ns, status.st_mtime_ns + 2_000_000_000))  # touched only
    _handshake(s_server, cafile)
    assert reads.count(os.fspath(cafile)) == 3


@pytest.mark.interop
def test_a_bundle_with_expired_roots_is_verified_once_per_chain(
    s_server: OpenSSLServer, pem_files: PemFiles, tmp_path: Path, reference_runs: list[object]
) -> None:
    """A CA file like a real bundle (roots that expired and issued nothing here): the second
    handshake reuses the first one's report instead of verifying the chain again."""
    bundle = tmp_path / "bundle.pem"
    expired = [_expired_root(f"httpslab test: expired root {n}") for n in range(3)]
    bundle.write_bytes(_pem(*expired[:2]) + pem_files.ca_file.read_bytes() + _pem(expired[2]))
    verify_module._REPORTS.clear()
    first = _handshake(s_server, bundle)
    second = _handshake(s_server, bundle)
    assert len(reference_runs) == 1
    assert first.connection.verification_report.ok and second.connection.verification_report.ok


def test_the_issuing_roots_validity_still_bounds_the_reuse(reference_runs: list[object]) -> None:
    """Only anchors that issued nothing in the chain leave the window: past the root's own
    expiry the remembered report is not used, and the chain fails the validity check."""
    pki = demo_pki("ecdsa")
    anchors = (_expired_root("httpslab test: unrelated"), pki.root)
    verify_module._REPORTS.clear()
    now = dt.datetime.now(dt.UTC)
    assert verify_chain(pki.server, [pki.intermediate], anchors, server_name="localhost", at=now).ok
    assert verify_chain(pki.server, [pki.intermediate], anchors, server_name="localhost", at=now).ok
    assert len(reference_runs) == 1
    late = pki.root.not_valid_after_utc + dt.timedelta(days=1)
    report = verify_chain(pki.server, [pki.intermediate], anchors, server_name="localhost", at=late)
    assert not report.ok and report.error is not None and report.error.name == "validity"
    assert len(reference_runs) == 2


def test_load_trust_anchors_returns_one_tuple_per_file_version(tmp_path: Path, pem_files: PemFiles) -> None:
    cafile = tmp_path / "ca.pem"
    cafile.write_bytes(pem_files.ca_file.read_bytes())
    assert load_trust_anchors(cafile) is load_trust_anchors(cafile)
    extra = _expired_root("httpslab test: extra")
    assert load_trust_anchors(cafile, anchors=[extra])[0] == extra  # anchors first, then the file
