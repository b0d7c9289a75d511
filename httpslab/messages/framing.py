"""Handshake framing (RFC 5246 §7.4): the 4-byte header, and whole messages from records."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Union

from ..enums import HandshakeType
from ..errors import IllegalParameter, LocalProtocolError, UnexpectedMessage
from ..wire import Buffer
from .codecs import (
    Certificate,
    CertificateRequest,
    CertificateVerify,
    ClientHello,
    ClientKeyExchange,
    Finished,
    HelloRequest,
    NewSessionTicket,
    ServerHello,
    ServerHelloDone,
    ServerKeyExchange,
    pull_certificate,
    pull_certificate_request,
    pull_certificate_verify,
    pull_client_hello,
    pull_client_key_exchange,
    pull_finished,
    pull_hello_request,
    pull_new_session_ticket,
    pull_server_hello,
    pull_server_hello_done,
    pull_server_key_exchange,
    push_certificate,
    push_certificate_request,
    push_certificate_verify,
    push_client_hello,
    push_client_key_exchange,
    push_finished,
    push_hello_request,
    push_new_session_ticket,
    push_server_hello,
    push_server_hello_done,
    push_server_key_exchange,
)
from .descriptions import FieldSpan, _span, _SpanRecorder, _text
from .extensions import _known

#: Largest handshake body :class:`HandshakeReader` accepts by default (2^16 * 4 bytes).
#: A Certificate chain is the biggest message in practice; OpenSSL's own cap for it is
#: 100 KiB. A longer announced length is refused before any byte is buffered.
MAX_HANDSHAKE_MESSAGE_LENGTH = 4 * 2**16

# ---------------------------------------------------------------------------------------
# handshake framing (RFC 5246 §7.4)
# ---------------------------------------------------------------------------------------

HandshakeMessage = Union[  # noqa: UP007
    HelloRequest,
    ClientHello,
    ServerHello,
    Certificate,
    ServerKeyExchange,
    CertificateRequest,
    ServerHelloDone,
    ClientKeyExchange,
    CertificateVerify,
    Finished,
    NewSessionTicket,
]

_PULL: dict[int, Callable[[Buffer], Any]] = {
    HandshakeType.HELLO_REQUEST: pull_hello_request,
    HandshakeType.CLIENT_HELLO: pull_client_hello,
    HandshakeType.SERVER_HELLO: pull_server_hello,
    HandshakeType.NEW_SESSION_TICKET: pull_new_session_ticket,
    HandshakeType.CERTIFICATE: pull_certificate,
    HandshakeType.CERTIFICATE_REQUEST: pull_certificate_request,
    HandshakeType.SERVER_HELLO_DONE: pull_server_hello_done,
    HandshakeType.CERTIFICATE_VERIFY: pull_certificate_verify,
    HandshakeType.FINISHED: pull_finished,
}

_PUSH: dict[type, Callable[[Buffer, Any], None]] = {
    HelloRequest: push_hello_request,
    ClientHello: push_client_hello,
    ServerHello: push_server_hello,
    NewSessionTicket: push_new_session_ticket,
    Certificate: push_certificate,
    ServerKeyExchange: push_server_key_exchange,
    CertificateRequest: push_certificate_request,
    ServerHelloDone: push_server_hello_done,
    ClientKeyExchange: push_client_key_exchange,
    CertificateVerify: push_certificate_verify,
    Finished: push_finished,
}

HANDSHAKE_HEADER_LENGTH = 4


def push_handshake(buf: Buffer, message: HandshakeMessage) -> None:
    """Write ``msg_type``, the uint24 length and the body of ``message``."""
    push_body = _PUSH.get(type(message))
    if push_body is None:
        raise LocalProtocolError(f"{type(message).__name__} is not a handshake message")
    with _span(buf, "msg_type"):
        buf.push_uint8(message.handshake_type)
    with buf.push_block(3), _span(buf, "body"):
        push_body(buf, message)


def pull_handshake(buf: Buffer, key_exchange: str | None = None) -> HandshakeMessage:
    """Read one handshake message (header and body); the body must be read exactly."""
    msg_type = buf.pull_uint8()
    with buf.pull_block(3):
        if msg_type == HandshakeType.SERVER_KEY_EXCHANGE:
            return pull_server_key_exchange(buf, key_exchange)
        if msg_type == HandshakeType.CLIENT_KEY_EXCHANGE:
            return pull_client_key_exchange(buf, key_exchange)
        pull_body = _PULL.get(msg_type)
        if pull_body is None:
            # RFC 5246 §7.4 lists the types a TLS 1.2 peer may send; anything else is out of place.
            raise UnexpectedMessage(
                f"handshake type {_text(_known(HandshakeType, msg_type))} is not supported"
            )
        return pull_body(buf)  # type: ignore[no-any-return]


def encode_handshake(message: HandshakeMessage) -> bytes:
    """The bytes of ``message`` with its 4-byte handshake header."""
    buf = Buffer()
    push_handshake(buf, message)
    return buf.data


def decode_handshake(data: bytes, *, key_exchange: str | None = None) -> HandshakeMessage:
    """Decode exactly one handshake message (with its header) from ``data``.

    ``key_exchange`` ("RSA", "DHE" or "ECDHE", from the negotiated suite) is needed only for
    ServerKeyExchange and ClientKeyExchange, whose shape depends on it.
    """
    buf = Buffer(data)
    message = pull_handshake(buf, key_exchange)
    buf.expect_eof("handshake message")
    return message


def field_spans(message: HandshakeMessage) -> list[FieldSpan]:
    """Byte ranges of the fields of ``encode_handshake(message)`` (header included).

    Because decoding is exact, the ranges also label the bytes a message was decoded from.
    Span names are the field names of ``describe()`` plus the header (``msg_type``,
    ``length``, ``body``) and nested items (``extension SERVER_NAME``, ``certificate[0]``),
    which come after the field that holds them.
    """
    buf = _SpanRecorder()
    push_handshake(buf, message)
    buf.spans.append(FieldSpan("length", 1, HANDSHAKE_HEADER_LENGTH))
    return sorted(buf.spans, key=lambda span: (span.start, -span.end))


class HandshakeReader:
    """Cut the payloads of handshake records into whole handshake messages.

    One message may span several records and one record may hold several messages
    (RFC 5246 §6.2.1). Feed each payload to :meth:`feed`; it returns the messages that are
    now complete, as ``(msg_type, raw bytes with header)``.
    """

    def __init__(self, max_message_length: int = MAX_HANDSHAKE_MESSAGE_LENGTH) -> None:
        self.max_message_length = max_message_length
        self._pending = bytearray()

    @property
    def has_partial_message(self) -> bool:
        """True when some bytes of an unfinished message are buffered."""
        return bool(self._pending)

    def feed(self, data: bytes) -> list[tuple[HandshakeType | int, bytes]]:
        self._pending += data
        messages: list[tuple[HandshakeType | int, bytes]] = []
        while len(self._pending) >= HANDSHAKE_HEADER_LENGTH:
            length = int.from_bytes(self._pending[1:4], "big")
            if length > self.max_message_length:
                # refuse before buffering it, with OpenSSL's alert (RFC 5246 §7.4; docs/openssl-parity.md)
                raise IllegalParameter(
                    f"a handshake message announces {length} bytes; at most {self.max_message_length} accepted"
                )
            total = HANDSHAKE_HEADER_LENGTH + length
            if len(self._pending) < total:
                break
            raw = bytes(self._pending[:total])
            del self._pending[:total]
            messages.append((_known(HandshakeType, raw[0]), raw))
        return messages
