"""The TLS 1.2 key schedule: from a premaster secret to record keys and Finished values.

Every secret of a TLS 1.2 connection comes out of one function, the PRF (RFC 5246 §5)::

    PRF(secret, label, seed) = P_<hash>(secret, label + seed)
    P_hash(secret, seed)     = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + ...
    A(0) = seed,  A(i) = HMAC(secret, A(i-1))

It is used four times:

- master secret (RFC 5246 §8.1): ``PRF(premaster, "master secret", client_random + server_random)``
  or, with the extended master secret extension that OpenSSL negotiates by default
  (RFC 7627 §4), ``PRF(premaster, "extended master secret", session_hash)``;
- key block (RFC 5246 §6.3): ``PRF(master, "key expansion", server_random + client_random)``
  cut into MAC keys, encryption keys and fixed IVs — note the randoms swap places;
- Finished (RFC 5246 §7.4.9): ``PRF(master, "client finished" | "server finished",
  Hash(handshake_messages))[:12]``.

The hash is SHA-256 unless the cipher suite says SHA-384 (``SuiteInfo.prf_hash``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from ..enums import CipherSuite
from ..errors import LocalProtocolError
from .suites import SuiteInfo, suite_info

__all__ = [
    "MASTER_SECRET_LENGTH",
    "RANDOM_LENGTH",
    "VERIFY_DATA_LENGTH",
    "KeyBlock",
    "TranscriptHash",
    "extended_master_secret",
    "hash_length",
    "key_block",
    "master_secret",
    "p_hash",
    "prf",
    "transcript_hash",
    "verify_data",
]

#: ClientHello.random and ServerHello.random are 32 bytes (RFC 5246 §7.4.1.2).
RANDOM_LENGTH = 32
#: The master secret is always 48 bytes (RFC 5246 §8.1).
MASTER_SECRET_LENGTH = 48
#: verify_data is 12 bytes for every TLS 1.2 cipher suite (RFC 5246 §7.4.9).
VERIFY_DATA_LENGTH = 12

_HASHES: dict[str, Callable[..., Any]] = {
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
}

#: digest size per constructor (looked up instead of building a hash object per question)
_DIGEST_SIZES: dict[Callable[..., Any], int] = {
    constructor: constructor().digest_size for constructor in _HASHES.values()
}

Sender = Literal["client", "server"]


# ---------------------------------------------------------------------------- input checks


def _hash_constructor(hash_name: str) -> Callable[..., Any]:
    constructor = _HASHES.get(hash_name) if type(hash_name) is str else None  # "sha256": no rewriting
    if constructor is None and isinstance(hash_name, str):
        constructor = _HASHES.get(hash_name.lower().replace("-", ""))
    if constructor is None:
        raise LocalProtocolError(f"the TLS 1.2 PRF hash must be one of {sorted(_HASHES)}, not {hash_name!r}")
    return constructor


def _normal_hash_name(hash_name: str) -> str:
    _hash_constructor(hash_name)
    return hash_name.lower().replace("-", "")


def hash_length(hash_name: str) -> int:
    """Digest size in bytes of a PRF hash ("sha256" → 32, "sha384" → 48)."""
    return _DIGEST_SIZES[_hash_constructor(hash_name)]


def _as_bytes(value: object, what: str) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise LocalProtocolError(f"{what} must be bytes, not {type(value).__name__}")


def _exact_length(value: object, length: int, what: str) -> bytes:
    data = _as_bytes(value, what)
    if len(data) != length:
        raise LocalProtocolError(f"{what} must be {length} bytes, got {len(data)}")
    return data


# ---------------------------------------------------------------------------- the PRF


def p_hash(secret: bytes, seed: bytes, length: int, hash_name: str = "sha256") -> bytes:
    """P_hash(secret, seed) of RFC 5246 §5, cut to ``length`` bytes."""
    constructor = _hash_constructor(hash_name)
    secret = _as_bytes(secret, "secret")
    seed = _as_bytes(seed, "seed")
    if not isinstance(length, int) or isinstance(length, bool) or length < 0:
        raise LocalProtocolError(f"PRF output length must be a non-negative integer, not {length!r}")
    output = bytearray()
    a = seed  # A(0) = seed
    while len(output) < length:
        a = hmac.digest(secret, a, constructor)  # A(i) = HMAC(secret, A(i-1))
        output += hmac.digest(secret, a + seed, constructor)
    return bytes(output[:length])


def prf(secret: bytes, label: bytes, seed: bytes, length: int, hash_name: str = "sha256") -> bytes:
    """The TLS 1.2 PRF: ``P_<hash>(secret, label + seed)`` cut to ``length`` bytes (RFC 5246 §5)."""
    label = _as_bytes(label, "label")
    seed = _as_bytes(seed, "seed")
    return p_hash(secret, label + seed, length, hash_name)


# ---------------------------------------------------------------------------- master secret


def master_secret(
    premaster_secret: bytes, client_random: bytes, server_random: bytes, hash_name: str = "sha256"
) -> bytes:
    """The 48-byte master secret of RFC 5246 §8.1 (without the extended master secret extension)."""
    premaster_secret = _as_bytes(premaster_secret, "premaster_secret")
    client_random = _exact_length(client_random, RANDOM_LENGTH, "client_random")
    server_random = _exact_length(server_random, RANDOM_LENGTH, "server_random")
    return prf(
        premaster_secret, b"master secret", client_random + server_random, MASTER_SECRET_LENGTH, hash_name
    )


def extended_master_secret(premaster_secret: bytes, session_hash: bytes, hash_name: str = "sha256") -> bytes:
    """The 48-byte extended master secret of RFC 7627 §4.

    ``session_hash`` is the transcript hash of the handshake messages up to and including
    ClientKeyExchange (RFC 7627 §3), computed with the PRF hash.
    """
    premaster_secret = _as_bytes(premaster_secret, "premaster_secret")
    session_hash = _exact_length(session_hash, hash_length(hash_name), "session_hash")
    return prf(premaster_secret, b"extended master secret", session_hash, MASTER_SECRET_LENGTH, hash_name)


# ---------------------------------------------------------------------------- key block


@dataclass(frozen=True)
class KeyBlock:
    """The key block of RFC 5246 §6.3, cut into its six pieces (in this order on the wire)."""

    client_write_mac_key: bytes
    server_write_mac_key: bytes
    client_write_key: bytes
    server_write_key: bytes
    client_write_iv: bytes
    server_write_iv: bytes
    #: the PRF output the six pieces were cut from
    key_block: bytes

    def write_keys(self, sender: Sender) -> tuple[bytes, bytes, bytes]:
        """(mac_key, key, iv) that ``sender`` encrypts with (and its peer decrypts with)."""
        if sender == "client":
            return self.client_write_mac_key, self.client_write_key, self.client_write_iv
        if sender == "server":
            return self.server_write_mac_key, self.server_write_key, self.server_write_iv
        raise LocalProtocolError(f"sender must be 'client' or 'server', not {sender!r}")


def key_block(
    master_secret: bytes,
    client_random: bytes,
    server_random: bytes,
    suite: SuiteInfo | CipherSuite | int,
) -> KeyBlock:
    """Expand the master secret into the record keys of ``suite`` (RFC 5246 §6.3).

    The seed is ``server_random + client_random`` — the reverse of the master secret's order.
    """
    info = suite if isinstance(suite, SuiteInfo) else suite_info(suite)
    master = _exact_length(master_secret, MASTER_SECRET_LENGTH, "master_secret")
    client_random = _exact_length(client_random, RANDOM_LENGTH, "client_random")
    server_random = _exact_length(server_random, RANDOM_LENGTH, "server_random")
    block = prf(master, b"key expansion", server_random + client_random, info.key_block_length, info.prf_hash)
    pieces: list[bytes] = []
    offset = 0
    for size in (
        info.mac_length,
        info.mac_length,
        info.enc_key_length,
        info.enc_key_length,
        info.fixed_iv_length,
        info.fixed_iv_length,
    ):
        pieces.append(block[offset : offset + size])
        offset += size
    return KeyBlock(*pieces, key_block=block)


# ---------------------------------------------------------------------------- Finished


def verify_data(
    master_secret: bytes,
    sender: Sender,
    handshake_hash: bytes,
    hash_name: str = "sha256",
    length: int = VERIFY_DATA_LENGTH,
) -> bytes:
    """Finished.verify_data (RFC 5246 §7.4.9).

    ``handshake_hash`` is the PRF hash of every handshake message up to, but not including,
    this Finished (for the server's Finished, the client's Finished is included).
    """
    labels = {"client": b"client finished", "server": b"server finished"}
    if sender not in labels:
        raise LocalProtocolError(f"sender must be 'client' or 'server', not {sender!r}")
    master = _exact_length(master_secret, MASTER_SECRET_LENGTH, "master_secret")
    handshake_hash = _exact_length(handshake_hash, hash_length(hash_name), "handshake_hash")
    return prf(master, labels[sender], handshake_hash, length, hash_name)


# ---------------------------------------------------------------------------- transcript


def transcript_hash(handshake_messages: bytes | Iterable[bytes], hash_name: str = "sha256") -> bytes:
    """Hash(handshake_messages): the hash of the concatenated handshake messages.

    Each message is counted with its 4-byte handshake header (type and length), without the
    record layer header (RFC 5246 §7.4.9).
    """
    transcript = TranscriptHash(hash_name)
    if isinstance(handshake_messages, bytes | bytearray | memoryview):
        transcript.update(handshake_messages)
    else:
        for message in handshake_messages:
            transcript.update(message)
    return transcript.digest()


class TranscriptHash:
    """A running hash of the handshake messages, read at any point without being consumed.

    It also keeps the bytes themselves (a handshake is a few kilobytes), so that the same
    transcript can be rehashed once the cipher suite — and with it the PRF hash — is known.
    """

    def __init__(self, hash_name: str = "sha256", data: bytes = b"") -> None:
        self.hash_name = _normal_hash_name(hash_name)
        self._hash = _hash_constructor(hash_name)()
        self._data = bytearray()
        if data:
            self.update(data)

    def update(self, message: bytes) -> None:
        """Add one handshake message (header included) to the transcript."""
        message = _as_bytes(message, "handshake message")
        self._hash.update(message)
        self._data += message

    def digest(self) -> bytes:
        """The hash of everything added so far; more can be added afterwards."""
        return self._hash.copy().digest()

    def hexdigest(self) -> str:
        return self.digest().hex()

    @property
    def data(self) -> bytes:
        """Every byte hashed so far."""
        return bytes(self._data)

    def copy(self) -> TranscriptHash:
        return TranscriptHash(self.hash_name, self.data)

    def with_hash(self, hash_name: str) -> TranscriptHash:
        """The same transcript hashed with ``hash_name`` (e.g. once a SHA-384 suite is chosen)."""
        return TranscriptHash(hash_name, self.data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return (
            f"TranscriptHash({self.hash_name!r}, {len(self._data)} bytes, digest={self.hexdigest()[:16]}...)"
        )
