"""Decrypt a captured TLS 1.2 session with an NSS key log.

An eavesdropper (or Wireshark) holds the bytes each side sent. With the key log that a client
such as OpenSSL writes (``keylog_filename``), the capture can be opened: the CLIENT_RANDOM
line gives the master secret, the hellos give the randoms and the cipher suite, and the key
block (RFC 5246 §6.3) gives the record keys for each direction. The Finished messages are then
recomputed (RFC 5246 §7.4.9) to prove the whole handshake was read correctly.

The two byte streams do not say how they interleave in time. :func:`decrypt_capture` orders
the records by handshake flight (RFC 5246 §7.3: ClientHello; ServerHello..ServerHelloDone;
the client's key exchange and Finished; the server's Finished), then the client's
application data before the server's, then the closing alerts. Each record also keeps its
``index`` in its own direction, which is exact.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Literal

from .crypto.keyschedule import KeyBlock, key_block, transcript_hash, verify_data
from .crypto.suites import SuiteInfo, suite_info
from .enums import ContentType, HandshakeType
from .errors import DecodeError, DecryptError, TLSError, UnexpectedMessage
from .keylog import KeyLog
from .messages import (
    Alert,
    ClientHello,
    Finished,
    HandshakeReader,
    ServerHello,
    decode_alert,
    decode_change_cipher_spec,
    decode_handshake,
)
from .record import Record, RecordProtection, split_records

__all__ = [
    "CapturedSession",
    "DecryptedRecord",
    "HandshakeEntry",
    "analyze_capture",
    "cleartext_alerts",
    "cleartext_handshake_messages",
    "cleartext_handshake_transcript",
    "decrypt_capture",
]

Sender = Literal["client", "server"]

# Flight numbers (RFC 5246 §7.3 message flow). Even: the client speaks; odd: the server.
_CLIENT_HELLO_FLIGHT, _SERVER_HELLO_FLIGHT = 0, 1
_CLIENT_FINISH_FLIGHT, _SERVER_FINISH_FLIGHT = 2, 3
_CLIENT_DATA, _SERVER_DATA, _CLIENT_CLOSE, _SERVER_CLOSE = 4, 5, 6, 7


@dataclass(frozen=True)
class HandshakeEntry:
    """One handshake message of the capture: who sent it, its raw bytes (with the 4-byte header)."""

    sender: Sender
    msg_type: HandshakeType | int
    raw: bytes = field(repr=False)
    message: Any = field(repr=False)
    #: True when it travelled inside a protected record (the Finished messages)
    encrypted: bool = False


@dataclass(frozen=True)
class DecryptedRecord:
    """One record of a captured session, with its protection removed."""

    sender: Sender
    content_type: ContentType | int
    plaintext: bytes = field(repr=False)
    #: the record as it crossed the wire (header and fragment: ciphertext once encrypted)
    record: Record = field(repr=False)
    encrypted: bool = False
    #: the sequence number it was protected under (None before ChangeCipherSpec)
    sequence_number: int | None = None
    #: decoded content: handshake messages completed by this record, or the Alert / ChangeCipherSpec
    messages: tuple[Any, ...] = field(default=(), repr=False)
    #: position among the records of its own direction (0-based)
    index: int = 0
    flight: int = field(default=0, repr=False)

    @property
    def raw(self) -> bytes:
        """The wire bytes of the record (5-byte header + fragment)."""
        return self.record.encode()

    @property
    def ciphertext(self) -> bytes | None:
        """The protected fragment, or None for a plaintext record."""
        return self.record.fragment if self.encrypted else None


@dataclass(frozen=True)
class CapturedSession:
    """Everything :func:`analyze_capture` learned from a capture and its key log."""

    records: tuple[DecryptedRecord, ...]
    handshake: tuple[HandshakeEntry, ...]
    client_hello: ClientHello
    server_hello: ServerHello
    suite: SuiteInfo
    master_secret: bytes = field(repr=False)
    key_block: KeyBlock = field(repr=False)
    extended_master_secret: bool
    encrypt_then_mac: bool
    #: sender -> (verify_data received, verify_data recomputed from the transcript)
    finished: dict[str, tuple[bytes, bytes]] = field(repr=False)

    @property
    def client_random(self) -> bytes:
        return self.client_hello.random

    @property
    def server_random(self) -> bytes:
        return self.server_hello.random

    def handshake_messages(self, until: HandshakeType | None = None, sender: Sender | None = None) -> bytes:
        """The concatenated handshake messages in protocol order, up to and including the
        first ``until`` message (sent by ``sender``, if given)."""
        out = bytearray()
        for entry in self.handshake:
            out += entry.raw
            if until is not None and entry.msg_type == until and sender in (None, entry.sender):
                break
        return bytes(out)

    def session_hash(self) -> bytes:
        """RFC 7627 §3: the hash of the handshake messages up to and including ClientKeyExchange."""
        return transcript_hash(
            self.handshake_messages(HandshakeType.CLIENT_KEY_EXCHANGE), self.suite.prf_hash
        )

    def application_data(self, sender: Sender) -> bytes:
        """All application data that ``sender`` sent, joined."""
        return b"".join(
            r.plaintext
            for r in self.records
            if r.sender == sender and r.content_type == ContentType.APPLICATION_DATA
        )


def cleartext_handshake_messages(stream: bytes) -> list[tuple[HandshakeType | int, bytes]]:
    """The (msg_type, body) of each handshake message before the first ChangeCipherSpec.

    ``stream`` is one direction of a TLS 1.2 connection from its first byte: records
    (RFC 5246 §6.2.1) are reassembled into handshake messages (§7.4); an incomplete record or
    message at the end is left out, and reading stops at ChangeCipherSpec.
    """
    records, _rest = split_records(bytes(stream))
    reader = HandshakeReader()
    messages: list[tuple[HandshakeType | int, bytes]] = []
    for record in records:
        if record.content_type == ContentType.CHANGE_CIPHER_SPEC:
            break
        if record.content_type == ContentType.HANDSHAKE:
            messages.extend((msg_type, raw[4:]) for msg_type, raw in reader.feed(record.fragment))
        elif record.content_type != ContentType.ALERT:
            raise DecodeError(f"unexpected cleartext record of content type {record.content_type}")
    return messages


def cleartext_alerts(stream: bytes) -> list[Alert]:
    """The alerts sent in clear (before any ChangeCipherSpec) in one direction's byte stream."""
    alerts = []
    for record in split_records(bytes(stream))[0]:
        if record.content_type == ContentType.CHANGE_CIPHER_SPEC:
            break
        if record.content_type == ContentType.ALERT:
            alerts.append(decode_alert(record.fragment))
    return alerts


