"""What the client and the server of TLS 1.2 share (RFC 5246): records, alerts, ChangeCipherSpec, Finished, close.

The handshake runs on the transition tables of :mod:`httpslab.connection.tables`; record and
alert policing is :mod:`httpslab.connection.policing`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, NoReturn

from cryptography import x509

from ..crypto import keyexchange, keyschedule
from ..crypto.suites import SuiteInfo
from ..enums import (
    AlertDescription,
    AlertLevel,
    CipherSuite,
    ContentType,
    HandshakeType,
    NamedGroup,
    ProtocolVersion,
)
from ..errors import (
    AlertReceived,
    CertificateError,
    DecryptError,
    HandshakeFailure,
    InternalError,
    LocalProtocolError,
    NotTLSError,
    ProtocolError,
    RemoteProtocolError,
    TLSError,
    UnexpectedMessage,
)
from ..messages import (
    Alert,
    Certificate,
    CertificateVerify,
    ClientHello,
    Finished,
    HandshakeReader,
    ServerECDHParams,
    ServerHello,
    ServerKeyExchange,
    decode_alert,
    decode_change_cipher_spec,
    decode_handshake,
    encode_alert,
    encode_change_cipher_spec,
    encode_handshake,
)
from ..record import (
    MAX_PLAINTEXT_LENGTH,
    RECORD_HEADER_LENGTH,
    Record,
    RecordProtection,
    RecordReader,
    check_plaintext,
    fragment_data,
)
from ..transcript import Transcript
from .certificates import leaf_public_key, parse_certificates, rejection, verify_peer_chain
from .config import TLS12, DirectionKeys, LiveSecrets, TLSConfig
from .events import ApplicationData, ConnectionClosed, Event, HandshakeComplete, WarningAlertReceived
from .policing import (
    CallerRecordProtection,
    RecordLayerState,
    alert_name,
    check_decrypted_length,
    content_name,
    refuse_record_between_change_cipher_spec_and_finished,
    refuse_record_inside_handshake_message,
)
from .tables import MessageKind, Role, State, message_name, next_states

#: a handshake message handler: (connection, decoded message, handshake log before it) -> next state
Handler = Callable[[Any, Any, bytes], State]

__all__ = ["TLSConnection", "code_name", "draw_ecdhe_private_key"]


class TLSConnection:
    """What client and server share: records, alerts, ChangeCipherSpec, Finished, close.

    Use :class:`ClientConnection` or :class:`ServerConnection`.
    """

    role: ClassVar[Role]
    #: the handler of each handshake message this role receives; it returns the next state
    HANDLERS: ClassVar[Mapping[HandshakeType, Handler]]

    def __init__(self, config: TLSConfig | None = None) -> None:
        self.config = config if config is not None else TLSConfig()
        self.state = State.START
        self.transcript = Transcript(application_data_limit=self.config.transcript_application_data_limit)
        self.suite: SuiteInfo | None = None
        self.version: ProtocolVersion | None = None
        self.client_random: bytes | None = None
        self.server_random: bytes | None = None
        self.extended_master_secret = False
        self.encrypt_then_mac = False
        self.server_name: str | None = None
        #: the protocol ALPN agreed on (RFC 7301), as bytes; None when there was none
        self.alpn_protocol: bytes | None = None
        self.peer_certificates: tuple[x509.Certificate, ...] = ()
        #: the error that ended the connection, if any
        self.error: TLSError | None = None
        #: expected_version is set once the peer's hello was read: from then on every record
        #: must carry TLS 1.2, checked before anything else in its header
        self._records = RecordReader(plaintext=True, on_wrong_version=self._wrong_record_version)
        self._record_layer = RecordLayerState(self.peer)
        self._handshake_reader = HandshakeReader()
        self._handshake_log = bytearray()
        self._outgoing = bytearray()
        self._events: list[Event] = []
        self._master_secret: bytes | None = None
        self._key_block: keyschedule.KeyBlock | None = None
        self._read_protection: Any = None
        self._write_protection: Any = None
        self._pending_read: Any = None
        self._pending_write: Any = None
        #: the :class:`~httpslab.pki.verify.VerificationReport` of the peer's chain, once checked
        self.verification_report: Any = None
        # set once both Finished messages verified; a close that follows does not undo it
        self._handshake_completed = False

    # -- public surface -------------------------------------------------------------
    @property
    def peer(self) -> Role:
        return "server" if self.role == "client" else "client"

    @property
    def handshake_complete(self) -> bool:
        """True once both Finished messages verified (RFC 5246 §7.4.9), and from then on.

        It stays True after the connection closed: a peer whose close_notify arrives with its
        Finished (in one ``receive_data``) completed the handshake and then closed; ``state``
        is then CLOSED and the events are HandshakeComplete, ConnectionClosed.
        """
        return self._handshake_completed

    @property
    def cipher_suite(self) -> CipherSuite | None:
        return self.suite.suite if self.suite else None

    @property
    def write_protection(self) -> Any:
        """The record protection sealing what this side sends (None before ChangeCipherSpec).

        Read-only; once the connection is closed it is wiped, and its ``seal`` refuses to
        work (:class:`LocalProtocolError`).
        """
        return self._write_protection

    @property
    def read_protection(self) -> Any:
        """The record protection opening what the peer sends (None before its ChangeCipherSpec)."""
        return self._read_protection

    def live_secrets(self) -> LiveSecrets:
        """Copies of the master secret, key block and cipher keys this connection holds now.

        All None (and ``wiped`` True) before the keys are derived and after ``close``: the
        connection wipes them as soon as it no longer needs them.
        """
        key_block = self._key_block
        write_key = read_key = None
        if key_block is not None:
            write_key = bytes(key_block.write_keys(self.role)[1])
            read_key = bytes(key_block.write_keys(self.peer)[1])
        protections = [p for p in (self._write_protection, self._read_protection) if p is not None]
        wiped = not protections or all(protection.wiped for protection in protections)
        master = self._master_secret
        return LiveSecrets(
            master_secret=bytes(master) if master is not None else None,
            key_block=bytes(key_block.key_block) if key_block is not None else None,
            write_key=write_key,
            read_key=read_key,
            wiped=wiped,
        )

    def data_to_send(self) -> bytes:
        """Everything queued for the wire since the last call (records, alerts included)."""
        data = bytes(self._outgoing)
        self._outgoing.clear()
        return data

    def receive_data(self, data: bytes) -> list[Event]:
        """Process bytes from the peer; return the events they produced.

        ``b""`` means the byte stream ended. On a protocol error the fatal alert is queued
        in :meth:`data_to_send` and the error is raised (flush, then handle it).
        """
        if self.state is State.ERROR:
            raise LocalProtocolError(
                "this connection already failed; it cannot be used any more"
            ) from self.error
        if self.state is State.CLOSED:
            return []
        self._events = []
        try:
            if not data:
                self._end_of_stream()
            else:
                for record in self._records.feed(data):
                    self._receive_record(record)
                    if self.state in (State.CLOSED, State.ERROR):
                        break
        except (AlertReceived, NotTLSError) as exc:  # a fatal alert is not answered; nor is not-TLS
            self._fail(exc, send_alert=False)
            raise
        except RemoteProtocolError as exc:
            self._fail(exc)
            raise
        except InternalError as exc:
            self._fail(exc)
            raise
        except ProtocolError as exc:
            # The one place where a local error becomes a remote one (h11's rule): whatever
            # went wrong while processing the peer's bytes was caused by those bytes.
            remote = RemoteProtocolError(
                str(exc.args[0]) if exc.args else type(exc).__name__, alert=exc.alert
            )
            self._fail(remote)
            raise remote from exc
        except TLSError as exc:
            alert = (
                AlertDescription.BAD_CERTIFICATE
                if isinstance(exc, CertificateError)
                else AlertDescription.INTERNAL_ERROR
            )
            remote = RemoteProtocolError(str(exc), alert=alert)
            self._fail(remote)
            raise remote from exc
        except Exception as exc:  # a caller's primitive or a bug: never leak a bare ValueError
            internal = InternalError(f"{type(exc).__name__}: {exc}")
            self._fail(internal)
            raise internal from exc
        return self._events

    def send_data(self, data: bytes) -> None:
        """Queue application data (split into records of at most 2^14 bytes)."""
        if self.state is not State.CONNECTED:
            raise LocalProtocolError(f"cannot send application data in state {self.state.name}")
        protection = self._write_protection
        if type(protection) is RecordProtection:
            self._send_data_in_place(protection, data)
            return
        for fragment in fragment_data(ContentType.APPLICATION_DATA, bytes(data)):
            if self.transcript.keeps_application_data(self.role, len(fragment)):
                self._write_record(ContentType.APPLICATION_DATA, fragment)
                self.transcript.add(
                    self.role, "application_data", "application data", fragment, encrypted=True
                )
            else:
                self._write_record(ContentType.APPLICATION_DATA, fragment, note=False)

    def _send_data_in_place(self, protection: RecordProtection, data: bytes) -> None:
        """The bulk path: every record sealed straight into one output buffer (seal_into)."""
        view = memoryview(data).cast("B")
        total = len(view)
        version = int(TLS12)
        application_data = ContentType.APPLICATION_DATA
        starts = range(0, total, MAX_PLAINTEXT_LENGTH) if total else range(1)  # b"": one empty record
        output = bytearray(protection.record_length(MAX_PLAINTEXT_LENGTH) * len(starts))
        offset = 0
        try:
            with memoryview(output) as output_view:
                for start in starts:
                    plaintext = view[start : start + MAX_PLAINTEXT_LENGTH]
                    written = protection.seal_into(output_view, offset, application_data, version, plaintext)
                    if self.transcript.keeps_application_data(self.role, len(plaintext)):
                        raw = bytes(output_view[offset : offset + written])
                        kept = bytes(plaintext)
                        record = Record(application_data, version, raw[RECORD_HEADER_LENGTH:])
                        self._note_record(self.role, record, raw, kept, True)
                        self.transcript.add(
                            self.role, "application_data", "application data", kept, encrypted=True
                        )
                    offset += written
        finally:  # what was sealed is queued, even if a later record failed
            try:
                del output[offset:]
            except BufferError:  # a view into it is still held (by a traceback)
                output = bytearray(memoryview(output)[:offset])
            if self._outgoing:
                self._outgoing += output
            else:
                self._outgoing = output

    def close(self) -> None:
        """Queue close_notify (RFC 5246 §7.2.1) and wipe the keys. Safe to call twice."""
        if self.state in (State.CLOSED, State.ERROR):
            return
        self._send_alert(AlertLevel.WARNING, AlertDescription.CLOSE_NOTIFY)
        self._record_layer.close_notify_sent = True
        self.state = State.CLOSED
        self._wipe()

    # -- records ------------------------------------------------------------------
    def _receive_record(self, record: Record) -> None:
        if record.content_type == ContentType.APPLICATION_DATA and self._read_protection is not None:
            self._receive_application_data(record)
            return
        raw = record.encode()
        encrypted = self._read_protection is not None
        if encrypted:
            plaintext = self._read_protection.open(record.content_type, record.version, record.fragment)
            check_decrypted_length(plaintext)
            if not plaintext:  # a learner's record_open need not check it: an empty alert or CCS
                check_plaintext(record.content_type, plaintext)
        else:
            plaintext = record.fragment
        self._record_layer.count_record(record.content_type, plaintext)
        self._note_record(self.peer, record, raw, plaintext, encrypted)
        content_type = record.content_type
        if content_type == ContentType.HANDSHAKE:
            for kind, message in self._handshake_reader.feed(plaintext):
                self._receive_handshake(kind, message, encrypted)
                if self.state in (State.CLOSED, State.ERROR):
                    return
            return
        if self.state is State.WAIT_FINISHED:
            refuse_record_between_change_cipher_spec_and_finished(self.peer, content_type)
        if self._handshake_reader.has_partial_message and content_type != ContentType.ALERT:
            refuse_record_inside_handshake_message(content_type)
        if content_type == ContentType.ALERT:
            self._receive_alert(plaintext, encrypted)
        elif content_type == ContentType.CHANGE_CIPHER_SPEC:
            decode_change_cipher_spec(plaintext)
            self.transcript.add(self.peer, "change_cipher_spec", "ChangeCipherSpec", plaintext)
            self._advance(ContentType.CHANGE_CIPHER_SPEC, self._on_change_cipher_spec)
        elif content_type == ContentType.APPLICATION_DATA:
            next_states(self.role, self.state, ContentType.APPLICATION_DATA)
            self.transcript.add(self.peer, "application_data", "application data", plaintext, encrypted=True)
            if plaintext:
                self._events.append(ApplicationData(plaintext))
        else:  # pragma: no cover - RecordReader refuses other types already
            raise UnexpectedMessage(f"record content type {content_type} is not allowed")

    def _wrong_record_version(self, content_type: int, version: int) -> NoReturn:
        """Called by the RecordReader for a record header after the hellos with another version."""
        self._record_layer.refuse_wrong_record_version(
            content_type, version, write_protected=self._write_protection is not None
        )

    def _receive_application_data(self, record: Record) -> None:
        """A protected application-data record (the bulk path: no work the transcript does not keep)."""
        plaintext = self._read_protection.open(record.content_type, record.version, record.fragment)
        check_decrypted_length(plaintext)
        record_layer = self._record_layer
        if plaintext:  # count_record inlined for the bulk path: a non-empty record resets both counts
            record_layer.empty_records = 0
            record_layer.warning_alerts = 0
        else:
            record_layer.count_record(ContentType.APPLICATION_DATA, plaintext)
        keep = self.transcript.keeps_application_data(self.peer, len(plaintext))
        if keep:
            self._note_record(self.peer, record, record.encode(), plaintext, True)
        if self._handshake_reader.has_partial_message:
            refuse_record_inside_handshake_message(ContentType.APPLICATION_DATA)
        next_states(self.role, self.state, ContentType.APPLICATION_DATA)
        if keep:
            self.transcript.add(self.peer, "application_data", "application data", plaintext, encrypted=True)
        if plaintext:
            self._events.append(ApplicationData(plaintext))

    def _note_record(
        self, sender: Role, record: Record, raw: bytes, plaintext: bytes, encrypted: bool
    ) -> None:
        """The transcript entry of a record that crossed the wire (``raw`` = header || fragment)."""
        self.transcript.add(
            sender,
            "record",
            f"{content_name(record.content_type)} record",
            raw,
            decoded=record,
            plaintext=plaintext,
            ciphertext=record.fragment if encrypted else None,
            encrypted=encrypted,
        )

    def _write_record(self, content_type: ContentType, plaintext: bytes, *, note: bool = True) -> None:
        version = self._record_layer.record_version_out
        encrypted = self._write_protection is not None
        if encrypted:
            fragment = self._write_protection.seal(content_type, version, plaintext)
            record = Record(content_type, version, fragment)
        else:
            record = Record(content_type, version, plaintext)
        raw = record.encode()
        self._outgoing += raw
        if note:
            self._note_record(self.role, record, raw, plaintext, encrypted)

    # -- handshake messages ---------------------------------------------------------
    def _receive_handshake(self, kind: HandshakeType | int, raw: bytes, encrypted: bool) -> None:
        if not isinstance(kind, HandshakeType):
            raise UnexpectedMessage(f"handshake message type {kind} is not part of TLS 1.2")
        if (
            kind == HandshakeType.HELLO_REQUEST
            and self.role == "client"
            and self.state is not State.CONNECTED
            and len(raw) == 4
        ):
            # Ignored while negotiating, and not hashed (RFC 5246 §7.4.1.1; docs/openssl-parity.md).
            self.transcript.add(
                self.peer,
                "handshake",
                "HelloRequest",
                raw,
                decoded=decode_handshake(raw),
                encrypted=encrypted,
                note="ignored: the client is negotiating (RFC 5246 §7.4.1.1)",
            )
            return
        allowed = next_states(self.role, self.state, kind)
        key_exchange = self.suite.key_exchange if self.suite else None
        message = decode_handshake(raw, key_exchange=key_exchange)
        name = message_name(kind)
        self.transcript.add(
            self.peer, "handshake", name, raw, decoded=message, encrypted=encrypted, note=_note(message)
        )
        if self.state is State.CONNECTED:
            # HelloRequest / a renegotiating ClientHello: not part of the handshake hash.
            self._refuse_renegotiation(name)
            return
        transcript_before = bytes(self._handshake_log)
        self._handshake_log += raw
        handler = self.HANDLERS.get(kind)
        if handler is None:  # pragma: no cover - tests check that every table entry has a handler
            raise InternalError(f"the {self.role} has no handler for {name}")
        new_state = handler(self, message, transcript_before)
        if new_state not in allowed:
            raise InternalError(
                f"{name} moved the {self.role} to {new_state.name}, which the table does not allow"
            )
        if self.state not in (State.CLOSED, State.ERROR):
            self.state = new_state

    def _advance(self, kind: MessageKind, handler: Callable[[], State]) -> None:
        allowed = next_states(self.role, self.state, kind)
        new_state = handler()
        if new_state not in allowed:
            raise InternalError(
                f"{message_name(kind)} moved the {self.role} to {new_state.name}, not allowed"
            )
        self.state = new_state

    def _send_handshake(self, message: Any) -> bytes:
        raw = encode_handshake(message)
        if self.state is not State.CONNECTED:
            self._handshake_log += raw
        for fragment in fragment_data(ContentType.HANDSHAKE, raw):
            self._write_record(ContentType.HANDSHAKE, fragment)
        self.transcript.add(
            self.role,
            "handshake",
            message_name(message.handshake_type),
            raw,
            decoded=message,
            encrypted=self._write_protection is not None,
            note=_note(message),
        )
        return raw

    def _refuse_renegotiation(self, name: str) -> None:
        # RFC 5746 §4.2/§4.4 and RFC 5246 §7.2.2: a peer that does not renegotiate may answer
        # with a no_renegotiation warning alert; httpslab never renegotiates.
        self._send_alert(AlertLevel.WARNING, AlertDescription.NO_RENEGOTIATION)

    # -- alerts ---------------------------------------------------------------------
    def _receive_alert(self, plaintext: bytes, encrypted: bool) -> None:
        alert = decode_alert(plaintext)
        description = alert.description
        name = alert_name(description)
        self.transcript.add(
            self.peer, "alert", f"Alert {name}", plaintext, decoded=alert, encrypted=encrypted
        )
        if not alert.is_fatal:
            self._record_layer.count_warning_alert()
        if description == AlertDescription.CLOSE_NOTIFY:
            if self.state is not State.CONNECTED:
                # The handshake failed: an error, not a clean close, and no reply (RFC 5246 §7.2.1).
                raise AlertReceived(
                    description,
                    int(alert.level),
                    message=f"the {self.peer} closed the connection (close_notify) during the "
                    f"handshake (state {self.state.name}); the handshake did not complete",
                )
            # RFC 5246 §7.2.1: "the other party MUST respond with a close_notify alert of its own"
            if not self._record_layer.close_notify_sent:
                self._send_alert(AlertLevel.WARNING, AlertDescription.CLOSE_NOTIFY)
                self._record_layer.close_notify_sent = True
            self.state = State.CLOSED
            self._wipe()
            self._events.append(ConnectionClosed(by_peer=True, clean=True))
            return
        if not isinstance(description, AlertDescription):
            if alert.is_fatal:
                raise RemoteProtocolError(
                    f"the {self.peer} sent a fatal alert with the unknown description {description}",
                    alert=AlertDescription.ILLEGAL_PARAMETER,
                )
        elif alert.is_fatal:
            # A fatal alert ends the connection (RFC 5246 §7.2.2).
            raise AlertReceived(description, int(alert.level))
        elif description == AlertDescription.NO_RENEGOTIATION and self.state is not State.CONNECTED:
            # The peer refused the negotiation under way (RFC 5246 §7.2.2; as OpenSSL 3.0).
            raise HandshakeFailure(f"the {self.peer} refused the handshake with a no_renegotiation warning")
        # A warning is reported and the connection goes on (RFC 5246 §7.2); once connected that
        # includes no_renegotiation, since we never ask to renegotiate (a difference from OpenSSL).
        self._events.append(WarningAlertReceived(description))

    def _send_alert(self, level: AlertLevel, description: AlertDescription) -> None:
        body = encode_alert(Alert(level=level, description=description))
        encrypted = self._write_protection is not None
        self._write_record(ContentType.ALERT, body)
        self.transcript.add(
            self.role,
            "alert",
            f"Alert {alert_name(description)}",
            body,
            decoded=Alert(level, description),
            encrypted=encrypted,
        )

    def _end_of_stream(self) -> None:
        """The transport closed without close_notify."""
        if self.state is State.CONNECTED:
            self.state = State.CLOSED
            self._wipe()
            self._events.append(ConnectionClosed(by_peer=True, clean=False))
            return
        raise RemoteProtocolError(
            f"the {self.peer} closed the connection during the handshake (state {self.state.name})",
            alert=AlertDescription.HANDSHAKE_FAILURE,
        )

    def _fail(self, error: TLSError, *, send_alert: bool = True) -> None:
        self.error = error
        if self._record_layer.fail_silently:
            send_alert = False
        if send_alert and isinstance(error, ProtocolError) and self.state not in (State.CLOSED, State.ERROR):
            try:
                self._send_alert(AlertLevel.FATAL, error.alert)
            except TLSError:
                pass
        self.state = State.ERROR
        self._wipe()

    def _wipe(self) -> None:
        for protection in (
            self._read_protection,
            self._write_protection,
            self._pending_read,
            self._pending_write,
        ):
            if protection is not None:
                protection.wipe()
        self._pending_read = self._pending_write = None
        self._master_secret = None
        self._key_block = None
        self._forget_ephemeral()

    def _forget_ephemeral(self) -> None:
        """Drop ephemeral private keys (subclasses hold them)."""

    # -- key schedule ---------------------------------------------------------------
    def _random(self, length: int) -> bytes | None:
        if self.config.random is None:
            return None
        value = bytes(self.config.random(length))
        if len(value) != length:
            raise InternalError(f"TLSConfig.random returned {len(value)} bytes, not {length}")
        return value

    def _prf(self, secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
        assert self.suite is not None
        function = self.config.primitives.prf or keyschedule.prf
        value = bytes(function(secret, label, seed, length, self.suite.prf_hash))
        if len(value) != length:
            raise InternalError(f"the PRF returned {len(value)} bytes, not {length}")
        return value

    def _handshake_hash(self, data: bytes) -> bytes:
        assert self.suite is not None
        return keyschedule.transcript_hash(data, self.suite.prf_hash)

    def _derive_keys(self, premaster_secret: bytes) -> None:
        """Master secret (RFC 5246 §8.1 or RFC 7627 §4) and key block (§6.3), both directions."""
        suite = self.suite
        assert suite is not None and self.client_random and self.server_random
        custom_prf = self.config.primitives.prf is not None
        session_hash = None
        if self.extended_master_secret:
            # RFC 7627 §3: the hash of the handshake messages up to and including ClientKeyExchange
            session_hash = self._handshake_hash(bytes(self._handshake_log))
            if custom_prf:
                master = self._prf(premaster_secret, b"extended master secret", session_hash, 48)
            else:
                master = keyschedule.extended_master_secret(premaster_secret, session_hash, suite.prf_hash)
        elif custom_prf:
            master = self._prf(
                premaster_secret, b"master secret", self.client_random + self.server_random, 48
            )
        else:
            master = keyschedule.master_secret(
                premaster_secret, self.client_random, self.server_random, suite.prf_hash
            )
        if custom_prf:
            block = self._prf(
                master, b"key expansion", self.server_random + self.client_random, suite.key_block_length
            )
            sizes = [suite.mac_length] * 2 + [suite.enc_key_length] * 2 + [suite.fixed_iv_length] * 2
            pieces, offset = [], 0
            for size in sizes:
                pieces.append(block[offset : offset + size])
                offset += size
            key_block = keyschedule.KeyBlock(*pieces, key_block=block)
        else:
            key_block = keyschedule.key_block(master, self.client_random, self.server_random, suite)
        self._master_secret = master
        self._key_block = key_block
        secrets = self.transcript.secrets
        secrets.extended_master_secret = self.extended_master_secret
        secrets.encrypt_then_mac = self.encrypt_then_mac
        if self.config.keep_secrets:
            secrets.premaster_secret = premaster_secret
            secrets.session_hash = session_hash
            secrets.master_secret = master
            secrets.key_block = key_block
        own = self.role
        self._pending_write = self._protection(own)
        self._pending_read = self._protection(self.peer)

    def _protection(self, sender: Role) -> Any:
        suite = self.suite
        assert suite is not None and self._key_block is not None
        mac_key, key, iv = self._key_block.write_keys(sender)
        primitives = self.config.primitives
        etm = self.encrypt_then_mac and not suite.is_aead
        if primitives.record_seal is not None or primitives.record_open is not None:
            return CallerRecordProtection(DirectionKeys(suite, key, iv, mac_key, etm), primitives)
        if suite.is_aead:
            return RecordProtection(
                suite, key, iv, mac_key, aead_seal=primitives.aead_seal, aead_open=primitives.aead_open
            )
        return RecordProtection(suite, key, iv, mac_key, encrypt_then_mac=etm)

    def _verify_data(self, sender: Role, handshake_messages: bytes) -> bytes:
        assert self.suite is not None and self._master_secret is not None
        handshake_hash = self._handshake_hash(handshake_messages)
        if self.config.primitives.prf is not None:
            label = b"client finished" if sender == "client" else b"server finished"
            return self._prf(self._master_secret, label, handshake_hash, keyschedule.VERIFY_DATA_LENGTH)
        return keyschedule.verify_data(self._master_secret, sender, handshake_hash, self.suite.prf_hash)

    # -- ChangeCipherSpec and Finished (both roles) -----------------------------------
    def _send_change_cipher_spec_and_finished(self) -> None:
        body = encode_change_cipher_spec()
        self._write_record(ContentType.CHANGE_CIPHER_SPEC, body)
        self.transcript.add(self.role, "change_cipher_spec", "ChangeCipherSpec", body)
        # RFC 5246 §7.1: the pending write state becomes current right after ChangeCipherSpec.
        self._write_protection, self._pending_write = self._pending_write, None
        verify_data = self._verify_data(self.role, bytes(self._handshake_log))
        self._send_handshake(Finished(verify_data=verify_data))

    def _on_change_cipher_spec(self) -> State:
        if self._pending_read is None:
            raise UnexpectedMessage("ChangeCipherSpec before the keys were agreed")
        self._read_protection, self._pending_read = self._pending_read, None
        self._records.plaintext = False
        return State.WAIT_FINISHED

    def _check_finished(self, message: Finished, transcript_before: bytes) -> None:
        expected = self._verify_data(self.peer, transcript_before)
        if not hmac.compare_digest(expected, message.verify_data):
            # RFC 5246 §7.4.9: "Recipients of Finished messages MUST verify that the contents
            # are correct." decrypt_error, as OpenSSL.
            raise DecryptError(
                f"the {self.peer}'s Finished does not match: expected {expected.hex()}, "
                f"got {message.verify_data.hex()} (the two sides derived different keys, "
                "or the handshake was tampered with)"
            )

    def _complete(self) -> None:
        assert self.suite is not None
        self._handshake_completed = True
        self._events.append(
            HandshakeComplete(
                version=TLS12,
                cipher_suite=self.suite.suite,
                extended_master_secret=self.extended_master_secret,
                encrypt_then_mac=self.encrypt_then_mac and not self.suite.is_aead,
                server_name=self.server_name,
                peer_certificates=self.peer_certificates,
                alpn_protocol=self.alpn_protocol.decode("ascii", "replace") if self.alpn_protocol else None,
            )
        )

    # -- certificates ---------------------------------------------------------------
    def _parse_certificates(self, message: Certificate) -> list[x509.Certificate]:
        return parse_certificates(message, self.peer)

    def _leaf_public_key(self, leaf: x509.Certificate) -> Any:
        return leaf_public_key(leaf, self.peer)

    def _verify_peer_chain(self, chain: list[x509.Certificate], purpose: str) -> None:
        if not self.config.verify:
            return
        report = self.verification_report = verify_peer_chain(self.config, chain, purpose)
        if not report.ok:
            raise rejection(report, self.peer)


def code_name(value: Any) -> str:
    return value.name.lower() if hasattr(value, "name") else f"0x{int(value):04x}"


def _note(message: Any) -> str:
    """A few words for the transcript ladder: what this message decided."""
    if isinstance(message, ClientHello):
        count = len(message.cipher_suites)
        return f"{count} cipher suite{'s' if count != 1 else ''} offered"
    if isinstance(message, ServerHello):
        return code_name(message.cipher_suite).upper()
    if isinstance(message, Certificate):
        count = len(message.certificate_list)
        return f"{count} certificate{'s' if count != 1 else ''}" if count else "no certificate"
    if isinstance(message, ServerKeyExchange):
        params = message.params
        if isinstance(params, ServerECDHParams):
            kind = f"curve {code_name(params.named_curve)}"
        else:
            kind = f"{len(params.dh_p) * 8}-bit DH group"
        return f"{kind}, signed with {code_name(message.scheme)}"
    if isinstance(message, CertificateVerify):
        return f"signed with {code_name(message.scheme)}"
    if isinstance(message, Finished):
        return f"verify_data {message.verify_data.hex()}"
    return ""


def draw_ecdhe_private_key(group: NamedGroup, random: Callable[[int], bytes | None]) -> Any:
    length = keyexchange.ecdhe_point_length(group)
    length = length if group in (NamedGroup.X25519, NamedGroup.X448) else (length - 1) // 2
    for _ in range(8):
        try:
            return keyexchange.ecdhe_generate(group, random(length))
        except LocalProtocolError:
            continue  # a scalar >= n from a caller's random source: draw again
    raise InternalError(f"could not draw a {group.name} private key from TLSConfig.random")
