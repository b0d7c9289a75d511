"""Real OpenSSL peers on 127.0.0.1, and a recorder of the sessions they have.

httpslab shows nothing simulated: the bytes in its notebooks, tests and benchmarks come
from real OpenSSL endpoints. This module starts them:

- :func:`record_session` runs a Python ``ssl`` (OpenSSL) server and client, TLS 1.2 only and
  pinned to one cipher suite, through a :class:`~httpslab.relay.RecordingRelay`, and returns
  what an eavesdropper saw (both byte streams) plus what only the endpoints know (the key
  log written by OpenSSL, the server's private key) in a :class:`RecordedSession`.
- :func:`openssl_s_server` / :func:`openssl_s_client` run the ``openssl`` command-line tools.

The files they read (demo certificates, DH parameters) come from :mod:`httpslab.peers.files`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..capture import cleartext_handshake_messages
from ..crypto.suites import parse_suite_name, suite_info
from ..enums import CipherSuite, HandshakeType
from ..errors import DecodeError, OpenSSLPeerError
from ..io import bound_socket, started_relay
from ..keylog import KeyLog
from ..relay import RecordingRelay, Tamper
from .files import ServerIdentity, _canonical_dh_group, _scratch_dir, dh_parameters_file, server_identity

__all__ = [
    "OP_NO_ENCRYPT_THEN_MAC",
    "OP_NO_EXTENDED_MASTER_SECRET",
    "OpenSSLServer",
    "RecordedSession",
    "SessionEndpoint",
    "client_hello_random",
    "openssl_s_client",
    "openssl_s_server",
    "record_session",
]

#: OpenSSL 3.0 ``SSL_OP_NO_EXTENDED_MASTER_SECRET`` = SSL_OP_BIT(0): no RFC 7627 extension 23.
OP_NO_EXTENDED_MASTER_SECRET = 1 << 0
#: OpenSSL 3.0 ``SSL_OP_NO_ENCRYPT_THEN_MAC`` = SSL_OP_BIT(19): no RFC 7366 extension 22.
OP_NO_ENCRYPT_THEN_MAC = 1 << 19

DEFAULT_TIMEOUT = 10.0
LOOPBACK = "127.0.0.1"
SERVER_NAME = "localhost"


def client_hello_random(client_to_server: bytes) -> bytes:
    """ClientHello.random (RFC 5246 §7.4.1.2), read from the start of the client's stream."""
    messages = cleartext_handshake_messages(client_to_server)
    if not messages or messages[0][0] != HandshakeType.CLIENT_HELLO:
        raise DecodeError("the stream does not start with a handshake record holding a ClientHello")
    return messages[0][1][2:34]  # after client_version (2 bytes)


# --------------------------------------------------------------------------------------
# Python ssl peers through the recording relay
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SessionEndpoint:
    """What OpenSSL reported on one side: ``SSLSocket.cipher()`` and ``.version()``."""

    cipher: tuple[str, str, int] | None
    version: str | None


@dataclass(frozen=True)
class RecordedSession:
    """A TLS 1.2 session between two real OpenSSL peers, as seen on the wire and by the ends."""

    suite: CipherSuite
    #: every byte the client sent / the server sent, as a passive eavesdropper sees them
    client_to_server: bytes = field(repr=False)
    server_to_client: bytes = field(repr=False)
    #: the NSS key log OpenSSL wrote for the client (CLIENT_RANDOM line)
    keylog_text: str = field(repr=False)
    server_private_key: Any = field(repr=False, compare=False)
    server_cert_der: bytes = field(repr=False)
    app_data_client: bytes = field(repr=False)
    app_data_server: bytes = field(repr=False)
    ems: bool = True
    etm: bool = True
    dh_group: str | None = None
    ecdh_curve: str | None = None
    client_cert: bool = False
    client_cert_der: bytes | None = field(default=None, repr=False)
    client_private_key: Any = field(default=None, repr=False, compare=False)
    #: what OpenSSL reported: ``(name, protocol, secret bits)`` and ``"TLSv1.2"``
    negotiated_cipher: tuple[str, str, int] | None = None
    negotiated_version: str | None = None
    server_endpoint: SessionEndpoint | None = None
    #: what the client / server read from the other side (equal to the app data sent)
    client_received: bytes = field(default=b"", repr=False)
    server_received: bytes = field(default=b"", repr=False)

    @property
    def client_random(self) -> bytes:
        return client_hello_random(self.client_to_server)

    @property
    def keylog(self) -> KeyLog:
        return KeyLog.parse(self.keylog_text)

    @property
    def master_secret(self) -> bytes:
        """The 48-byte master secret OpenSSL logged for this session."""
        return self.keylog.master_secret_for(self.client_random)


