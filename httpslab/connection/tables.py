"""The TLS 1.2 handshake as a table of transitions (RFC 5246 §7.3, Figures 1 and 2).

The connection state machine of :mod:`httpslab.connection` runs on the tables below, and the
notebooks draw their state diagrams from the same tables: one source of truth, as in h11's
``_state.py``. A state is named after what the connection *waits for*; the same names serve
both roles (a client in ``WAIT_CERTIFICATE`` waits for the server's Certificate, a server in
``WAIT_CERTIFICATE`` for the client's). An incoming message is a :class:`HandshakeType` or, for
the messages that are not handshake messages, a :class:`ContentType`
(``CHANGE_CIPHER_SPEC``, ``APPLICATION_DATA``).

**Anything not in these tables is unexpected_message** (RFC 5246 §7.2.2).

Where the next state depends on what was negotiated (RSA key exchange has no
ServerKeyExchange; a server that asked for no client certificate waits for no Certificate),
the table lists every allowed next state and the message handler picks one of them; the
machine checks that the pick is in the table.

Full handshake (``*`` optional, ``[ ]`` ChangeCipherSpec)::

    Client                                               Server
    ClientHello                  -------->
                                                    ServerHello
                                                   Certificate
                                             ServerKeyExchange*   (DHE / ECDHE only)
                                            CertificateRequest*   (mutual TLS only)
                                 <--------      ServerHelloDone
    Certificate*
    ClientKeyExchange
    CertificateVerify*
    [ChangeCipherSpec]
    Finished                     -------->
                                             [ChangeCipherSpec]
                                 <--------             Finished
    Application Data             <------->     Application Data
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Literal

from ..enums import ContentType, HandshakeType
from ..errors import UnexpectedMessage

__all__ = [
    "CLIENT_TRANSITIONS",
    "SERVER_TRANSITIONS",
    "MessageKind",
    "Role",
    "State",
    "allowed_messages",
    "diagram_edges",
    "message_name",
    "next_states",
    "transitions",
]

Role = Literal["client", "server"]
#: what arrives: a handshake message type, or ChangeCipherSpec / application data
MessageKind = HandshakeType | ContentType


class State(enum.Enum):
    """Where a connection is; every ``WAIT_*`` state is named after the message it waits for."""

    #: nothing sent or received yet (a client has not sent its ClientHello)
    START = "start"
    #: client: ServerHello; server: ClientHello
    WAIT_HELLO = "wait hello"
    #: the peer's Certificate (a server waits for it only when it asked for one)
    WAIT_CERTIFICATE = "wait certificate"
    #: client: ServerKeyExchange (DHE / ECDHE suites); server: ClientKeyExchange
    WAIT_KEY_EXCHANGE = "wait key exchange"
    #: client: CertificateRequest or ServerHelloDone
    WAIT_CERTIFICATE_REQUEST = "wait certificate request"
    #: client, after a CertificateRequest: ServerHelloDone
    WAIT_HELLO_DONE = "wait hello done"
    #: server, after a client Certificate that holds a certificate: CertificateVerify
    WAIT_CERTIFICATE_VERIFY = "wait certificate verify"
    #: the peer's ChangeCipherSpec
    WAIT_CHANGE_CIPHER_SPEC = "wait change cipher spec"
    #: the peer's Finished (the first protected handshake message)
    WAIT_FINISHED = "wait finished"
    #: handshake complete: application data both ways
    CONNECTED = "connected"
    #: close_notify sent and/or received; keys wiped
    CLOSED = "closed"
    #: a fatal alert was sent or received; keys wiped
    ERROR = "error"


_S = State
_H = HandshakeType
_CCS = ContentType.CHANGE_CIPHER_SPEC
_DATA = ContentType.APPLICATION_DATA

#: (state, message the client receives) -> states the client may move to
CLIENT_TRANSITIONS: Mapping[tuple[State, MessageKind], frozenset[State]] = {
    (_S.WAIT_HELLO, _H.SERVER_HELLO): frozenset({_S.WAIT_CERTIFICATE}),
    # RFC 5246 §7.4.3: ServerKeyExchange only for DHE / ECDHE; RSA goes straight on.
    (_S.WAIT_CERTIFICATE, _H.CERTIFICATE): frozenset({_S.WAIT_KEY_EXCHANGE, _S.WAIT_CERTIFICATE_REQUEST}),
    (_S.WAIT_KEY_EXCHANGE, _H.SERVER_KEY_EXCHANGE): frozenset({_S.WAIT_CERTIFICATE_REQUEST}),
    (_S.WAIT_CERTIFICATE_REQUEST, _H.CERTIFICATE_REQUEST): frozenset({_S.WAIT_HELLO_DONE}),
    (_S.WAIT_CERTIFICATE_REQUEST, _H.SERVER_HELLO_DONE): frozenset({_S.WAIT_CHANGE_CIPHER_SPEC}),
    (_S.WAIT_HELLO_DONE, _H.SERVER_HELLO_DONE): frozenset({_S.WAIT_CHANGE_CIPHER_SPEC}),
    (_S.WAIT_CHANGE_CIPHER_SPEC, _CCS): frozenset({_S.WAIT_FINISHED}),
    (_S.WAIT_FINISHED, _H.FINISHED): frozenset({_S.CONNECTED}),
    (_S.CONNECTED, _DATA): frozenset({_S.CONNECTED}),
    # RFC 5246 §7.4.1.1: a HelloRequest may come at any time; we answer no_renegotiation.
    (_S.CONNECTED, _H.HELLO_REQUEST): frozenset({_S.CONNECTED}),
}

#: (state, message the server receives) -> states the server may move to
SERVER_TRANSITIONS: Mapping[tuple[State, MessageKind], frozenset[State]] = {
    (_S.WAIT_HELLO, _H.CLIENT_HELLO): frozenset({_S.WAIT_CERTIFICATE, _S.WAIT_KEY_EXCHANGE}),
    # RFC 5246 §7.4.6: the client sends a Certificate (possibly empty) iff it was asked to.
    (_S.WAIT_CERTIFICATE, _H.CERTIFICATE): frozenset({_S.WAIT_KEY_EXCHANGE}),
    # RFC 5246 §7.4.8: CertificateVerify only after a non-empty client Certificate.
    (_S.WAIT_KEY_EXCHANGE, _H.CLIENT_KEY_EXCHANGE): frozenset(
        {_S.WAIT_CERTIFICATE_VERIFY, _S.WAIT_CHANGE_CIPHER_SPEC}
    ),
    (_S.WAIT_CERTIFICATE_VERIFY, _H.CERTIFICATE_VERIFY): frozenset({_S.WAIT_CHANGE_CIPHER_SPEC}),
    (_S.WAIT_CHANGE_CIPHER_SPEC, _CCS): frozenset({_S.WAIT_FINISHED}),
    (_S.WAIT_FINISHED, _H.FINISHED): frozenset({_S.CONNECTED}),
    (_S.CONNECTED, _DATA): frozenset({_S.CONNECTED}),
    # A ClientHello after the handshake asks to renegotiate; we answer no_renegotiation.
    (_S.CONNECTED, _H.CLIENT_HELLO): frozenset({_S.CONNECTED}),
}


def transitions(role: Role) -> Mapping[tuple[State, MessageKind], frozenset[State]]:
    """The transition table of ``role``."""
    return CLIENT_TRANSITIONS if role == "client" else SERVER_TRANSITIONS


def _readable_name(kind: MessageKind) -> str:
    if isinstance(kind, ContentType):
        return {_CCS: "ChangeCipherSpec", _DATA: "application data"}.get(kind, kind.name.lower())
    return "".join(part.capitalize() for part in kind.name.split("_"))


#: every member's name, made once: keyed by (enum class, value), since HandshakeType.FINISHED
#: and ContentType.CHANGE_CIPHER_SPEC are both 20 and would be one key as plain ints
_MESSAGE_NAMES: dict[tuple[type, int], str] = {
    (type(kind), int(kind)): _readable_name(kind) for enum in (HandshakeType, ContentType) for kind in enum
}


def message_name(kind: MessageKind) -> str:
    """A readable name: ``ServerHello``, ``ChangeCipherSpec``, ``application data``."""
    name = _MESSAGE_NAMES.get((type(kind), kind))
    return name if name is not None else _readable_name(kind)


def allowed_messages(role: Role, state: State) -> list[MessageKind]:
    """The messages ``role`` accepts in ``state`` (for error messages and diagrams)."""
    return [kind for (from_state, kind) in transitions(role) if from_state is state]


def next_states(role: Role, state: State, kind: MessageKind) -> frozenset[State]:
    """Where ``role`` may go on receiving ``kind`` in ``state``; UnexpectedMessage if nowhere."""
    try:
        return transitions(role)[(state, kind)]
    except KeyError:
        expected = ", ".join(message_name(k) for k in allowed_messages(role, state)) or "nothing"
        peer = "server" if role == "client" else "client"
        raise UnexpectedMessage(
            f"the {peer} sent {message_name(kind)} while the {role} was in state "
            f"{state.name} (expected: {expected})"
        ) from None


def diagram_edges(role: Role) -> list[tuple[State, str, State]]:
    """(from state, message name, to state) for every transition of ``role``: a state diagram.

    The same table the connection runs, so a drawing made from it cannot drift from the code.
    """
    order = list(State)
    return [
        (state, message_name(kind), target)
        for (state, kind), targets in transitions(role).items()
        for target in sorted(targets, key=order.index)
    ]