def cleartext_handshake_transcript(
    client_to_server: bytes, server_to_client: bytes, until: HandshakeType = HandshakeType.CLIENT_KEY_EXCHANGE
) -> bytes:
    """The handshake messages (with headers) in protocol order up to and including ``until``.

    Read from the cleartext part of both streams, as an eavesdropper can: ClientHello, the
    server's flight up to ServerHelloDone, then the client's messages. RFC 7627 §3's
    session hash is the hash of this up to ClientKeyExchange.
    """
    client = cleartext_handshake_messages(client_to_server)
    server = cleartext_handshake_messages(server_to_client)
    if not client or client[0][0] != HandshakeType.CLIENT_HELLO:
        raise TLSError("the client stream does not start with a ClientHello")
    ordered = [client[0]]
    for kind, body in server:
        ordered.append((kind, body))
        if kind == HandshakeType.SERVER_HELLO_DONE:
            break
    ordered.extend(client[1:])
    out = bytearray()
    for kind, body in ordered:
        out += bytes([kind]) + len(body).to_bytes(3, "big") + body
        if kind == until:
            return bytes(out)
    raise TLSError(f"no {until.name} in the cleartext handshake")


def _records_of(data: bytes, sender: Sender) -> list[Record]:
    records, rest = split_records(bytes(data))
    if rest:
        raise DecodeError(
            f"the {sender}'s bytes end inside a record ({len(rest)} byte(s) of an incomplete record)"
        )
    return records


def _first_message(records: list[Record], sender: Sender) -> tuple[HandshakeType | int, bytes]:
    reader = HandshakeReader()
    for record in records:
        if record.content_type != ContentType.HANDSHAKE:
            break
        messages = reader.feed(record.fragment)
        if messages:
            return messages[0]
    expected = "ClientHello" if sender == "client" else "ServerHello"
    raise DecodeError(f"the {sender}'s bytes do not begin with a {expected}")


