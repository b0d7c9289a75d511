"""Key log files in the NSS Key Log Format.

This is the format that Wireshark reads and that OpenSSL writes when an application sets a
key log callback (Python: ``SSLContext.keylog_filename``; curl and browsers: ``SSLKEYLOGFILE``).
It is defined in the NSS documentation ("NSS Key Log Format") and in
draft-ietf-tls-keylogfile. Each line is::

    <LABEL> <client_random as 64 hex digits> <secret in hex>

Lines starting with ``#`` are comments, blank lines are ignored. For TLS 1.2 the only label
is ``CLIENT_RANDOM`` and the secret is the 48-byte master secret (RFC 5246 §8.1); TLS 1.3
logs one line per traffic secret (``CLIENT_HANDSHAKE_TRAFFIC_SECRET``, ...). The historic
``RSA`` label keys the 48-byte premaster secret by the first 8 bytes of its encryption.
Labels this module does not know are kept, because the format allows new ones.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import KeyLogError

__all__ = [
    "CLIENT_RANDOM",
    "KNOWN_LABELS",
    "TLS13_LABELS",
    "KeyLog",
    "KeyLogEntry",
]

#: TLS 1.2 (and earlier): the secret is the 48-byte master secret.
CLIENT_RANDOM = "CLIENT_RANDOM"
#: Legacy NSS label: first 8 bytes of the encrypted premaster secret -> premaster secret.
RSA_LABEL = "RSA"
#: TLS 1.3 labels (RFC 8446 §7.1 secrets), one line each per connection.
TLS13_LABELS: frozenset[str] = frozenset(
    {
        "CLIENT_EARLY_TRAFFIC_SECRET",
        "EARLY_EXPORTER_SECRET",
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
        "EXPORTER_SECRET",
    }
)
KNOWN_LABELS: frozenset[str] = frozenset({CLIENT_RANDOM, RSA_LABEL, *TLS13_LABELS})

MASTER_SECRET_LENGTH = 48  # RFC 5246 §8.1
CLIENT_RANDOM_LENGTH = 32  # RFC 5246 §7.4.1.2
_RSA_KEY_LENGTH = 8  # first 8 bytes of EncryptedPreMasterSecret
_TLS13_SECRET_LENGTHS = (32, 48)  # Hash.length for SHA-256 / SHA-384 suites

_LABEL_PATTERN = re.compile(r"[A-Za-z0-9_]+")
_HEX_PATTERN = re.compile(r"(?:[0-9A-Fa-f]{2})+")


@dataclass(frozen=True)
class KeyLogEntry:
    """One line of a key log: ``label``, the connection's ``client_random`` and a ``secret``.

    For the ``RSA`` label, ``client_random`` holds the 8-byte prefix of the encrypted
    premaster secret instead (that is what the line is keyed by).
    """

    label: str
    client_random: bytes
    secret: bytes

    def __post_init__(self) -> None:
        problem = _entry_problem(self.label, self.client_random, self.secret)
        if problem:
            raise KeyLogError(problem)
        object.__setattr__(self, "client_random", bytes(self.client_random))
        object.__setattr__(self, "secret", bytes(self.secret))

    def to_line(self) -> str:
        """The line as the NSS format writes it (lower-case hex, no newline)."""
        return f"{self.label} {self.client_random.hex()} {self.secret.hex()}"


def _entry_problem(label: str, client_random: bytes, secret: bytes) -> str | None:
    """Why (label, client_random, secret) is not a valid entry, or None if it is."""
    if not isinstance(label, str) or not _LABEL_PATTERN.fullmatch(label):
        return f"label {label!r} is not a word of letters, digits and underscores"
    if not isinstance(client_random, bytes | bytearray) or not isinstance(secret, bytes | bytearray):
        return "client_random and secret must be bytes"
    key_length = _RSA_KEY_LENGTH if label == RSA_LABEL else CLIENT_RANDOM_LENGTH
    if len(client_random) != key_length:
        what = "encrypted premaster prefix" if label == RSA_LABEL else "client random"
        return f"{label}: the {what} is {len(client_random)} bytes, expected {key_length}"
    if label in (CLIENT_RANDOM, RSA_LABEL) and len(secret) != MASTER_SECRET_LENGTH:
        what = "master secret" if label == CLIENT_RANDOM else "premaster secret"
        return f"{label}: the {what} is {len(secret)} bytes, expected {MASTER_SECRET_LENGTH}"
    if label in TLS13_LABELS and len(secret) not in _TLS13_SECRET_LENGTHS:
        return f"{label}: the secret is {len(secret)} bytes, expected 32 or 48 (the hash length)"
    if not secret:
        return f"{label}: the secret is empty"
    return None


def _parse_hex(field: str, what: str, line_number: int) -> bytes:
    if not _HEX_PATTERN.fullmatch(field):
        raise KeyLogError(
            f"line {line_number}: the {what} {field[:80]!r} is not an even number of hex digits"
        )
    return bytes.fromhex(field)


class KeyLog:
    """The entries of an NSS key log, in file order, with lookups by client random.

    When the same (label, client random) appears twice the later line wins in lookups, as
    it does for a log that is appended to.
    """

    def __init__(self, entries: Iterable[KeyLogEntry] = ()) -> None:
        self._entries: list[KeyLogEntry] = []
        self._index: dict[tuple[str, bytes], bytes] = {}
        for entry in entries:
            self.add(entry)

    # -- reading -------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> KeyLog:
        """Parse the text of a key log; KeyLogError names the first malformed line."""
        if isinstance(text, bytes | bytearray):
            try:
                text = bytes(text).decode("ascii")
            except UnicodeDecodeError as exc:
                raise KeyLogError(f"a key log is ASCII text; byte {exc.start} is not") from None
        if not isinstance(text, str):
            raise KeyLogError(f"expected the text of a key log, got {type(text).__name__}")
        keylog = cls()
        for line_number, raw_line in enumerate(text.splitlines(), start=1):
            line = raw_line.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.split()
            if len(fields) != 3:
                raise KeyLogError(
                    f"line {line_number}: expected 'LABEL <client_random hex> <secret hex>', "
                    f"found {len(fields)} field(s)"
                )
            label, random_hex, secret_hex = fields
            client_random = _parse_hex(random_hex, "client random", line_number)
            secret = _parse_hex(secret_hex, "secret", line_number)
            problem = _entry_problem(label, client_random, secret)
            if problem:
                raise KeyLogError(f"line {line_number}: {problem}")
            keylog.add(KeyLogEntry(label, client_random, secret))
        return keylog

    @classmethod
    def load(cls, path_or_text: str | os.PathLike[str]) -> KeyLog:
        """Read a key log from a file, or parse it if given its text.

        A path-like object, or a string without a newline that names an existing file, is
        read as a file; any other string is parsed as the text of a key log.
        """
        if isinstance(path_or_text, os.PathLike):
            return cls._read_file(Path(path_or_text))
        if isinstance(path_or_text, str):
            if "\n" not in path_or_text and path_or_text.strip() and _is_file(path_or_text):
                return cls._read_file(Path(path_or_text))
            return cls.parse(path_or_text)
        raise KeyLogError(f"expected a path or the text of a key log, got {type(path_or_text).__name__}")

    @classmethod
    def _read_file(cls, path: Path) -> KeyLog:
        try:
            text = path.read_text(encoding="ascii")
        except OSError as exc:
            raise KeyLogError(f"cannot read the key log {str(path)!r}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise KeyLogError(f"{str(path)!r} is not a key log: byte {exc.start} is not ASCII") from None
        return cls.parse(text)

    # -- contents ------------------------------------------------------------------
    @property
    def entries(self) -> tuple[KeyLogEntry, ...]:
        """Every entry, in the order they were read or added."""
        return tuple(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[KeyLogEntry]:
        return iter(tuple(self._entries))

    def __contains__(self, client_random: object) -> bool:
        """True if the log holds any secret for ``client_random``."""
        return any(entry.client_random == client_random for entry in self._entries)

    def __repr__(self) -> str:
        return f"KeyLog({len(self._entries)} entries)"

    @property
    def client_randoms(self) -> tuple[bytes, ...]:
        """The distinct client randoms with a TLS 1.2 master secret, in order."""
        return tuple(dict.fromkeys(e.client_random for e in self._entries if e.label == CLIENT_RANDOM))

    def secret_for(self, label: str, client_random: bytes) -> bytes:
        """The secret logged under ``label`` for ``client_random``; KeyLogError if absent."""
        try:
            return self._index[(label, bytes(client_random))]
        except (KeyError, TypeError):
            pass
        held = sorted({e.label for e in self._entries if e.client_random == client_random})
        detail = f"; it has {', '.join(held)} for it" if held else ""
        random_hex = (
            client_random.hex() if isinstance(client_random, bytes | bytearray) else repr(client_random)
        )
        raise KeyLogError(f"the key log has no {label} line for client random {random_hex}{detail}")

    def master_secret_for(self, client_random: bytes) -> bytes:
        """The TLS 1.2 master secret of the connection whose ClientHello.random is ``client_random``."""
        return self.secret_for(CLIENT_RANDOM, client_random)

    # -- writing -------------------------------------------------------------------
    def add(self, entry: KeyLogEntry) -> None:
        """Append one entry."""
        if not isinstance(entry, KeyLogEntry):
            raise KeyLogError(f"expected a KeyLogEntry, got {type(entry).__name__}")
        self._entries.append(entry)
        self._index[(entry.label, bytes(entry.client_random))] = bytes(entry.secret)

    def add_secret(self, label: str, client_random: bytes, secret: bytes) -> KeyLogEntry:
        """Append ``label client_random secret``; KeyLogError if the lengths are wrong."""
        entry = KeyLogEntry(label, bytes(client_random), bytes(secret))
        self.add(entry)
        return entry

    def add_master_secret(self, client_random: bytes, master_secret: bytes) -> KeyLogEntry:
        """Append a TLS 1.2 ``CLIENT_RANDOM`` line."""
        return self.add_secret(CLIENT_RANDOM, client_random, master_secret)

    def dumps(self) -> str:
        """The key log as text, one line per entry, each ending in a newline."""
        return "".join(entry.to_line() + "\n" for entry in self._entries)

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`dumps` to ``path`` (replacing it)."""
        try:
            Path(path).write_text(self.dumps(), encoding="ascii")
        except OSError as exc:
            raise KeyLogError(f"cannot write the key log {str(path)!r}: {exc.strerror or exc}") from exc


def _is_file(candidate: str) -> bool:
    try:
        return Path(candidate).is_file()
    except (OSError, ValueError):  # e.g. an embedded NUL or a name too long
        return False
