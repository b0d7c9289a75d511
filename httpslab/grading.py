"""Helpers for the graded labs (``notebooks/labs/``): a learner's function in a real handshake.

Each lab asks the learner to write one primitive of TLS 1.2 — the PRF (RFC 5246 §5), the
PKCS#1 v1.5 premaster encryption (RFC 5246 §7.4.7.1, RFC 8017 §7.2), the finite-field
Diffie–Hellman shared secret (RFC 5246 §8.1.2, RFC 7919 §5.1), AES-GCM record protection
(RFC 5288 §3, RFC 5246 §6.2.3.3) or the server-name check of a certificate (RFC 9525 §6.3,
RFC 5280 §4.1.2.5). The helpers here plug that function into httpslab's client
(:class:`httpslab.connection.Primitives`, no monkey-patching), run a handshake against a real
OpenSSL server (Python's ``ssl`` module, which *is* OpenSSL, serving the demo PKI on
127.0.0.1), send one message, and report what OpenSSL said: the suite it negotiated and the
data it echoed, or the alert it sent and the error it logged.

- :func:`run_real_handshake` — one handshake with the learner's function(s) in place;
- :func:`compare_certificate_checks` — the learner's certificate check beside OpenSSL's own
  verdict, for the named :mod:`httpslab.pki` scenarios, each served by a real server.

Nothing here needs nbgrader: the lab notebooks run anywhere httpslab does.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import socket
import ssl
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from .connection import DirectionKeys, Primitives, TLSConfig
from .crypto.keyexchange import DHGroup
from .crypto.suites import parse_suite_name, suite_info
from .errors import AlertReceived, LocalProtocolError, TLSError, translate_crypto_errors
from .peers.files import dh_parameters_file
from .pki.ca import PemFiles
from .pki.scenarios import demo_pki, scenario
from .transcript import Transcript

__all__ = [
    "CertificateComparison",
    "CertificateComparisons",
    "HandshakeReport",
    "compare_certificate_checks",
    "run_real_handshake",
]

LOOPBACK = "127.0.0.1"
SERVER_NAME = "localhost"
DEFAULT_MESSAGE = b"hello from my own TLS code"

#: a learner's PRF: ``prf(secret, label, seed, length) -> bytes`` (P_SHA256, RFC 5246 §5)
LearnerPRF = Callable[[bytes, bytes, bytes, int], bytes]
#: ``rsa_encrypt_premaster(public_key, premaster) -> encrypted premaster`` (RFC 5246 §7.4.7.1)
LearnerRSA = Callable[[Any, bytes], bytes]
#: ``dh_shared_secret(p, private, peer_public) -> premaster`` (RFC 5246 §8.1.2)
LearnerDH = Callable[[int, int, int], bytes]
#: ``record_seal(key, salt, seq, content_type, version, plaintext) -> fragment`` (RFC 5288 §3)
LearnerSeal = Callable[[bytes, bytes, int, int, int, bytes], bytes]
#: ``record_open(key, salt, seq, content_type, version, fragment) -> plaintext``
LearnerOpen = Callable[[bytes, bytes, int, int, int, bytes], bytes]
#: ``check_leaf(certificate, server_name, at) -> None | "validity" | "name"``
LearnerCertificateCheck = Callable[[x509.Certificate, str, dt.datetime], str | None]


# ------------------------------------------------------------------------------------ report
@dataclass(frozen=True)
class HandshakeReport:
    """What happened when httpslab's client, with the learner's code in it, met OpenSSL.

    ``ok`` is true when the handshake completed and OpenSSL echoed ``sent`` back unchanged.
    Otherwise ``client_error`` says what the client raised, ``alert`` names the alert OpenSSL
    sent (if any) and ``openssl_error`` is the error OpenSSL's server reported.
    """

    suite: str
    sent: bytes
    ok: bool
    negotiated_suite: str | None = None
    echoed: bytes | None = None
    client_error: str | None = None
    alert: str | None = None
    openssl_error: str | None = None
    transcript: Transcript | None = field(default=None, repr=False, compare=False)

    def as_text(self) -> str:
        lines = [f"real handshake with OpenSSL {ssl.OPENSSL_VERSION.split()[1]}, suite {self.suite}"]
        if self.ok:
            lines.append(f"  OpenSSL accepted the handshake: TLSv1.2, {self.negotiated_suite}")
            lines.append(f"  sent    {self.sent!r}")
            lines.append(f"  echoed  {self.echoed!r}  (decrypted by your code's peer, encrypted back)")
            return "\n".join(lines)
        lines.append("  the handshake FAILED")
        if self.client_error:
            lines.append(f"  httpslab's client: {self.client_error}")
        if self.alert:
            lines.append(f"  OpenSSL sent the alert: {self.alert}")
        if self.openssl_error:
            lines.append(f"  OpenSSL said: {self.openssl_error}")
        if self.negotiated_suite and self.echoed is not None and self.echoed != self.sent:
            lines.append(f"  OpenSSL echoed {self.echoed!r}, not {self.sent!r}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.as_text()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython's pretty printer
        printer.text(self.as_text())


# ------------------------------------------------------------------------------ the server
@functools.cache
def _demo_files() -> PemFiles:
    """The demo RSA PKI (root → intermediate → localhost/127.0.0.1 leaf), written once."""
    directory = Path(tempfile.mkdtemp(prefix="httpslab-labs-"))
    return demo_pki("rsa").write_pem_files(directory)


def _server_context(suite: str | None, chain_file: Path, key_file: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_2
    if suite is not None:
        context.set_ciphers(suite_info(parse_suite_name(suite)).openssl_name)
    context.load_cert_chain(chain_file, key_file)
    context.load_dh_params(str(dh_parameters_file("ffdhe2048")))
    return context


def _describe_ssl_error(error: BaseException) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {error.verify_message}"
    if isinstance(error, ssl.SSLError) and error.reason:
        return f"{error.reason} ({error.library or 'SSL'})"
    return f"{type(error).__name__}: {error}"


class _EchoServer:
    """A Python ``ssl`` (OpenSSL) server thread for one connection: it echoes one message."""

    def __init__(self, context: ssl.SSLContext, timeout: float) -> None:
        self.context = context
        self.timeout = timeout
        self.result: dict[str, Any] = {}
        self.listener = socket.create_server((LOOPBACK, 0))
        self.listener.settimeout(timeout)
        self.thread = threading.Thread(target=self._run, name="labs-openssl-server", daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.listener.getsockname()[1])

    def _run(self) -> None:
        try:
            raw, _ = self.listener.accept()
        except OSError as exc:
            self.result["error"] = f"no client connected ({exc})"
            return
        raw.settimeout(self.timeout)
        try:
            with self.context.wrap_socket(raw, server_side=True) as tls:
                self.result["cipher"] = tls.cipher()[0]
                data = tls.recv(65536)
                self.result["received"] = data
                if data:
                    tls.sendall(data)
                with contextlib.suppress(OSError, ssl.SSLError):
                    tls.unwrap()
        except (OSError, ssl.SSLError) as exc:
            self.result["error"] = _describe_ssl_error(exc)
        finally:
            with contextlib.suppress(OSError):
                raw.close()

    def finish(self) -> dict[str, Any]:
        self.thread.join(self.timeout)
        with contextlib.suppress(OSError):
            self.listener.close()
        return self.result


# ------------------------------------------------------------------------ primitive adapters
def _prf_adapter(prf: LearnerPRF) -> Callable[[bytes, bytes, bytes, int, str], bytes]:
    def adapted(secret: bytes, label: bytes, seed: bytes, length: int, hash_name: str) -> bytes:
        if hash_name.lower().replace("-", "") != "sha256":
            raise LocalProtocolError(f"the lab PRF is P_SHA256, but this suite's PRF uses {hash_name}")
        return prf(secret, label, seed, length)

    return adapted


def _dh_adapter(shared_secret: LearnerDH) -> Callable[[DHGroup, int, int], bytes]:
    def adapted(group: DHGroup, private: int, peer_public: int) -> bytes:
        return shared_secret(group.p, private, peer_public)

    return adapted


def _seal_adapter(seal: LearnerSeal) -> Callable[[DirectionKeys, int, int, int, bytes], bytes]:
    def adapted(
        keys: DirectionKeys, sequence_number: int, content_type: int, version: int, data: bytes
    ) -> bytes:
        return seal(keys.key, keys.iv, sequence_number, content_type, version, data)

    return adapted


def _open_adapter(open_: LearnerOpen) -> Callable[[DirectionKeys, int, int, int, bytes], bytes]:
    def adapted(
        keys: DirectionKeys, sequence_number: int, content_type: int, version: int, data: bytes
    ) -> bytes:
        with translate_crypto_errors():  # an InvalidTag the learner let through is bad_record_mac
            return open_(keys.key, keys.iv, sequence_number, content_type, version, data)

    return adapted


def _default_suite(rsa: bool, dh: bool) -> str:
    if rsa:
        return "AES128-GCM-SHA256"  # RSA key exchange: the client encrypts the premaster
    if dh:
        return "DHE-RSA-AES128-GCM-SHA256"  # finite-field DHE, RFC 7919 ffdhe2048 on the server
    return "ECDHE-RSA-AES128-GCM-SHA256"


# ------------------------------------------------------------------------ the real handshake
def run_real_handshake(
    *,
    prf: LearnerPRF | None = None,
    rsa_encrypt_premaster: LearnerRSA | None = None,
    dh_shared_secret: LearnerDH | None = None,
    record_seal: LearnerSeal | None = None,
    record_open: LearnerOpen | None = None,
    suite: str | None = None,
    message: bytes = DEFAULT_MESSAGE,
    timeout: float = 5.0,
) -> HandshakeReport:
    """Run one TLS 1.2 handshake against OpenSSL with the learner's functions plugged in.

    The functions given replace httpslab's own (see the ``Learner*`` aliases for their
    signatures); the others stay httpslab's. ``suite`` defaults to one that uses what was
    given: ``AES128-GCM-SHA256`` for RSA, ``DHE-RSA-AES128-GCM-SHA256`` for DH, else
    ``ECDHE-RSA-AES128-GCM-SHA256`` (every default suite uses P_SHA256 and AES-GCM).
    The server is Python's ``ssl`` (OpenSSL) on 127.0.0.1 with the demo certificate chain;
    after the handshake the client sends ``message`` and OpenSSL echoes it.
    """
    from .io import connect

    if suite is None:
        suite = _default_suite(rsa_encrypt_premaster is not None, dh_shared_secret is not None)
    suite = suite_info(parse_suite_name(suite)).openssl_name
    primitives = Primitives(
        prf=_prf_adapter(prf) if prf is not None else None,
        rsa_encrypt_premaster=rsa_encrypt_premaster,
        dh_shared_secret=_dh_adapter(dh_shared_secret) if dh_shared_secret is not None else None,
        record_seal=_seal_adapter(record_seal) if record_seal is not None else None,
        record_open=_open_adapter(record_open) if record_open is not None else None,
    )
    config = TLSConfig(cipher_suites=(suite,), primitives=primitives)
    files = _demo_files()
    server = _EchoServer(_server_context(suite, files.server_chain_file, files.server_key_file), timeout)
    client_error: str | None = None
    alert: str | None = None
    echoed: bytes | None = None
    transcript: Transcript | None = None
    try:
        session = connect(
            LOOPBACK,
            server.port,
            server_name=SERVER_NAME,
            cafile=files.ca_file,
            config=config,
            timeout=timeout,
        )
        transcript = session.transcript
        try:
            session.send(message)
            echoed = session.recv()
        finally:
            with contextlib.suppress(TLSError, OSError):
                session.close()
    except AlertReceived as exc:
        alert = exc.description.name.lower()
        client_error = str(exc)
    except Exception as exc:  # the learner's code may raise anything: report it, do not crash
        client_error = f"{type(exc).__name__}: {exc}"
        cause = exc.__cause__
        if cause is not None and str(cause) not in client_error:
            client_error += f" (caused by {type(cause).__name__}: {cause})"
    result = server.finish()
    negotiated = result.get("cipher")
    return HandshakeReport(
        suite=suite,
        sent=message,
        ok=client_error is None and negotiated is not None and echoed == message,
        negotiated_suite=negotiated,
        echoed=echoed,
        client_error=client_error,
        alert=alert,
        openssl_error=result.get("error"),
        transcript=transcript,
    )


# --------------------------------------------------------------------- certificate checks
@dataclass(frozen=True)
class CertificateComparison:
    """One scenario: what the learner's check said and what OpenSSL's client said."""

    scenario: str
    server_name: str
    learner_verdict: str | None
    learner_error: str | None
    openssl_accepts: bool
    openssl_message: str
    expected_failure: str | None

    @property
    def agrees(self) -> bool:
        """The learner accepted exactly when OpenSSL did (and named the expected check)."""
        if self.learner_error is not None:
            return False
        learner_accepts = self.learner_verdict is None
        return learner_accepts == self.openssl_accepts and self.learner_verdict == self.expected_failure

    def as_text(self) -> str:
        if self.learner_error is not None:
            yours = f"raised {self.learner_error}"
        else:
            yours = "accept" if self.learner_verdict is None else f"reject ({self.learner_verdict})"
        mark = "✓" if self.agrees else "✗"
        return f"{mark} {self.scenario:<22} {self.server_name:<16} you: {yours:<20} OpenSSL: {self.openssl_message}"

    def __str__(self) -> str:
        return self.as_text()


class CertificateComparisons(list[CertificateComparison]):
    """A list of comparisons that prints as a table (one line per scenario)."""

    @property
    def all_agree(self) -> bool:
        return all(item.agrees for item in self)

    def as_text(self) -> str:
        return "\n".join(item.as_text() for item in self)

    def __str__(self) -> str:
        return self.as_text()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.as_text())


@contextlib.contextmanager
def _served_chain(leaf: x509.Certificate, intermediates: Sequence[x509.Certificate]) -> Iterator[Path]:
    """PEM files of the chain and the demo server key, removed afterwards."""
    pki = demo_pki("rsa")
    with tempfile.TemporaryDirectory(prefix="httpslab-labs-") as directory:
        chain_file = Path(directory) / "chain.pem"
        key_file = Path(directory) / "key.pem"
        chain_file.write_bytes(
            b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf, *intermediates))
        )
        key_file.write_bytes(
            pki.server_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        yield chain_file.parent


def _openssl_verdict(port: int, server_name: str, ca_file: Path, timeout: float) -> tuple[bool, str]:
    """Connect with Python's ssl (OpenSSL) as a verifying client: its verdict on the server."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.load_verify_locations(cafile=str(ca_file))
    try:
        with (
            socket.create_connection((LOOPBACK, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=server_name) as tls,
        ):
            tls.sendall(b"ok")
            tls.recv(100)
        return True, "accepts"
    except (OSError, ssl.SSLError) as exc:
        return False, f"rejects: {_describe_ssl_error(exc)}"


def _leaf_from_the_wire(port: int, server_name: str, timeout: float) -> x509.Certificate:
    """The certificate the server sent, received by httpslab's client (no verification)."""
    from .io import connect

    session = connect(LOOPBACK, port, server_name=server_name, verify=False, timeout=timeout)
    try:
        session.send(b"ok")
        session.recv()
    finally:
        with contextlib.suppress(TLSError, OSError):
            session.close()
    leaf = session.peer_certificates[0]
    return leaf if isinstance(leaf, x509.Certificate) else x509.load_der_x509_certificate(bytes(leaf))


DEFAULT_SCENARIOS: tuple[str, ...] = (
    "valid",
    "valid_ip",
    "expired",
    "not_yet_valid",
    "wrong_host_name",
    "ip_not_in_certificate",
)


def compare_certificate_checks(
    check_leaf: LearnerCertificateCheck,
    scenarios: Sequence[str] = DEFAULT_SCENARIOS,
    *,
    timeout: float = 5.0,
) -> CertificateComparisons:
    """For each :mod:`httpslab.pki` scenario: a real server presents its chain; OpenSSL's client
    checks it (chain, validity at the real clock, host name or IP); httpslab's client fetches the
    leaf and the learner's ``check_leaf(leaf, server_name, now)`` judges it. Both verdicts are
    returned side by side.
    """
    files = _demo_files()
    comparisons = CertificateComparisons()
    for name in scenarios:
        case = scenario(name, "rsa")
        server_name = case.server_name or case.ip_address
        if server_name is None:
            raise LocalProtocolError(f"scenario {name!r} names no server to connect to")
        with _served_chain(case.leaf, case.intermediates) as directory:
            context = _server_context(None, directory / "chain.pem", directory / "key.pem")
        learner_verdict: str | None = None
        learner_error: str | None = None
        server = _EchoServer(context, timeout)
        try:
            leaf = _leaf_from_the_wire(server.port, server_name, timeout)
        finally:
            server.finish()
        try:
            learner_verdict = check_leaf(leaf, server_name, dt.datetime.now(dt.UTC))
        except Exception as exc:  # the learner's code may raise anything: report it
            learner_error = f"{type(exc).__name__}: {exc}"
        server = _EchoServer(context, timeout)
        try:
            accepts, message = _openssl_verdict(server.port, server_name, files.ca_file, timeout)
        finally:
            server.finish()
        comparisons.append(
            CertificateComparison(
                name, server_name, learner_verdict, learner_error, accepts, message, case.expected_failure
            )
        )
    return comparisons
