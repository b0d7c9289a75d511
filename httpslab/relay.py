"""A recording TCP relay on loopback: the eavesdropper's view of a TLS connection.

A :class:`RecordingRelay` listens on 127.0.0.1, forwards each accepted connection to a target
on loopback and records every byte that passes in each direction, with a timestamp per
chunk. This is what a passive attacker on the path sees (RFC 5246 §1: TLS protects the
application data, not the fact that a connection exists nor the cleartext handshake). An
optional ``tamper`` hook lets a test play an *active* attacker and change bytes in flight.

The relay never touches anything but loopback unless explicitly allowed.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

from .errors import RelayError

__all__ = [
    "CLIENT_TO_SERVER",
    "SERVER_TO_CLIENT",
    "RecordingRelay",
    "RelayChunk",
    "RelayedConnection",
    "Tamper",
]

Direction = Literal["client_to_server", "server_to_client"]
CLIENT_TO_SERVER: Direction = "client_to_server"
SERVER_TO_CLIENT: Direction = "server_to_client"

#: ``tamper(direction, data, offset) -> bytes``: ``offset`` is where ``data`` starts in the
#: stream of that direction as the sender wrote it; the return value is forwarded instead.
Tamper = Callable[[str, bytes, int], bytes]

_POLL_INTERVAL = 0.05  # seconds between checks of the stop flag
_RECV_SIZE = 65536


@dataclass(frozen=True)
class RelayChunk:
    """One ``recv()`` worth of bytes that went through the relay."""

    direction: Direction
    #: offset of this chunk in the stream the sender wrote
    offset: int
    #: the bytes the sender wrote
    sent: bytes
    #: the bytes the relay forwarded (differs from ``sent`` only when tampered with)
    forwarded: bytes
    #: ``time.monotonic()`` when the relay received the chunk
    timestamp: float

    @property
    def tampered(self) -> bool:
        return self.sent != self.forwarded


class RelayedConnection:
    """The bytes of one client connection that went through the relay."""

    def __init__(self, index: int, client_address: tuple[str, int]) -> None:
        self.index = index
        self.client_address = client_address
        self.error: BaseException | None = None
        self._chunks: list[RelayChunk] = []
        self._lock = threading.Lock()
        self._done = threading.Event()

    def _record(self, chunk: RelayChunk) -> None:
        with self._lock:
            self._chunks.append(chunk)

    @property
    def chunks(self) -> tuple[RelayChunk, ...]:
        """Every chunk in both directions, in the order the relay received them."""
        with self._lock:
            return tuple(self._chunks)

    def _joined(self, direction: Direction, *, as_sent: bool) -> bytes:
        return b"".join(
            chunk.sent if as_sent else chunk.forwarded
            for chunk in self.chunks
            if chunk.direction == direction
        )

    @property
    def client_to_server(self) -> bytes:
        """What the server received (what the client sent, unless tampered with)."""
        return self._joined(CLIENT_TO_SERVER, as_sent=False)

    @property
    def server_to_client(self) -> bytes:
        """What the client received (what the server sent, unless tampered with)."""
        return self._joined(SERVER_TO_CLIENT, as_sent=False)

    @property
    def client_sent(self) -> bytes:
        """What the client wrote, before any tampering."""
        return self._joined(CLIENT_TO_SERVER, as_sent=True)

    @property
    def server_sent(self) -> bytes:
        """What the server wrote, before any tampering."""
        return self._joined(SERVER_TO_CLIENT, as_sent=True)

    @property
    def closed(self) -> bool:
        """True once both directions have ended and both sockets are closed."""
        return self._done.is_set()

    def __repr__(self) -> str:
        return (
            f"<RelayedConnection #{self.index} c->s {len(self.client_to_server)} B, "
            f"s->c {len(self.server_to_client)} B{', closed' if self.closed else ''}>"
        )


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1): the only places httpslab talks to.

    Nothing is resolved: a name other than ``localhost`` is not loopback, whatever DNS would
    say. An IPv4-mapped IPv6 address counts as the IPv4 address it carries
    (``::ffff:127.0.0.1`` is loopback, ``::ffff:8.8.8.8`` is not) on every Python version
    (``ipaddress`` says False for both before Python 3.13).
    """
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


