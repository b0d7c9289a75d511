"""Blocking drivers: a sans-I/O connection (:mod:`httpslab.connection`) over a real socket.

- :func:`connect` opens a TCP connection to a loopback address, runs the client handshake
  and returns a :class:`TLSSession` (``.send``, ``.recv``, ``.close``, ``.transcript``);
- :class:`TLSServer` listens on the loopback interface, runs the server handshake for each
  client and hands the :class:`TLSSession` to a handler (what ``python -m httpslab serve``
  wraps).

This module and :mod:`httpslab.relay` are the only ones that touch sockets and files: the
sans-I/O core gets trust anchors and credentials as loaded objects (:func:`load_trust_anchors`,
:func:`load_credential`). The drivers do no protocol work: they move bytes between the socket and the connection,
flush whatever the connection queued (a fatal alert included) before raising its error,
and append the session's master secret to an NSS key log when asked (so that Wireshark
can decrypt a capture of the session).

Both drivers talk to loopback only (``localhost``, 127.0.0.0/8, ``::1``; see
:func:`httpslab.relay.is_loopback`): httpslab is a teaching tool whose demo keys are public.
A non-loopback host is refused before any socket is opened. Besides the per-read
``timeout``, a whole-handshake deadline (``handshake_timeout``) stops a peer that trickles
bytes from keeping a handshake going forever.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .connection import (
    ApplicationData,
    ClientConnection,
    ConnectionClosed,
    Credential,
    Event,
    ServerConnection,
    TLSConfig,
    TLSConnection,
)
from .connection.tables import State
from .crypto.suites import SUITES
from .enums import CipherSuite
from .errors import (
    CertificateError,
    HandshakeTimeout,
    KeyLogError,
    LocalProtocolError,
    TLSError,
    TransportError,
)
from .keylog import KeyLog
from .relay import RecordingRelay, is_loopback
from .transcript import Transcript

__all__ = [
    "HANDSHAKE_TIMEOUT",
    "LOOPBACK_ONLY",
    "TLSServer",
    "TLSSession",
    "bound_socket",
    "connect",
    "echo_handler",
    "load_credential",
    "load_trust_anchors",
    "loopback_connection",
    "os_error_reason",
    "require_loopback",
    "started_relay",
]

KeyLogTarget = str | os.PathLike[str] | KeyLog | None
_RECV_SIZE = 65536
#: seconds a whole handshake may take by default (each read also has its own ``timeout``)
HANDSHAKE_TIMEOUT = 30.0
#: why a non-loopback host is refused
LOOPBACK_ONLY = (
    "httpslab only talks to loopback (localhost, 127.0.0.0/8, ::1): it is a teaching tool "
    "and its demo keys and certificates are public, so its traffic never leaves this machine"
)


def require_loopback(host: str, action: str = "connect to") -> None:
    """Raise :class:`LocalProtocolError` unless ``host`` is loopback (nothing is resolved)."""
    if not is_loopback(host):
        raise LocalProtocolError(f"refusing to {action} {host!r}: {LOOPBACK_ONLY}")


def loopback_connection(host: str, port: int, timeout: float | None = 10.0) -> socket.socket:
    """A TCP connection to ``host:port``; only for a loopback ``host`` (checked before any socket).

    ``localhost`` is looked up (the hosts file) and only the loopback addresses it names are
    tried, in order; an IP literal is used as it is.
    A connection that fails (refused, timed out...) raises
    :class:`~httpslab.errors.TransportError` naming ``host:port``; ``__cause__`` is the OSError.
    """
    require_loopback(host)
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        if host != "localhost":
            return socket.create_connection((host, port), timeout=timeout)
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TransportError(f"connecting to {shown} failed: {os_error_reason(exc)}") from exc
    last_error: OSError | None = None
    for family, kind, proto, _, address in addresses:
        if not is_loopback(address[0]):
            continue
        try:
            sock = socket.socket(family, kind, proto)
        except OSError as exc:
            last_error = exc
            continue
        try:
            sock.settimeout(timeout)
            sock.connect(address)
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        return sock
    if last_error is not None:
        raise TransportError(f"connecting to {shown} failed: {os_error_reason(last_error)}") from last_error
    raise LocalProtocolError(f"'localhost' names no loopback address here; {LOOPBACK_ONLY}")


def bound_socket(
    purpose: str, host: str = "127.0.0.1", port: int = 0, *, backlog: int | None = None
) -> socket.socket:
    """A TCP socket bound to ``host:port`` on loopback, listening when ``backlog`` is given.

    For the helpers that put their own sockets around a relay or a server (the notebooks,
    :func:`httpslab.peers.openssl.record_session`). ``purpose`` names the socket in the
    error: a socket that cannot be made (no descriptor left), bound (the port is taken) or
    set listening closes whatever was opened and raises
    :class:`~httpslab.errors.TransportError` (``opening the relay's client socket failed:
    Too many open files``); ``__cause__`` is the OSError. A non-loopback ``host`` raises
    :class:`~httpslab.errors.LocalProtocolError` before any socket is made.
    """
    require_loopback(host, "bind to")
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    except OSError as exc:
        raise TransportError(f"opening {purpose} failed: {os_error_reason(exc)}") from exc
    step = f"binding {purpose} to {shown}"
    try:
        sock.bind((host, port))
        if backlog is not None:
            step = f"listening on {shown} with {purpose}"
            sock.listen(backlog)
    except BaseException as exc:
        sock.close()
        if isinstance(exc, OSError):
            raise TransportError(f"{step} failed: {os_error_reason(exc)}") from exc
        raise
    return sock


def started_relay(relay: RecordingRelay) -> RecordingRelay:
    """``relay.start()`` for the same helpers as :func:`bound_socket`, with the same rule: an
    OSError out of it is a :class:`~httpslab.errors.TransportError` (``starting the recording
    relay failed: …``, the OSError as ``__cause__``). A port the relay cannot bind or a socket
    it cannot make is already a :class:`~httpslab.relay.RelayError` (a TLSError)."""
    try:
        return relay.start()
    except OSError as exc:
        raise TransportError(f"starting the recording relay failed: {os_error_reason(exc)}") from exc


def os_error_reason(error: OSError) -> str:
    """What an OSError says, without its errno prefix (``Connection refused``, ``timed out``)."""
    return error.strerror or str(error) or type(error).__name__


def load_trust_anchors(
    cafile: str | os.PathLike[str] | None = None, *, anchors: Sequence[x509.Certificate] = ()
) -> tuple[x509.Certificate, ...]:
    """``anchors`` plus the certificates of the PEM file ``cafile`` (the system's CA file if neither is given).

    The file is read and parsed once per version (path, modification time, size): while it is
    unchanged, every call without ``anchors`` returns the same tuple, so that the verifier's
    work on the trust store is done once too (:mod:`httpslab.pki.anchors`).
    """
    if cafile is None and not anchors:
        cafile = ssl.get_default_verify_paths().cafile
    if cafile is None:
        return tuple(anchors)
    try:
        status = os.stat(cafile)
        loaded = _pem_certificates(os.fspath(cafile), status.st_mtime_ns, status.st_size)
    except (OSError, ValueError) as exc:
        raise CertificateError(f"cannot read trust anchors from {cafile}: {exc}") from exc
    return (*anchors, *loaded) if anchors else loaded


@functools.lru_cache(maxsize=8)
def _pem_certificates(path: str, mtime_ns: int, size: int) -> tuple[x509.Certificate, ...]:
    """The certificates of a PEM file, parsed once per version of the file (path, mtime, size)."""
    return tuple(x509.load_pem_x509_certificates(Path(path).read_bytes()))


def load_credential(
    certfile: str | os.PathLike[str], keyfile: str | os.PathLike[str], password: bytes | None = None
) -> Credential:
    """A :class:`Credential` from a PEM chain (leaf first) and a PEM private key, as ``load_cert_chain``."""
    try:
        chain = x509.load_pem_x509_certificates(Path(certfile).read_bytes())
        key = serialization.load_pem_private_key(Path(keyfile).read_bytes(), password=password)
    except (OSError, ValueError, TypeError) as exc:
        raise CertificateError(f"cannot load {certfile} / {keyfile}: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise CertificateError(f"{keyfile} holds a {type(key).__name__}; RSA or ECDSA expected")
    return Credential(tuple(chain), key)


def _with_client_trust_anchors(config: TLSConfig, cafile: str | os.PathLike[str] | None) -> TLSConfig:
    """A server ``config`` that checks client certificates, with ``cafile`` (or the system's) loaded."""
    if not (config.verify and config.request_client_certificate) or (cafile is None and config.trust_anchors):
        return config
    return dataclasses.replace(config, trust_anchors=load_trust_anchors(cafile, anchors=config.trust_anchors))


class TLSSession:
    """A TLS 1.2 session over a connected socket, after a completed handshake.

    Made by :func:`connect` (client) or :meth:`TLSServer.accept` (server). ``recv`` returns
    ``b""`` once the peer closed the session (close_notify or end of stream).

    ``events`` holds the connection's events for the life of the session *except*
    :class:`~httpslab.connection.ApplicationData`: its bytes go straight to the buffer
    ``recv`` reads from and the event itself is dropped (a long download would otherwise be
    kept twice); ``application_data_events`` counts them. What remains is a handful per
    session (HandshakeComplete, warning alerts, ConnectionClosed).
    """

    def __init__(self, sock: socket.socket, connection: TLSConnection) -> None:
        self.socket = sock
        self.connection = connection
        # received application data not yet returned by recv: _received[_received_start:]
        self._received = bytearray()
        self._received_start = 0
        self._closed = False
        self.events: list[Event] = []
        #: how many ApplicationData events arrived (their data went to recv, not to ``events``)
        self.application_data_events = 0
        # while a handshake with a deadline runs: (deadline on time.monotonic(), its length)
        self._deadline: tuple[float, float] | None = None

    # -- properties --------------------------------------------------------------------
    @property
    def version(self) -> str:
        """``"TLSv1.2"`` (the name Python's ``ssl`` uses)."""
        return "TLSv1.2"

    @property
    def cipher_suite(self) -> CipherSuite | None:
        """The negotiated suite; ``.name`` is the IANA name."""
        return self.connection.cipher_suite

    @property
    def alpn_protocol(self) -> str | None:
        """The application protocol agreed with ALPN (RFC 7301), e.g. ``"http/1.1"``, or None."""
        selected = self.connection.alpn_protocol
        return selected.decode("ascii", "replace") if selected is not None else None

    @property
    def transcript(self) -> Transcript:
        return self.connection.transcript

    @property
    def peer_certificates(self) -> tuple[Any, ...]:
        return self.connection.peer_certificates

    @property
    def closed(self) -> bool:
        return self._closed

    # -- I/O ---------------------------------------------------------------------------
    def handshake(self, timeout: float | None = None) -> None:
        """Run the handshake to completion (called by connect / accept).

        ``timeout`` bounds the whole handshake in seconds (None: no bound): every read and
        write waits at most for what is left of it, so a peer that trickles a byte at a time
        cannot keep the handshake going; :class:`~httpslab.errors.HandshakeTimeout` is raised
        when it runs out. The socket's own timeout still bounds each single read.
        """
        per_read = self.socket.gettimeout()
        if timeout is not None:
            self._deadline = (time.monotonic() + timeout, timeout)
        try:
            if isinstance(self.connection, ClientConnection) and self.connection.state is State.START:
                self.connection.start_handshake()
            while not self.connection.handshake_complete:
                self._flush_in_time(per_read)
                self._arm_deadline(per_read)
                data = self._read_socket()
                self._feed(data)
                # a close_notify read with the peer's Finished closes a completed handshake: recv sees it
                ended = self.connection.state in (State.CLOSED, State.ERROR)
                if ended and not self.connection.handshake_complete:
                    raise LocalProtocolError(
                        f"the connection ended during the handshake ({self.connection.state.name})"
                    )
            self._flush_in_time(per_read)
        except BaseException:
            # a failed handshake leaves nothing open: the fatal alert (if any) was flushed by
            # _feed; a timeout or a broken socket sends nothing and just hangs up
            self._closed = True
            with contextlib.suppress(OSError):
                self.socket.close()
            raise
        finally:
            self._deadline = None
        self.socket.settimeout(per_read)

    def send(self, data: bytes) -> None:
        """Encrypt and send ``data`` (split into records of at most 2^14 bytes).

        A socket that fails (a reset, a broken pipe) raises
        :class:`~httpslab.errors.TransportError`; ``__cause__`` is the OSError.
        """
        self.connection.send_data(data)
        self._flush()

    sendall = send

    def recv(self, max_bytes: int = _RECV_SIZE) -> bytes:
        """Up to ``max_bytes`` of application data; blocks until some arrive; b"" at the end.

        A reset connection is an end of stream (``b""``, and the session records an unclean
        close); any other socket failure raises :class:`~httpslab.errors.TransportError`.
        """
        if max_bytes < 0:
            raise LocalProtocolError(f"max_bytes must not be negative, not {max_bytes}")
        while self._received_start >= len(self._received) and self.connection.state is State.CONNECTED:
            self._feed(self._read_socket())
            self._flush()
        start = self._received_start
        end = min(start + max_bytes, len(self._received))
        # one copy out of the buffer; the consumed front is dropped only once all of it is read
        with memoryview(self._received) as view:
            data = bytes(view[start:end])
        if end >= len(self._received):
            self._received.clear()
            self._received_start = 0
        else:
            self._received_start = end
        return data

    def recv_all(self) -> bytes:
        """Everything until the peer closes the session."""
        chunks = []
        while chunk := self.recv():
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        """Send close_notify (the keys are then wiped) and close the socket."""
        if self._closed:
            return
        self._closed = True
        try:
            self.connection.close()
            self._flush()
        except TransportError:
            pass  # the peer is gone: there is nobody left to tell
        finally:
            with contextlib.suppress(OSError):
                self.socket.shutdown(socket.SHUT_RDWR)
            self.socket.close()

    def __enter__(self) -> TLSSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        suite = self.cipher_suite.name if self.cipher_suite else None
        return f"<TLSSession {self.connection.role} {self.version} {suite} {self.connection.state.name}>"

    # -- plumbing ----------------------------------------------------------------------
    def _arm_deadline(self, per_read: float | None) -> None:
        """Shrink the socket's timeout to what is left of the handshake deadline (if any)."""
        if self._deadline is None:
            return
        deadline, length = self._deadline
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise HandshakeTimeout(f"the handshake did not finish within {length:g} s (the peer is too slow)")
        self.socket.settimeout(remaining if per_read is None else min(per_read, remaining))

    def _deadline_passed(self) -> bool:
        # poll() rounds its timeout up to whole milliseconds, so a wait cut short by the
        # deadline ends at or after it; the margin only absorbs clock granularity
        return self._deadline is not None and time.monotonic() >= self._deadline[0] - 0.001

    def _flush_in_time(self, per_read: float | None) -> None:
        """:meth:`_flush` within the handshake deadline (a peer that does not read blocks sendall)."""
        self._arm_deadline(per_read)
        self._flush()

    def _timed_out(self, why: str, message: str) -> TransportError:
        """The error for a socket timeout: HandshakeTimeout once the deadline passed, else ``message``."""
        if self._deadline_passed():
            assert self._deadline is not None
            return HandshakeTimeout(f"the handshake did not finish within {self._deadline[1]:g} s ({why})")
        return TransportError(message)

    def _read_socket(self) -> bytes:
        """One read from the socket; b"" at the end of stream, a reset included."""
        try:
            return self.socket.recv(_RECV_SIZE)
        except TimeoutError as exc:
            raise self._timed_out(
                "the peer is too slow", f"no answer from the peer within {self.socket.gettimeout()} s"
            ) from exc
        except ConnectionResetError:
            return b""  # the peer hung up without close_notify: the connection reports it
        except OSError as exc:
            raise TransportError(f"receiving from the peer failed: {os_error_reason(exc)}") from exc

    def _flush(self) -> None:
        """Send whatever the connection queued (records, a fatal alert)."""
        data = self.connection.data_to_send()
        if not data:
            return
        try:
            self.socket.sendall(data)
        except TimeoutError as exc:
            raise self._timed_out(
                "the peer does not read", f"the peer took no data within {self.socket.gettimeout()} s"
            ) from exc
        except OSError as exc:
            raise TransportError(f"sending to the peer failed: {os_error_reason(exc)}") from exc

    def _feed(self, data: bytes) -> None:
        try:
            events = self.connection.receive_data(data)
        except TLSError:
            # the connection queued its fatal alert (if any): send it, then report the error
            with contextlib.suppress(TransportError):
                self._flush()
            self._closed = True
            self.socket.close()
            raise
        for event in events:
            if isinstance(event, ApplicationData):
                self._received += event.data
                self.application_data_events += 1
                continue
            self.events.append(event)
            if isinstance(event, ConnectionClosed):
                with contextlib.suppress(TransportError):
                    self._flush()


def _write_keylog(target: KeyLogTarget, transcript: Transcript) -> None:
    secrets = transcript.secrets
    if target is None or secrets.client_random is None or secrets.master_secret is None:
        return
    if isinstance(target, KeyLog):
        target.add_master_secret(secrets.client_random, secrets.master_secret)
        return
    try:
        with open(target, "a", encoding="ascii") as file:
            file.write(transcript.keylog())
    except OSError as exc:
        raise KeyLogError(
            f"cannot append to the key log {os.fspath(target)!r}: {os_error_reason(exc)}"
        ) from exc


def _credential(cert: str | os.PathLike[str] | None, key: str | os.PathLike[str] | None) -> list[Credential]:
    if cert is None and key is None:
        return []
    if cert is None:
        raise LocalProtocolError("client_key was given without client_cert")
    return [load_credential(cert, key if key is not None else cert)]


def connect(
    host: str,
    port: int,
    *,
    server_name: str | None = None,
    cafile: str | os.PathLike[str] | None = None,
    cipher_suites: Sequence[str | CipherSuite] | None = None,
    client_cert: str | os.PathLike[str] | None = None,
    client_key: str | os.PathLike[str] | None = None,
    keylog: KeyLogTarget = None,
    timeout: float | None = 10.0,
    verify: bool = True,
    config: TLSConfig | None = None,
    handshake_timeout: float | None = HANDSHAKE_TIMEOUT,
) -> TLSSession:
    """Connect to ``host:port`` on loopback, run a TLS 1.2 handshake and return the session.

    ``host`` must be ``localhost`` or a loopback address (127.0.0.0/8, ``::1``): any other
    host raises :class:`~httpslab.errors.LocalProtocolError` before a socket is opened
    (httpslab is a teaching tool; its demo keys are public). ``timeout`` bounds the TCP
    connect and each read; ``handshake_timeout`` bounds the whole handshake
    (:class:`~httpslab.errors.HandshakeTimeout`; None for no bound).
    ``server_name`` (default: ``host``) is checked against the certificate — as a DNS name,
    or as an IP address when it is one — and sent as SNI unless it is an IP literal.
    ``cipher_suites`` takes IANA (``TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256``) or OpenSSL
    (``ECDHE-RSA-AES128-GCM-SHA256``) names. ``keylog`` (a path or a
    :class:`~httpslab.keylog.KeyLog`) receives the ``CLIENT_RANDOM`` line. ``config`` gives
    full control; the other keyword arguments then override its fields.
    """
    require_loopback(host)
    fields: dict[str, Any] = {
        "server_name": server_name if server_name is not None else host,
        "verify": verify,
    }
    if cipher_suites is not None:
        fields["cipher_suites"] = tuple(cipher_suites)
    credentials = _credential(client_cert, client_key)
    if credentials:
        fields["credentials"] = credentials
    anchors = config.trust_anchors if config is not None else ()
    if verify and (cafile is not None or not anchors):  # one TLSConfig built, not two
        fields["trust_anchors"] = load_trust_anchors(cafile, anchors=anchors)
    config = dataclasses.replace(config, **fields) if config is not None else TLSConfig(**fields)
    sock = loopback_connection(host, port, timeout)
    session = TLSSession(sock, ClientConnection(config))
    try:
        session.handshake(handshake_timeout)
    except BaseException:
        with contextlib.suppress(OSError):
            sock.close()
        # once the master secret exists the key log gets its line, even if the handshake then
        # failed (a bad Finished, a rejected certificate...): Wireshark can then show why.
        # The handshake's error is the one the caller sees, not a key log problem.
        with contextlib.suppress(TLSError):
            _write_keylog(keylog, session.transcript)
        raise
    try:
        _write_keylog(keylog, session.transcript)
    except TLSError:
        session.close()
        raise
    return session


def echo_handler(session: TLSSession) -> None:
    """Send back whatever arrives until the client closes (a handler for :class:`TLSServer`)."""
    while data := session.recv():
        session.send(data)


#: accept(2) errors that belong to one pending connection (it is dropped from the queue): Linux
#: passes a connection's pending network error on as accept's own (man 2 accept, "Error
#: handling"), and ECONNABORTED is a client that reset before it was accepted
_ACCEPT_ERRORS_OF_ONE_CLIENT = frozenset(
    getattr(errno, name)
    for name in (
        "ECONNABORTED",
        "EPROTO",
        "EINTR",
        "ENETDOWN",
        "ENOPROTOOPT",
        "EHOSTDOWN",
        "ENONET",
        "EHOSTUNREACH",
        "EOPNOTSUPP",
        "ENETUNREACH",
    )
    if hasattr(errno, name)
)
#: accept(2) errors that leave the connection queued until a descriptor or memory is freed
_ACCEPT_ERRORS_OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
#: seconds serve_forever waits before it retries an accept that ran out of resources
_ACCEPT_BACKOFF = 0.1


class TLSServer:
    """A blocking TLS 1.2 server on the loopback interface, one handshake per accepted client.

    >>> with TLSServer(TLSConfig(credentials=[credential])) as server:   # doctest: +SKIP
    ...     server.serve_in_background(echo_handler)
    ...     session = connect(*server.address, cafile=ca_file)

    Only loopback addresses are accepted: httpslab serves demo keys that anyone can read.
    Each accepted session's transcript is kept in ``sessions`` (and its key log line in
    ``keylog`` when given). ``timeout`` bounds each read from a client, ``handshake_timeout``
    each whole handshake (a client that trickles bytes gets
    :class:`~httpslab.errors.HandshakeTimeout`; None for no bound).
    """

    def __init__(
        self,
        config: TLSConfig,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        keylog: KeyLogTarget = None,
        timeout: float | None = 10.0,
        backlog: int = 8,
        handshake_timeout: float | None = HANDSHAKE_TIMEOUT,
    ) -> None:
        require_loopback(host, "listen on")
        if not config.credentials:
            raise LocalProtocolError("the server configuration has no certificate (TLSConfig.credentials)")
        self.config = _with_client_trust_anchors(config, None)
        self.keylog = keylog
        self.timeout = timeout
        self.handshake_timeout = handshake_timeout
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._listener.bind((host, port))
            self._listener.listen(backlog)
        except OSError as exc:
            self._listener.close()
            shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            raise TransportError(f"listening on {shown} failed: {os_error_reason(exc)}") from exc
        self.sessions: list[TLSSession] = []
        #: errors of handshakes and handlers that failed in :meth:`serve_forever`, and of an
        #: accept that ran out of descriptors (once per run): the server keeps going
        self.errors: list[TLSError] = []
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._listener.getsockname()[:2]
        return host, port

    def accept(self) -> TLSSession:
        """Wait for one client and run the handshake; the error is raised if it fails.

        A listening socket that fails (or was closed) raises
        :class:`~httpslab.errors.TransportError` before any session is added to ``sessions``.
        """
        try:
            sock, _ = self._listener.accept()
        except OSError as exc:
            raise TransportError(f"accepting a client failed: {os_error_reason(exc)}") from exc
        try:
            sock.settimeout(self.timeout)
            session = TLSSession(sock, ServerConnection(self.config))
        except BaseException:
            sock.close()
            raise
        self.sessions.append(session)
        try:
            session.handshake(self.handshake_timeout)
        except BaseException:
            with contextlib.suppress(TLSError):  # as in connect: once the keys exist
                _write_keylog(self.keylog, session.transcript)
            raise
        try:
            _write_keylog(self.keylog, session.transcript)
        except TLSError:
            session.close()
            raise
        return session

    def serve_forever(
        self, handler: Callable[[TLSSession], None] = echo_handler, *, max_sessions: int | None = None
    ) -> None:
        """Accept clients one after the other and run ``handler(session)`` for each.

        A client whose handshake or handler fails is recorded in ``errors`` and the next one
        is served. An ``accept`` that fails for one pending connection (a client that reset
        before it was accepted: ECONNABORTED, EPROTO and the other network errors Linux's
        accept(2) passes on) is skipped; one that fails for want of a descriptor (EMFILE,
        ENFILE, ENOBUFS, ENOMEM) is recorded in ``errors`` once per run of such failures and
        retried after a short pause, so that the loop does not spin. It ends after
        ``max_sessions`` clients or when :meth:`close` stops it; any other accept failure
        (the listener itself failed) is raised.
        """
        served = 0
        out_of_resources = False  # the last accept failed for want of a descriptor
        while not self._stopped.is_set() and (max_sessions is None or served < max_sessions):
            sessions_before = len(self.sessions)
            try:
                session = self.accept()
            except TLSError as exc:
                if len(self.sessions) == sessions_before:  # no client: accept() itself failed
                    if self._stopped.is_set():
                        return  # close() shut the listener
                    reason = getattr(exc.__cause__, "errno", None)
                    if reason in _ACCEPT_ERRORS_OF_ONE_CLIENT:
                        continue  # that connection is gone from the queue: the next one
                    if reason in _ACCEPT_ERRORS_OUT_OF_RESOURCES:
                        if not out_of_resources:
                            self.errors.append(exc)
                        out_of_resources = True
                        self._stopped.wait(_ACCEPT_BACKOFF)
                        continue
                    raise
                # this client's handshake failed (a TLS error, a reset, a timeout): next one
                out_of_resources = False
                self.errors.append(exc)
                served += 1
                continue
            out_of_resources = False
            served += 1
            try:
                handler(session)
            except TLSError as exc:
                self.errors.append(exc)
            except OSError as exc:  # this client's socket broke (a reset, a broken pipe): next one
                error = TransportError(f"the connection to the client broke: {exc}")
                error.__cause__ = exc
                self.errors.append(error)
            finally:
                session.close()

    def serve_in_background(
        self, handler: Callable[[TLSSession], None] = echo_handler, *, max_sessions: int | None = None
    ) -> threading.Thread:
        """:meth:`serve_forever` in a daemon thread; :meth:`close` stops it."""
        self._thread = threading.Thread(
            target=self.serve_forever, args=(handler,), kwargs={"max_sessions": max_sessions}, daemon=True
        )
        self._thread.start()
        return self._thread

    def close(self) -> None:
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def __enter__(self) -> TLSServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def server_config(
    certfile: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    keyfile: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    **fields: Any,
) -> TLSConfig:
    """A server TLSConfig from PEM files (one or several chain/key pairs, e.g. RSA and ECDSA).

    ``cafile`` (a keyword) names the PEM file of the CAs that client certificates must chain to.
    """
    certfiles = [certfile] if isinstance(certfile, str | os.PathLike) else list(certfile)
    keyfiles = [keyfile] if isinstance(keyfile, str | os.PathLike) else list(keyfile)
    if len(certfiles) != len(keyfiles):
        raise LocalProtocolError("give one key file per certificate file")
    credentials = [load_credential(Path(c), Path(k)) for c, k in zip(certfiles, keyfiles, strict=True)]
    fields.setdefault("cipher_suites", tuple(SUITES))
    cafile = fields.pop("cafile", None)
    return _with_client_trust_anchors(TLSConfig(credentials=credentials, **fields), cafile)