def _walk_direction(
    sender: Sender,
    records: list[Record],
    session_keys: tuple[SuiteInfo, KeyBlock, bool],
) -> tuple[list[DecryptedRecord], list[tuple[int, HandshakeEntry]]]:
    """Decrypt one direction; return its records and its handshake messages with their flights."""
    suite, keys, etm = session_keys
    reader = HandshakeReader()
    protection: RecordProtection | None = None
    out: list[DecryptedRecord] = []
    handshake: list[tuple[int, HandshakeEntry]] = []
    if sender == "client":
        flight, after_hello, after_finished = _CLIENT_HELLO_FLIGHT, _CLIENT_FINISH_FLIGHT, _CLIENT_DATA
        last_of_hello = HandshakeType.CLIENT_HELLO
    else:
        flight, after_hello, after_finished = _SERVER_HELLO_FLIGHT, _SERVER_FINISH_FLIGHT, _SERVER_DATA
        last_of_hello = HandshakeType.SERVER_HELLO_DONE
    for index, record in enumerate(records):
        encrypted = protection is not None
        sequence_number = protection.sequence_number if protection is not None else None
        plaintext = protection.open_record(record) if protection is not None else record.fragment
        record_flight = flight
        decoded: list[Any] = []
        content_type = record.content_type
        if content_type == ContentType.HANDSHAKE:
            for msg_type, raw in reader.feed(plaintext):
                message = decode_handshake(raw, key_exchange=suite.key_exchange)
                decoded.append(message)
                handshake.append((flight, HandshakeEntry(sender, msg_type, raw, message, encrypted)))
                if msg_type == last_of_hello:
                    flight = after_hello
                elif msg_type == HandshakeType.FINISHED:
                    flight = after_finished
        elif content_type == ContentType.CHANGE_CIPHER_SPEC:
            decoded.append(decode_change_cipher_spec(plaintext))
            if reader.has_partial_message:
                # RFC 5246 §7.1: ChangeCipherSpec must fall on a handshake message boundary.
                raise UnexpectedMessage(f"the {sender}'s ChangeCipherSpec splits a handshake message")
            if protection is not None:
                raise UnexpectedMessage(f"the {sender} sent a second ChangeCipherSpec (renegotiation)")
            mac_key, key, iv = keys.write_keys(sender)
            protection = RecordProtection(suite, key, iv, mac_key, encrypt_then_mac=etm)
        elif content_type == ContentType.ALERT:
            decoded.append(decode_alert(plaintext))
            if flight >= _CLIENT_DATA:
                record_flight = _CLIENT_CLOSE if sender == "client" else _SERVER_CLOSE
        out.append(
            DecryptedRecord(
                sender=sender,
                content_type=content_type,
                plaintext=plaintext,
                record=record,
                encrypted=encrypted,
                sequence_number=sequence_number,
                messages=tuple(decoded),
                index=index,
                flight=record_flight,
            )
        )
    return out, handshake


def analyze_capture(
    client_to_server: bytes, server_to_client: bytes, keylog: str | os.PathLike[str] | KeyLog
) -> CapturedSession:
    """Open a captured TLS 1.2 session: decrypt every record and check both Finished messages."""
    log = keylog if isinstance(keylog, KeyLog) else KeyLog.load(keylog)
    client_records = _records_of(client_to_server, "client")
    server_records = _records_of(server_to_client, "server")

    ch_type, ch_raw = _first_message(client_records, "client")
    sh_type, sh_raw = _first_message(server_records, "server")
    if ch_type != HandshakeType.CLIENT_HELLO:
        raise DecodeError("the client's first handshake message is not a ClientHello")
    if sh_type != HandshakeType.SERVER_HELLO:
        raise DecodeError("the server's first handshake message is not a ServerHello")
    client_hello = decode_handshake(ch_raw)
    server_hello = decode_handshake(sh_raw)
    assert isinstance(client_hello, ClientHello) and isinstance(server_hello, ServerHello)
    suite = suite_info(server_hello.cipher_suite)

    master = log.master_secret_for(client_hello.random)  # KeyLogError names the client random
    keys = key_block(master, client_hello.random, server_hello.random, suite)
    etm = bool(server_hello.encrypt_then_mac) and not suite.is_aead
    session_keys = (suite, keys, etm)

    client_out, client_handshake = _walk_direction("client", client_records, session_keys)
    server_out, server_handshake = _walk_direction("server", server_records, session_keys)

    ordered = sorted(
        [*client_handshake, *server_handshake],
        key=lambda item: item[0],  # stable: keeps each direction's own order within a flight
    )
    handshake = tuple(entry for _, entry in ordered)

    finished: dict[str, tuple[bytes, bytes]] = {}
    transcript = bytearray()
    for entry in handshake:
        if isinstance(entry.message, Finished):
            expected = verify_data(
                master, entry.sender, transcript_hash(bytes(transcript), suite.prf_hash), suite.prf_hash
            )
            finished[entry.sender] = (entry.message.verify_data, expected)
            if entry.message.verify_data != expected:
                raise DecryptError(
                    f"the {entry.sender}'s Finished does not match the transcript "
                    f"(got {entry.message.verify_data.hex()}, computed {expected.hex()})"
                )
        transcript += entry.raw

    records = tuple(sorted([*client_out, *server_out], key=lambda r: r.flight))
    return CapturedSession(
        records=records,
        handshake=handshake,
        client_hello=client_hello,
        server_hello=server_hello,
        suite=suite,
        master_secret=master,
        key_block=keys,
        extended_master_secret=bool(server_hello.extended_master_secret),
        encrypt_then_mac=etm,
        finished=finished,
    )


def decrypt_capture(
    client_to_server: bytes, server_to_client: bytes, keylog: str | os.PathLike[str]
) -> list[DecryptedRecord]:
    """Decrypt a captured TLS 1.2 session.

    ``client_to_server`` and ``server_to_client`` are every byte each side sent;
    ``keylog`` is an NSS key log's text or a path to it. Returns every record, decrypted,
    with its decoded messages. Raises :class:`~httpslab.errors.KeyLogError` naming the client
    random when the key log does not hold the session, and
    :class:`~httpslab.errors.BadRecordMac` when a record was tampered with.
    """
    return list(analyze_capture(client_to_server, server_to_client, keylog).records)
