"""The transcript of a TLS 1.2 connection: every record and message, in order, with its bytes.

A :class:`Transcript` is what the notebooks draw as a message ladder. Each
:class:`TranscriptEntry` says who sent it (``"client"`` or ``"server"``), what it is
(``kind``), its raw bytes and its decoded form. Records are listed as they cross the wire;
the handshake messages, ChangeCipherSpec, alerts and application data carried inside them
follow their record. Once encryption starts a record entry holds both its ``ciphertext``
(the fragment on the wire) and its ``plaintext``.

``secrets`` keeps, for teaching, what the key schedule produced (RFC 5246 §8.1 and §6.3,
RFC 7627): the randoms, the premaster secret, the master secret, the key block. These are
real session secrets: whoever holds a transcript can decrypt the session. :meth:`keylog`
writes the master secret in the NSS key log format so that Wireshark can decrypt a capture.

A bulk transfer would make the transcript hold every byte twice or three times (records,
ciphertexts, plaintexts). ``application_data_limit`` caps that: once a direction has carried
more application data than the limit, its further application-data records are counted in
``elided`` instead of being kept (handshake messages, alerts and ChangeCipherSpec are always
kept). The connection sets 1 MiB by default (``TLSConfig.transcript_application_data_limit``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from .keylog import KeyLog

__all__ = ["EntryKind", "Secrets", "Sender", "Transcript", "TranscriptEntry"]

Sender = Literal["client", "server"]
EntryKind = Literal["record", "handshake", "change_cipher_spec", "alert", "application_data"]


@dataclass(frozen=True)
class TranscriptEntry:
    """One thing that crossed the wire.

    - ``kind == "record"``: ``raw`` is the whole record (5-byte header + fragment);
      ``ciphertext``/``plaintext`` are set once the record is protected (``plaintext`` is the
      fragment itself while it is not);
    - ``kind == "handshake"``: ``raw`` is the message with its 4-byte header, exactly the
      bytes the Finished hash covers; ``decoded`` the message object;
    - ``"change_cipher_spec"``, ``"alert"``, ``"application_data"``: ``raw`` is the
      plaintext content, ``decoded`` an :class:`~httpslab.enums.AlertDescription` for alerts.
    """

    index: int
    sender: Sender
    kind: EntryKind
    name: str
    raw: bytes
    decoded: Any = None
    plaintext: bytes | None = None
    ciphertext: bytes | None = None
    #: True for records protected by the negotiated keys (after ChangeCipherSpec)
    encrypted: bool = False
    #: a short explanation for the ladder ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 chosen", ...)
    note: str = ""

    def __repr__(self) -> str:
        extra = " encrypted" if self.encrypted else ""
        return f"<{self.index} {self.sender} {self.kind} {self.name} {len(self.raw)} bytes{extra}>"


@dataclass
class Secrets:
    """What the key schedule produced, kept for teaching (RFC 5246 §8.1, §6.3; RFC 7627)."""

    client_random: bytes | None = None
    server_random: bytes | None = None
    cipher_suite: Any = None
    premaster_secret: bytes | None = None
    #: True when the master secret is the extended master secret of RFC 7627
    extended_master_secret: bool = False
    #: RFC 7627 §3: hash of the handshake messages through ClientKeyExchange (EMS only)
    session_hash: bytes | None = None
    master_secret: bytes | None = None
    #: a :class:`httpslab.crypto.keyschedule.KeyBlock`
    key_block: Any = None
    encrypt_then_mac: bool = False

    def wipe(self) -> None:
        """Forget every secret (keeps the randoms and the suite, which were public)."""
        self.premaster_secret = None
        self.session_hash = None
        self.master_secret = None
        self.key_block = None


@dataclass
class Transcript:
    """Every record and message of one connection, in wire order, plus the session secrets.

    Seen from one endpoint: ``entries`` list what it sent and what it received.
    """

    entries: list[TranscriptEntry] = field(default_factory=list)
    secrets: Secrets = field(default_factory=Secrets)
    #: application data kept per direction, in bytes of plaintext (None: keep everything)
    application_data_limit: int | None = None
    #: application data *not* kept because of the limit: sender -> [records, plaintext bytes]
    elided: dict[str, list[int]] = field(default_factory=lambda: {"client": [0, 0], "server": [0, 0]})
    _kept: dict[str, int] = field(default_factory=lambda: {"client": 0, "server": 0}, repr=False)

    def keeps_application_data(self, sender: Sender, length: int) -> bool:
        """Whether the next application-data record of ``length`` plaintext bytes is kept.

        Records past the limit are counted in :attr:`elided` (once one is elided, all later
        ones from that sender are too, so the kept entries stay a prefix of the stream).
        """
        limit = self.application_data_limit
        if limit is None:
            return True
        kept = self._kept[sender]
        if kept >= 0 and kept + length <= limit:
            self._kept[sender] = kept + length
            return True
        self._kept[sender] = -1
        elided = self.elided[sender]
        elided[0] += 1
        elided[1] += length
        return False

    def add(self, sender: Sender, kind: EntryKind, name: str, raw: bytes, **fields: Any) -> TranscriptEntry:
        entry = TranscriptEntry(len(self.entries), sender, kind, name, bytes(raw), **fields)
        self.entries.append(entry)
        return entry

    def __iter__(self) -> Iterator[TranscriptEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    # views ----------------------------------------------------------------------------------
    def records(self) -> list[TranscriptEntry]:
        return [e for e in self.entries if e.kind == "record"]

    def messages(self) -> list[TranscriptEntry]:
        """Everything but the records: handshake messages, ChangeCipherSpec, alerts, data."""
        return [e for e in self.entries if e.kind != "record"]

    def handshake_messages(self) -> list[TranscriptEntry]:
        return [e for e in self.entries if e.kind == "handshake"]

    def find(self, name: str, sender: Sender | None = None) -> TranscriptEntry:
        """The first message called ``name`` (e.g. ``"ServerHello"``); KeyError if absent."""
        for entry in self.entries:
            if entry.name == name and entry.kind != "record" and (sender is None or entry.sender == sender):
                return entry
        raise KeyError(name)

    # exports ---------------------------------------------------------------------------------
    def keylog(self) -> str:
        """The NSS key log line for this session (``CLIENT_RANDOM <random> <master secret>``)."""
        log = KeyLog()
        if self.secrets.client_random is not None and self.secrets.master_secret is not None:
            log.add_master_secret(self.secrets.client_random, self.secrets.master_secret)
        return log.dumps()

    def summary(self) -> str:
        """A text ladder: client messages on the left, server messages on the right."""
        width = 44
        lines = [f"{'client':<{width}}{'server':>{width}}"]
        for entry in self.messages():
            label = entry.name
            if entry.kind == "application_data":
                label = f"application data ({len(entry.raw)} bytes)"
            if entry.encrypted:
                label += " [encrypted]"
            if entry.note:
                label += f"  ({entry.note})"
            if entry.sender == "client":
                lines.append(f"{label}  --->")
            else:
                lines.append(f"{'<---  ' + label:>{2 * width}}")
        for sender, (records, length) in self.elided.items():
            if records:
                lines.append(
                    f"({records} more {sender} application-data records, {length} bytes, not kept: "
                    f"application_data_limit={self.application_data_limit})"
                )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Transcript {len(self.records())} records, {len(self.messages())} messages>"
