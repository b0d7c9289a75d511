"""Sans-I/O TLS 1.2 client and server connections (RFC 5246), in the h11 / aioquic pattern.

A connection never touches a socket or a file. Feed it the bytes that arrived with
:meth:`~TLSConnection.receive_data` (it returns the :class:`Event` objects they produced) and
send what :meth:`~TLSConnection.data_to_send` returns::

    client = ClientConnection(TLSConfig(server_name="localhost", trust_anchors=anchors))
    client.start_handshake()
    sock.sendall(client.data_to_send())
    for event in client.receive_data(sock.recv(65536)): ...

The handshake follows :mod:`~httpslab.connection.tables` (anything not in them is
unexpected_message). Any error queues the matching fatal alert, moves the connection to
``State.ERROR``, wipes its keys and raises from :meth:`~TLSConnection.receive_data`, the one
place where errors are converted. :class:`Primitives` lets a lab plug in a learner's function
for one primitive. The transcript keeps a copy of the session secrets unless
``TLSConfig.keep_secrets`` is False.

Modules: :mod:`.events`, :mod:`.config`, :mod:`.tables`, :mod:`.policing`, :mod:`.certificates`, :mod:`.base`
(what both roles share), :mod:`.client`, :mod:`.server`.
"""

from .base import TLSConnection
from .client import ClientConnection
from .config import (
    DEFAULT_GROUPS,
    DEFAULT_SIGNATURE_SCHEMES,
    OPENSSL_DEFAULT_GROUPS,
    SERVER_SIGNATURE_SCHEMES,
    Credential,
    DirectionKeys,
    LiveSecrets,
    Primitives,
    TLSConfig,
)
from .events import ApplicationData, ConnectionClosed, Event, HandshakeComplete, WarningAlertReceived
from .server import ServerConnection

__all__ = [
    "DEFAULT_GROUPS",
    "DEFAULT_SIGNATURE_SCHEMES",
    "OPENSSL_DEFAULT_GROUPS",
    "SERVER_SIGNATURE_SCHEMES",
    "ApplicationData",
    "ClientConnection",
    "ConnectionClosed",
    "Credential",
    "DirectionKeys",
    "Event",
    "HandshakeComplete",
    "LiveSecrets",
    "Primitives",
    "ServerConnection",
    "TLSConfig",
    "TLSConnection",
    "WarningAlertReceived",
]