class RecordingRelay:
    """A threaded TCP proxy on 127.0.0.1 that records both directions of each connection.

    >>> with RecordingRelay(("127.0.0.1", server_port)) as relay:   # doctest: +SKIP
    ...     connect_client_to(relay.address)
    ...     relay.wait_closed(5)
    ...     relay.client_to_server[:5]   # the first TLS record header

    ``max_connections`` (default 1) is how many connections are accepted before the relay
    stops listening; ``None`` accepts until :meth:`close`. ``client_to_server`` and
    ``server_to_client`` are those of the first connection; ``connections`` has them all.

    ``only_from`` (a client's ``(host, port)``, known once the client socket is bound) makes
    the relay hang up on any other connection at once: it is not recorded, not forwarded
    and does not count towards ``max_connections`` (its address goes to ``turned_away``).
    Without it, any process on the machine that happens to connect to the relay's port
    first takes the only slot of a ``max_connections=1`` relay, which then stops listening
    and refuses the client it was meant for.
    """

    def __init__(
        self,
        target: tuple[str, int],
        *,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
        tamper: Tamper | None = None,
        max_connections: int | None = 1,
        connect_timeout: float = 5.0,
        allow_non_loopback: bool = False,
        only_from: tuple[str, int] | None = None,
    ) -> None:
        target_host, target_port = target
        if not allow_non_loopback:
            for role, host in (("target", target_host), ("listen address", listen_host)):
                if not is_loopback(host):
                    raise RelayError(
                        f"the relay's {role} {host!r} is not loopback; pass allow_non_loopback=True "
                        "if you really mean it"
                    )
        if not isinstance(target_port, int) or not 0 < target_port < 65536:
            raise RelayError(f"target port {target_port!r} is not a TCP port")
        if max_connections is not None and max_connections < 1:
            raise RelayError("max_connections must be at least 1 (or None for no limit)")
        self.target = (target_host, target_port)
        self.tamper = tamper
        self.max_connections = max_connections
        self.connect_timeout = connect_timeout
        self.only_from = (only_from[0], only_from[1]) if only_from is not None else None
        #: addresses of connections hung up on because they were not ``only_from``
        self.turned_away: list[tuple[str, int]] = []
        self._listen = (listen_host, listen_port)
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._connections: list[RelayedConnection] = []
        self._accepting_done = threading.Event()
        self._address: tuple[str, int] | None = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> RecordingRelay:
        """Bind, listen and start accepting in a background thread."""
        if self._listener is not None:
            raise RelayError("the relay is already started")
        family = socket.AF_INET6 if ":" in self._listen[0] else socket.AF_INET
        try:
            listener = socket.socket(family, socket.SOCK_STREAM)
        except OSError as exc:  # e.g. out of file descriptors
            raise RelayError(f"cannot make a socket to listen on {self._listen}: {exc}") from exc
        try:
            listener.bind(self._listen)
            listener.listen(8)
            listener.settimeout(_POLL_INTERVAL)
        except OSError as exc:
            listener.close()
            raise RelayError(f"cannot listen on {self._listen}: {exc}") from exc
        self._listener = listener
        host, port = listener.getsockname()[:2]
        self._address = (host, port)
        self._spawn(self._accept_loop, "relay-accept")
        return self

    def close(self, timeout: float = 5.0) -> None:
        """Stop accepting, close every socket and join every thread."""
        self._stop.set()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock, socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread in self._threads_snapshot():
            thread.join(max(0.0, deadline - time.monotonic()))
        for sock in sockets:
            sock.close()
        if self._listener is not None:
            self._listener.close()

    def __enter__(self) -> RecordingRelay:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def address(self) -> tuple[str, int]:
        """The (host, port) clients should connect to."""
        if self._address is None:
            raise RelayError("the relay is not started")
        return self._address

    @property
    def port(self) -> int:
        return self.address[1]

    @property
    def alive_threads(self) -> list[threading.Thread]:
        """The relay's threads still running (empty after a clean :meth:`close`)."""
        return [thread for thread in self._threads_snapshot() if thread.is_alive()]

    def wait_closed(self, timeout: float = 10.0) -> None:
        """Wait until the expected connections were accepted and have fully closed.

        With ``max_connections=None`` this waits for the connections accepted so far.
        Raises TimeoutError after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        if self.max_connections is not None and not self._accepting_done.wait(timeout):
            raise TimeoutError(f"the relay accepted no connection within {timeout} s")
        for connection in self.connections:
            if not connection._done.wait(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"connection #{connection.index} through the relay is still open")

    # -- recordings ------------------------------------------------------------------
    @property
    def connections(self) -> tuple[RelayedConnection, ...]:
        with self._lock:
            return tuple(self._connections)

    def _first(self) -> RelayedConnection | None:
        connections = self.connections
        return connections[0] if connections else None

    @property
    def client_to_server(self) -> bytes:
        """Bytes the server received on the first connection (b"" if none yet)."""
        first = self._first()
        return first.client_to_server if first else b""

    @property
    def server_to_client(self) -> bytes:
        """Bytes the client received on the first connection (b"" if none yet)."""
        first = self._first()
        return first.server_to_client if first else b""

    @property
    def chunks(self) -> tuple[RelayChunk, ...]:
        """Timestamped chunks of the first connection."""
        first = self._first()
        return first.chunks if first else ()

    # -- internals -------------------------------------------------------------------
    def _threads_snapshot(self) -> list[threading.Thread]:
        with self._lock:
            return list(self._threads)

    def _spawn(self, target: Callable[..., None], name: str, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)

    def _accept_loop(self) -> None:
        assert self._listener is not None
        accepted = 0
        try:
            while not self._stop.is_set():
                if self.max_connections is not None and accepted >= self.max_connections:
                    break
                try:
                    client, client_address = self._listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    # A client that reset before we accepted it (ECONNABORTED) must not take the
                    # relay down for the next one: only a closed listener or a stop ends the loop.
                    if self._stop.is_set() or self._listener.fileno() == -1:
                        break
                    self._stop.wait(_POLL_INTERVAL)  # no busy loop on a persistent error
                    continue
                if self.only_from is not None and tuple(client_address[:2]) != self.only_from:
                    client.close()  # not the expected client: not recorded, not forwarded, not counted
                    with self._lock:
                        self.turned_away.append(client_address[:2])
                    continue
                accepted += 1
                client.settimeout(_POLL_INTERVAL)
                self._track(client)
                connection = RelayedConnection(accepted - 1, client_address[:2])
                with self._lock:
                    self._connections.append(connection)
                self._spawn(self._serve, f"relay-conn-{accepted - 1}", client, connection)
        finally:
            self._listener.close()
            self._accepting_done.set()

    def _serve(self, client: socket.socket, connection: RelayedConnection) -> None:
        server: socket.socket | None = None
        try:
            try:
                server = socket.create_connection(self.target, timeout=self.connect_timeout)
            except OSError as exc:
                connection.error = exc
                return
            server.settimeout(_POLL_INTERVAL)
            self._track(server)
            pumps = [
                threading.Thread(
                    target=self._pump,
                    args=(client, server, CLIENT_TO_SERVER, connection),
                    name=f"relay-conn-{connection.index}-c2s",
                    daemon=True,
                ),
                threading.Thread(
                    target=self._pump,
                    args=(server, client, SERVER_TO_CLIENT, connection),
                    name=f"relay-conn-{connection.index}-s2c",
                    daemon=True,
                ),
            ]
            for pump in pumps:
                pump.start()
            for pump in pumps:
                pump.join()
        finally:
            client.close()
            if server is not None:
                server.close()
            connection._done.set()

    def _pump(
        self, source: socket.socket, sink: socket.socket, direction: Direction, connection: RelayedConnection
    ) -> None:
        """Copy ``source`` to ``sink`` until EOF (then half-close ``sink``) or an error."""
        offset = 0
        try:
            while not self._stop.is_set():
                try:
                    data = source.recv(_RECV_SIZE)
                except TimeoutError:
                    continue
                if not data:
                    _shutdown(sink, socket.SHUT_WR)  # pass the EOF on: a half-close
                    return
                received_at = time.monotonic()
                forwarded = data
                if self.tamper is not None:
                    forwarded = bytes(self.tamper(direction, data, offset))
                connection._record(RelayChunk(direction, offset, data, forwarded, received_at))
                offset += len(data)
                if forwarded:
                    _sendall(sink, forwarded, self._stop)
        except OSError as exc:
            # A reset on one side: tear the whole connection down so the other pump ends too.
            if connection.error is None:
                connection.error = exc
            _shutdown(source, socket.SHUT_RDWR)
            _shutdown(sink, socket.SHUT_RDWR)
        except BaseException as exc:  # a failing tamper hook must not hang the peers
            connection.error = exc
            _shutdown(source, socket.SHUT_RDWR)
            _shutdown(sink, socket.SHUT_RDWR)


def _sendall(sock: socket.socket, data: bytes, stop: threading.Event) -> None:
    view = memoryview(data)
    while view and not stop.is_set():
        try:
            sent = sock.send(view)
        except TimeoutError:
            continue
        view = view[sent:]


def _shutdown(sock: socket.socket, how: int) -> None:
    try:
        sock.shutdown(how)
    except OSError:
        pass