def _tls12_context(
    purpose: ssl.Purpose, openssl_name: str, *, ems: bool, etm: bool, tickets: bool
) -> ssl.SSLContext:
    protocol = ssl.PROTOCOL_TLS_SERVER if purpose is ssl.Purpose.CLIENT_AUTH else ssl.PROTOCOL_TLS_CLIENT
    context = ssl.SSLContext(protocol)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.set_ciphers(openssl_name)
    except ssl.SSLError as exc:
        raise OpenSSLPeerError(f"OpenSSL refuses the cipher string {openssl_name!r}: {exc}") from exc
    if not ems:
        context.options |= OP_NO_EXTENDED_MASTER_SECRET
    if not etm:
        context.options |= OP_NO_ENCRYPT_THEN_MAC
    if not tickets:
        context.options |= ssl.OP_NO_TICKET
    return context


def _recv_exactly(sock: ssl.SSLSocket, length: int) -> bytes:
    data = bytearray()
    while len(data) < length:
        chunk = sock.recv(length - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def _session_contexts(
    info: Any,
    identity: ServerIdentity,
    *,
    ems: bool,
    etm: bool,
    tickets: bool,
    dh_group: str,
    ecdh_curve: str | None,
    client_cert: bool,
) -> tuple[ssl.SSLContext, ssl.SSLContext, str | None, ServerIdentity | None]:
    """The server's and the client's contexts of :func:`record_session`, the DH group and the
    client's identity (None unless ``client_cert``)."""
    server_context = _tls12_context(
        ssl.Purpose.CLIENT_AUTH, info.openssl_name, ems=ems, etm=etm, tickets=tickets
    )
    server_context.load_cert_chain(identity.cert_file, identity.key_file)
    chosen_dh_group: str | None = None
    if info.key_exchange == "DHE":
        chosen_dh_group = _canonical_dh_group(dh_group)
        server_context.load_dh_params(str(dh_parameters_file(chosen_dh_group)))
    if info.key_exchange == "ECDHE" and ecdh_curve is not None:
        try:
            server_context.set_ecdh_curve(ecdh_curve)
        except (ValueError, ssl.SSLError) as exc:
            raise OpenSSLPeerError(f"unknown ECDH curve {ecdh_curve!r}") from exc

    client_context = _tls12_context(
        ssl.Purpose.SERVER_AUTH, info.openssl_name, ems=ems, etm=etm, tickets=tickets
    )
    client_context.load_verify_locations(cadata=identity.cert_pem.decode("ascii"))
    client_identity: ServerIdentity | None = None
    if client_cert:
        client_identity = server_identity("rsa", "httpslab-demo-client")
        client_context.load_cert_chain(client_identity.cert_file, client_identity.key_file)
        server_context.verify_mode = ssl.CERT_REQUIRED
        server_context.load_verify_locations(cadata=client_identity.cert_pem.decode("ascii"))

    return server_context, client_context, chosen_dh_group, client_identity


def record_session(  # long: both peers, the relay and their cleanup share one try block
    suite: str | CipherSuite,
    *,
    ems: bool = True,
    etm: bool = True,
    dh_group: str = "ffdhe2048",
    ecdh_curve: str | None = None,
    app_data_client: bytes = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    app_data_server: bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, HTTPS!",
    client_cert: bool = False,
    tickets: bool = True,
    tamper: Tamper | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> RecordedSession:
    """Run a real TLS 1.2 session (Python ``ssl`` on both ends) through a recording relay.

    The client sends ``app_data_client``, the server answers ``app_data_server``, then both
    close with close_notify. ``ems``/``etm`` False turn off the RFC 7627 / RFC 7366
    extensions on both sides; ``dh_group`` picks the DHE group ('ffdhe2048' or 'modp2048');
    ``ecdh_curve`` pins the ECDHE curve (e.g. 'prime256v1'; default: OpenSSL's, X25519).
    Raises OpenSSLPeerError (with both sides' errors) if the session fails; never hangs
    longer than about ``timeout`` seconds. A loopback socket that cannot be opened first
    (the server's listener, the client's socket, the relay's: no descriptor left, a port
    that cannot be bound) raises :class:`~httpslab.errors.TransportError` naming it, with
    the OSError as ``__cause__`` (a relay port that cannot be bound: RelayError).
    """
    cipher_suite = parse_suite_name(suite)
    info = suite_info(cipher_suite)
    identity = server_identity("ecdsa" if info.authentication == "ECDSA" else "rsa")

    server_context, client_context, chosen_dh_group, client_identity = _session_contexts(
        info, identity, ems=ems, etm=etm, tickets=tickets, dh_group=dh_group, ecdh_curve=ecdh_curve,
        client_cert=client_cert,
    )  # fmt: skip

    server_result: dict[str, Any] = {}
    client_result: dict[str, Any] = {}
    keylog_dir = Path(tempfile.mkdtemp(prefix="httpslab-keylog-", dir=_scratch_dir()))
    keylog_path = keylog_dir / "sslkeylog.txt"
    client_context.keylog_filename = str(keylog_path)
    try:  # whatever fails below, the sockets are closed and the key log directory removed
        with bound_socket("the ssl server's listening socket", LOOPBACK, backlog=1) as listener:
            listener.settimeout(timeout)
            server_port = listener.getsockname()[1]

            def run_server() -> None:
                try:
                    conn, _ = listener.accept()
                    conn.settimeout(timeout)
                    with server_context.wrap_socket(conn, server_side=True) as tls:
                        server_result["received"] = _recv_exactly(tls, len(app_data_client))
                        tls.sendall(app_data_server)
                        server_result["endpoint"] = SessionEndpoint(tls.cipher(), tls.version())
                        plain = tls.unwrap()
                        plain.close()
                except BaseException as exc:
                    # a worker thread: Python delivers KeyboardInterrupt to the main thread only,
                    # and whatever ends this thread must reach the caller through server_result
                    server_result["error"] = exc

            # the relay serves our client's address only: a stray connection to its port from
            # another process is hung up on, never recorded as this session nor given its slot
            with bound_socket("the ssl client's socket", LOOPBACK) as raw:
                relay = started_relay(
                    RecordingRelay((LOOPBACK, server_port), tamper=tamper, only_from=raw.getsockname()[:2])
                )
                with contextlib.closing(relay):
                    server_thread = threading.Thread(
                        target=run_server, name="httpslab-ssl-server", daemon=True
                    )
                    server_thread.start()
                    try:
                        raw.settimeout(timeout)
                        raw.connect(relay.address)
                        with client_context.wrap_socket(raw, server_hostname=SERVER_NAME) as tls:
                            tls.sendall(app_data_client)
                            client_result["received"] = _recv_exactly(tls, len(app_data_server))
                            client_result["endpoint"] = SessionEndpoint(tls.cipher(), tls.version())
                            plain = tls.unwrap()
                            plain.close()
                    except Exception as exc:
                        # not BaseException: a KeyboardInterrupt (Ctrl-C in a notebook) goes on up
                        # as it is, after the with blocks closed the relay and the sockets (which
                        # wakes the server thread) and the finally below removed the key log
                        client_result["error"] = exc
                        relay.close()  # wake the server up: its peer is gone
                    server_thread.join(timeout + 1.0)
                    if server_thread.is_alive():
                        relay.close()
                        listener.close()
                        server_thread.join(2.0)
                        server_result.setdefault(
                            "error", TimeoutError("the ssl server thread did not finish")
                        )
                    if "error" not in client_result and "error" not in server_result:
                        try:
                            relay.wait_closed(timeout)
                        except TimeoutError as exc:
                            client_result["error"] = exc
                    client_to_server, server_to_client = relay.client_to_server, relay.server_to_client

        if "error" in client_result or "error" in server_result:
            raise OpenSSLPeerError(
                f"the {cipher_suite.name} session failed: client: {client_result.get('error')!r}; "
                f"server: {server_result.get('error')!r}"
            ) from client_result.get("error") or server_result.get("error")

        try:
            keylog_text = keylog_path.read_text(encoding="ascii")
        except OSError as exc:
            raise OpenSSLPeerError(f"OpenSSL wrote no key log: {exc}") from exc
    finally:
        shutil.rmtree(keylog_dir, ignore_errors=True)

    client_endpoint: SessionEndpoint = client_result["endpoint"]
    return RecordedSession(
        suite=cipher_suite,
        client_to_server=client_to_server,
        server_to_client=server_to_client,
        keylog_text=keylog_text,
        server_private_key=identity.private_key,
        server_cert_der=identity.cert_der,
        app_data_client=bytes(app_data_client),
        app_data_server=bytes(app_data_server),
        ems=ems,
        etm=etm,
        dh_group=chosen_dh_group,
        ecdh_curve=ecdh_curve if info.key_exchange == "ECDHE" else None,
        client_cert=client_cert,
        client_cert_der=client_identity.cert_der if client_identity else None,
        client_private_key=client_identity.private_key if client_identity else None,
        negotiated_cipher=client_endpoint.cipher,
        negotiated_version=client_endpoint.version,
        server_endpoint=server_result["endpoint"],
        client_received=client_result["received"],
        server_received=server_result["received"],
    )


# --------------------------------------------------------------------------------------
# The openssl command-line tools
# --------------------------------------------------------------------------------------
def _openssl_binary() -> str:
    binary = shutil.which("openssl")
    if binary is None:
        raise OpenSSLPeerError("the openssl command is not on the PATH")
    return binary


def _free_port() -> int:
    """A port that was free a moment ago (bind to port 0, read it, close).

    Another process can take it before s_server binds it: :func:`openssl_s_server` retries.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


class OpenSSLServer:
    """A running ``openssl s_server`` (see :func:`openssl_s_server`) and what it serves.

    ``cert_file``, ``key_file`` and ``chain_file`` are the files s_server was given
    (``-cert``, ``-key``, ``-cert_chain``); ``ca_file`` is what a client trusts to verify
    them (None when the caller did not say). ``identity`` is the self-signed demo
    :class:`ServerIdentity` when that is the certificate served, and None otherwise.
    """

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        port: int,
        identity: ServerIdentity | None,
        args: list[str],
        *,
        cert_file: str | os.PathLike[str] | None = None,
        key_file: str | os.PathLike[str] | None = None,
        chain_file: str | os.PathLike[str] | None = None,
        ca_file: str | os.PathLike[str] | None = None,
    ):
        if identity is not None:
            if (cert_file, key_file, chain_file, ca_file) != (None, None, None, None):
                raise OpenSSLPeerError("an OpenSSLServer serves either the demo identity or given files")
            cert_file, key_file, ca_file = identity.cert_file, identity.key_file, identity.ca_file
        elif cert_file is None or key_file is None:
            raise OpenSSLPeerError("an OpenSSLServer without the demo identity needs cert_file and key_file")
        self.process = process
        self.port = port
        self.identity = identity
        self.args = args
        self.cert_file: Path = Path(cert_file)
        self.key_file: Path = Path(key_file)
        self.chain_file: Path | None = Path(chain_file) if chain_file is not None else None
        self.ca_file: Path | None = Path(ca_file) if ca_file is not None else None
        self._output = bytearray()
        self._lock = threading.Lock()
        self._ready = threading.Event()  # set on ACCEPT or when the output ends
        self._accepting = False  # True only once s_server printed ACCEPT (it is listening)
        self._reader = threading.Thread(target=self._read_output, name="s_server-output", daemon=True)
        self._reader.start()

    @property
    def address(self) -> tuple[str, int]:
        return (LOOPBACK, self.port)

    def _read_output(self) -> None:
        assert self.process.stdout is not None
        for line in iter(self.process.stdout.readline, b""):
            with self._lock:
                self._output += line
            if line.strip() == b"ACCEPT":
                self._accepting = True
                self._ready.set()
        self._ready.set()  # the process ended: stop waiting either way

    @property
    def output(self) -> str:
        """Everything s_server printed so far (stdout and stderr together)."""
        with self._lock:
            return self._output.decode("utf-8", "replace")

    def send(self, data: bytes) -> None:
        """Write to s_server's standard input (sent to the client when not in -www mode)."""
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def _wait_ready(self, timeout: float) -> None:
        # s_server prints ACCEPT once it listens. Not poll(): a process that failed to bind
        # has closed its output (which sets _ready) a moment before it can be reaped.
        if not self._ready.wait(timeout) or not self._accepting or self.process.poll() is not None:
            raise OpenSSLPeerError(f"openssl s_server did not start: {' '.join(self.args)}\n{self.output}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        # the reader ends at the end of the output: let it read the last lines before closing
        self._reader.join(5)
        if self.process.stdout is not None:
            with contextlib.suppress(OSError):
                self.process.stdout.close()


def _suite_args(suite: str | CipherSuite | None) -> tuple[list[str], Literal["rsa", "ecdsa"], str | None]:
    if suite is None:
        return [], "rsa", None
    info = suite_info(parse_suite_name(suite))
    return (
        ["-cipher", info.openssl_name],
        "ecdsa" if info.authentication == "ECDSA" else "rsa",
        info.key_exchange,
    )


#: Options that name the certificate s_server serves: given as keyword arguments, never in
#: ``extra_args`` (the OpenSSLServer would describe a certificate that is not served).
_CERTIFICATE_OPTIONS = frozenset({"-cert", "-key", "-cert_chain"})


def _served_files(
    key_type: Literal["rsa", "ecdsa"] | None,
    default_key_type: Literal["rsa", "ecdsa"],
    cert_file: str | os.PathLike[str] | None,
    key_file: str | os.PathLike[str] | None,
    chain_file: str | os.PathLike[str] | None,
    ca_file: str | os.PathLike[str] | None,
    extra_args: Sequence[str],
) -> dict[str, Any]:
    """The OpenSSLServer keyword arguments for what s_server serves, after checking them."""
    named_in_extra = sorted(_CERTIFICATE_OPTIONS.intersection(extra_args))
    if named_in_extra:
        raise OpenSSLPeerError(
            f"pass the served certificate as cert_file=/key_file=/chain_file=, not {named_in_extra} "
            "in extra_args (the server would report a certificate it does not serve)"
        )
    if cert_file is None:
        if key_file is not None or chain_file is not None or ca_file is not None:
            raise OpenSSLPeerError("key_file, chain_file and ca_file go with cert_file")
        return {"identity": server_identity(key_type or default_key_type)}
    if key_file is None:
        raise OpenSSLPeerError("cert_file needs its key_file")
    if key_type is not None:
        raise OpenSSLPeerError("key_type picks the demo certificate; it means nothing with cert_file")
    files = {"cert_file": cert_file, "key_file": key_file, "chain_file": chain_file, "ca_file": ca_file}
    for name, path in files.items():
        if path is not None and not Path(path).is_file():
            raise OpenSSLPeerError(f"{name} {os.fspath(path)!r} is not a file")
    return {"identity": None, **files}


def _s_server_args(
    binary: str,
    port: int,
    served_cert: str | os.PathLike[str],
    served_key: str | os.PathLike[str],
    suite_args: list[str],
    *,
    chain_file: str | os.PathLike[str] | None,
    dh_group: str | None,
    www: bool,
    no_etm: bool,
    keylog_file: str | os.PathLike[str] | None,
    extra_args: Sequence[str],
) -> list[str]:
    """The ``openssl s_server`` command line of :func:`openssl_s_server` (``extra_args`` last)."""
    args = [
        binary,
        "s_server",
        "-accept",
        f"{LOOPBACK}:{port}",
        "-cert",
        os.fspath(served_cert),
        "-key",
        os.fspath(served_key),
        "-tls1_2",
        *suite_args,
    ]
    if chain_file is not None:
        args += ["-cert_chain", os.fspath(chain_file)]
    if dh_group is not None:
        args += ["-dhparam", str(dh_parameters_file(dh_group))]
    if www:
        args.append("-www")
    if no_etm:
        args.append("-no_etm")
    if keylog_file is not None:
        args += ["-keylogfile", os.fspath(keylog_file)]
    args += list(extra_args)
    return args


@contextlib.contextmanager
def openssl_s_server(
    suite: str | CipherSuite | None = None,
    *,
    key_type: Literal["rsa", "ecdsa"] | None = None,
    cert_file: str | os.PathLike[str] | None = None,
    key_file: str | os.PathLike[str] | None = None,
    chain_file: str | os.PathLike[str] | None = None,
    ca_file: str | os.PathLike[str] | None = None,
    dh_group: str | None = None,
    www: bool = True,
    no_etm: bool = False,
    keylog_file: str | os.PathLike[str] | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = DEFAULT_TIMEOUT,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    attempts: int = 3,
) -> Iterator[OpenSSLServer]:
    """Run ``openssl s_server -accept 127.0.0.1:PORT -tls1_2 ...`` until the block ends.

    What it serves: by default the self-signed demo certificate of :func:`server_identity`
    (``key_type``, or ECDSA for ECDSA suites, else RSA), which is its own trust anchor.
    Or the caller's: ``cert_file`` (the leaf: ``-cert`` reads the first certificate of the
    file) with its ``key_file``, the intermediates in ``chain_file`` (``-cert_chain``, sent
    after the leaf), and ``ca_file``, what a client should trust (kept on the
    :class:`OpenSSLServer`, not given to s_server). ``-cert``/``-key``/``-cert_chain`` in
    ``extra_args`` are refused: the server would describe a certificate it does not serve.

    ``suite`` pins ``-cipher``. ``dh_group`` passes ``-dhparam`` with that group; without
    it s_server picks its automatic group. ``www`` answers ``GET /`` with a status page.
    ``extra_args`` come last, so they override. ``env`` replaces the environment (e.g. an
    ``OPENSSL_CONF``); ``cwd`` is s_server's directory (where ``-WWW`` finds its files).

    The block starts once s_server printed ``ACCEPT`` (it is listening; ``-quiet`` hides
    that line, so it cannot be used). The port is one that was free a moment before; if
    another process took it first ("Address already in use"), s_server is started again on
    a new port, up to ``attempts`` times in all. Any other failure, or no ``ACCEPT`` within
    ``timeout`` seconds, raises OpenSSLPeerError.
    """
    binary = _openssl_binary()
    suite_args, default_key_type, _ = _suite_args(suite)
    served = _served_files(key_type, default_key_type, cert_file, key_file, chain_file, ca_file, extra_args)
    identity: ServerIdentity | None = served["identity"]
    served_cert = identity.cert_file if identity is not None else served["cert_file"]
    served_key = identity.key_file if identity is not None else served["key_file"]
    last_error: OpenSSLPeerError | None = None
    for _attempt in range(max(1, attempts)):  # the port can be taken between probing and binding
        port = _free_port()
        args = _s_server_args(
            binary, port, served_cert, served_key, suite_args, chain_file=chain_file, dh_group=dh_group,
            www=www, no_etm=no_etm, keylog_file=keylog_file, extra_args=extra_args,
        )  # fmt: skip
        process = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
        )
        server = OpenSSLServer(process, port, args=args, **served)
        try:
            server._wait_ready(timeout)
        except OpenSSLPeerError as exc:
            server.stop()
            last_error = exc
            if "Address already in use" in server.output:
                continue
            raise
        try:
            yield server
        finally:
            server.stop()
        return
    assert last_error is not None
    raise last_error


@dataclass(frozen=True)
class SClientResult:
    """The outcome of one ``openssl s_client`` run."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def openssl_s_client(
    port: int,
    *,
    suite: str | CipherSuite | None = None,
    input: bytes = b"",
    servername: str | None = SERVER_NAME,
    cafile: str | os.PathLike[str] | None = None,
    host: str = LOOPBACK,
    no_etm: bool = False,
    ign_eof: bool = True,
    keylog_file: str | os.PathLike[str] | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = DEFAULT_TIMEOUT,
    env: Mapping[str, str] | None = None,
) -> SClientResult:
    """Run ``openssl s_client -connect 127.0.0.1:PORT -tls1_2 ...`` with ``input`` piped in.

    The certificate is checked against ``cafile`` (default: the demo RSA certificate) with
    ``-verify_return_error``. With ``ign_eof`` (the default) s_client waits for the server
    to close after the input ends, so a ``-www`` server's answer is in ``stdout``.
    ``servername`` is sent as SNI; None sends none (``-noservername``, RFC 6066 §3: as for
    an IP address). ``env`` replaces the environment (e.g. an ``OPENSSL_CONF``).
    """
    from ..relay import is_loopback

    if not is_loopback(host):
        raise OpenSSLPeerError(f"s_client only connects to loopback here, not {host!r}")
    binary = _openssl_binary()
    suite_args, default_key_type, _ = _suite_args(suite)
    ca = cafile if cafile is not None else server_identity(default_key_type).ca_file
    args = [
        binary,
        "s_client",
        "-connect",
        f"{host}:{port}",
        "-tls1_2",
        *suite_args,
        *(["-noservername"] if servername is None else ["-servername", servername]),
        "-CAfile",
        os.fspath(ca),
        "-verify_return_error",
    ]
    if no_etm:
        args.append("-no_etm")
    if ign_eof:
        args.append("-ign_eof")
    if keylog_file is not None:
        args += ["-keylogfile", os.fspath(keylog_file)]
    args += list(extra_args)
    try:
        completed = subprocess.run(
            args,
            input=input,
            capture_output=True,
            timeout=timeout,
            check=False,
            env=dict(env) if env is not None else None,
        )
    except subprocess.TimeoutExpired as exc:
        raise OpenSSLPeerError(
            f"openssl s_client did not finish within {timeout} s: {' '.join(args)}"
        ) from exc
    return SClientResult(
        args,
        completed.returncode,
        completed.stdout.decode("utf-8", "replace"),
        completed.stderr.decode("utf-8", "replace"),
    )
