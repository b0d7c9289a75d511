"""Teaching computations behind the notebooks' widgets: pure functions over small inputs.

Toy RSA and toy Diffie–Hellman on numbers small enough to follow by hand (labelled insecure;
the DH arithmetic is :mod:`httpslab.crypto.keyexchange`'s), the key derivation of RFC 5246 §8.1 and
§6.3 with an avalanche count, one record sealed with fixed demo inputs (RFC 5288, RFC 7905,
RFC 5246 §6.2.3.2) and a demo certificate scenario checked by :mod:`httpslab.pki`. Every
input has a fixed demo value, so a learner's run matches the stored outputs.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .crypto.keyexchange import dh_public, dh_shared_secret, group_from_params
from .crypto.keyschedule import key_block, master_secret
from .crypto.suites import SuiteInfo, suite_info
from .enums import CipherSuite, ContentType
from .errors import TLSError
from .record import RecordProtection, SealedRecord

if TYPE_CHECKING:
    from .pki.verify import VerificationReport

__all__ = [
    "DEMO_CLIENT_RANDOM",
    "DEMO_MAC_KEY",
    "DEMO_PREMASTER",
    "DEMO_RECORD_KEY",
    "DEMO_RECORD_NONCE",
    "DEMO_SERVER_RANDOM",
    "KEY_DERIVATION_INPUT_LENGTHS",
    "RECORD_SUITES",
    "KeyDerivationResult",
    "RecordResult",
    "ToyDH",
    "ToyMITM",
    "ToyRSA",
    "avalanche",
    "bit_difference",
    "certificate_check",
    "default_record_inputs",
    "derive_keys",
    "flip_bit",
    "is_prime",
    "key_block_layout",
    "key_derivation_update",
    "record_update",
    "seal_demo_record",
    "toy_dh",
    "toy_dh_mitm",
    "toy_rsa",
]

#: Fixed demo inputs (NOT random: a learner's run matches the stored outputs).
DEMO_CLIENT_RANDOM = bytes(range(0x00, 0x20))
DEMO_SERVER_RANDOM = bytes(range(0x20, 0x40))
DEMO_PREMASTER = b"\x03\x03" + bytes(range(0x40, 0x6E))
DEMO_RECORD_KEY = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
DEMO_RECORD_NONCE = bytes.fromhex("a0a1a2a3b0b1b2b3b4b5b6b7")
DEMO_MAC_KEY = bytes(range(0x80, 0xA0))

#: the record-protection choices of the record widget: label -> (suite, encrypt_then_mac)
RECORD_SUITES: dict[str, tuple[CipherSuite, bool]] = {
    "AES-128-GCM": (CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, False),
    "ChaCha20-Poly1305": (CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, False),
    "AES-128-CBC + HMAC-SHA256, MAC-then-encrypt": (CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, False),
    "AES-128-CBC + HMAC-SHA256, encrypt-then-MAC": (CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, True),
}


# ------------------------------------------------------------------------------ bits
def flip_bit(data: bytes, bit: int) -> bytes:
    """``data`` with bit number ``bit`` inverted (bit 0 is the most significant bit of byte 0)."""
    if not 0 <= bit < 8 * len(data):
        raise TLSError(f"bit {bit} is outside a {len(data)}-byte value (0 … {8 * len(data) - 1})")
    index, shift = divmod(bit, 8)
    return data[:index] + bytes([data[index] ^ (0x80 >> shift)]) + data[index + 1 :]


def bit_difference(first: bytes, second: bytes) -> int:
    """How many bits differ between two values of the same length."""
    if len(first) != len(second):
        raise TLSError(f"cannot compare {len(first)} bytes with {len(second)} bytes bit by bit")
    return (int.from_bytes(first, "big") ^ int.from_bytes(second, "big")).bit_count()


def is_prime(n: int) -> bool:
    """Deterministic Miller–Rabin for n < 3.3 · 10^24 (bases 2 … 41); enough for toy numbers."""
    if n < 2:
        return False
    small = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)
    for prime in small:
        if n % prime == 0:
            return n == prime
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for base in small:
        x = pow(base, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


# ------------------------------------------------------------------------------ certificates (02)
def certificate_check(scenario_name: str, host: str = "", key_type: str = "rsa") -> VerificationReport:
    """Verify the demo scenario ``scenario_name`` as a client that asked for ``host``.

    ``host`` is a DNS name or an IP address (checked against the iPAddress subjectAltNames);
    empty means the scenario's own target. Raises :class:`~httpslab.errors.CertificateError`
    for an unknown scenario or key type.
    """
    from .pki import scenario, verify_chain

    case = scenario(scenario_name, key_type)  # type: ignore[arg-type]
    host = host.strip()
    server_name, ip_address = case.server_name, case.ip_address
    if host:
        try:
            ipaddress.ip_address(host.strip("[]"))
            server_name, ip_address = None, host.strip("[]")
        except ValueError:
            server_name, ip_address = host, None
    return verify_chain(
        case.leaf,
        case.intermediates,
        case.trust_anchors,
        server_name=server_name,
        ip_address=ip_address,
        at=case.at,
        purpose=case.purpose,
    )


# ------------------------------------------------------------------------------ toy RSA (03), toy DH (04)
@dataclass(frozen=True)
class ToyRSA:
    """Textbook RSA with small numbers: n = p·q, d = e⁻¹ mod φ(n), c = mᵉ mod n, m = cᵈ mod n."""

    p: int
    q: int
    e: int
    m: int
    n: int | None = None
    phi: int | None = None
    d: int | None = None
    c: int | None = None
    decrypted: int | None = None
    error: str | None = None

    def as_text(self) -> str:
        if self.error:
            return f"cannot compute: {self.error}"
        return (
            f"public key  (n, e) = ({self.n}, {self.e})       n = p·q = {self.p}·{self.q}\n"
            f"φ(n) = (p-1)(q-1) = {self.phi}\n"
            f"private key d = e⁻¹ mod φ(n) = {self.d}          (check: e·d mod φ(n) = {self.e * self.d % self.phi})\n"  # type: ignore[operator]
            f"encrypt: c = m^e mod n = {self.m}^{self.e} mod {self.n} = {self.c}\n"
            f"decrypt: c^d mod n = {self.c}^{self.d} mod {self.n} = {self.decrypted}"
            f"   {'= m ✓' if self.decrypted == self.m else '≠ m ✗'}"
        )


def toy_rsa(p: int, q: int, e: int, m: int) -> ToyRSA:
    """Textbook RSA on small numbers (TOY, insecure); bad input gives ``error``, not an exception."""
    problem = None
    if not all(isinstance(v, int) for v in (p, q, e, m)):
        problem = "p, q, e and m must be whole numbers"
    elif not is_prime(p):
        problem = f"p = {p} is not prime"
    elif not is_prime(q):
        problem = f"q = {q} is not prime"
    elif p == q:
        problem = "p and q must be different primes (with p = q, φ(n) is not (p-1)(q-1))"
    if problem:
        return ToyRSA(p, q, e, m, error=problem)
    n, phi = p * q, (p - 1) * (q - 1)
    import math

    if not 1 < e < phi:
        return ToyRSA(p, q, e, m, n, phi, error=f"e must satisfy 1 < e < φ(n) = {phi}")
    if math.gcd(e, phi) != 1:
        return ToyRSA(
            p, q, e, m, n, phi,
            error=f"e = {e} is not coprime with φ(n) = {phi} (gcd = {math.gcd(e, phi)}): no private exponent d exists",
        )  # fmt: skip
    if not 0 <= m < n:
        return ToyRSA(p, q, e, m, n, phi, error=f"the message m = {m} must satisfy 0 ≤ m < n = {n}")
    d = pow(e, -1, phi)
    c = pow(m, e, n)
    return ToyRSA(p, q, e, m, n, phi, d, c, pow(c, d, n))


@dataclass(frozen=True)
class ToyDH:
    """Both sides of a Diffie–Hellman exchange in a toy group."""

    p: int
    g: int
    a: int
    b: int
    A: int | None = None
    B: int | None = None
    alice_secret: int | None = None
    bob_secret: int | None = None
    error: str | None = None

    @property
    def agree(self) -> bool:
        return self.error is None and self.alice_secret == self.bob_secret

    def as_text(self) -> str:
        if self.error:
            return f"cannot compute: {self.error}"
        return (
            f"public: p = {self.p}, g = {self.g}            (TOY group: insecure, for teaching)\n"
            f"Alice: secret a = {self.a}  →  sends A = g^a mod p = {self.A}\n"
            f"Bob:   secret b = {self.b}  →  sends B = g^b mod p = {self.B}\n"
            f"Alice computes B^a mod p = {self.B}^{self.a} mod {self.p} = {self.alice_secret}\n"
            f"Bob   computes A^b mod p = {self.A}^{self.b} mod {self.p} = {self.bob_secret}\n"
            f"{'they agree ✓' if self.agree else 'they DISAGREE ✗'}"
        )


def _toy_group_problem(p: int, g: int) -> tuple[Any, str | None]:
    if not is_prime(p):
        return None, f"p = {p} is not prime"
    try:
        return group_from_params(p, g, toy=True), None
    except TLSError as exc:
        return None, str(exc)


def toy_dh(p: int, g: int, a: int, b: int) -> ToyDH:
    """Alice (secret a) and Bob (secret b) agree on g^(ab) mod p, computed by the library."""
    group, problem = _toy_group_problem(p, g)
    if problem:
        return ToyDH(p, g, a, b, error=problem)
    try:
        public_a, public_b = dh_public(group, a), dh_public(group, b)
        alice = int.from_bytes(dh_shared_secret(group, a, public_b), "big")
        bob = int.from_bytes(dh_shared_secret(group, b, public_a), "big")
    except TLSError as exc:
        return ToyDH(p, g, a, b, error=str(exc))
    return ToyDH(p, g, a, b, public_a, public_b, alice, bob)


@dataclass(frozen=True)
class ToyMITM:
    """Mallory (secret m) between Alice and Bob on unsigned DH values: two keys, both hers."""

    p: int
    g: int
    a: int
    b: int
    m: int
    A: int
    B: int
    M: int
    alice_key: int
    bob_key: int
    mallory_with_alice: int
    mallory_with_bob: int

    def as_text(self) -> str:
        return (
            f"Alice sends A = {self.A}; Mallory drops it and sends Bob M = g^m = {self.M}\n"
            f"Bob sends B = {self.B}; Mallory drops it and sends Alice M = {self.M}\n"
            f"Alice's key  M^a = {self.alice_key}    Mallory's key with Alice  A^m = {self.mallory_with_alice}\n"
            f"Bob's key    M^b = {self.bob_key}    Mallory's key with Bob    B^m = {self.mallory_with_bob}"
        )


def toy_dh_mitm(p: int, g: int, a: int, b: int, m: int) -> ToyMITM:
    """A man in the middle on *unsigned* toy DH values (raises TLSError on bad parameters)."""
    group, problem = _toy_group_problem(p, g)
    if problem:
        raise TLSError(problem)

    def key(private: int, public: int) -> int:
        return int.from_bytes(dh_shared_secret(group, private, public), "big")

    public_a, public_b, public_m = dh_public(group, a), dh_public(group, b), dh_public(group, m)
    return ToyMITM(
        p, g, a, b, m, public_a, public_b, public_m,
        key(a, public_m), key(b, public_m), key(m, public_a), key(m, public_b),
    )  # fmt: skip


# ------------------------------------------------------------------------------ key derivation (05)
def key_block_layout(suite: SuiteInfo | CipherSuite | int) -> list[tuple[str, int]]:
    """The key block's pieces in wire order with their lengths (RFC 5246 §6.3)."""
    info = suite if isinstance(suite, SuiteInfo) else suite_info(suite)
    return [
        ("client_write_MAC_key", info.mac_length),
        ("server_write_MAC_key", info.mac_length),
        ("client_write_key", info.enc_key_length),
        ("server_write_key", info.enc_key_length),
        ("client_write_IV", info.fixed_iv_length),
        ("server_write_IV", info.fixed_iv_length),
    ]


def derive_keys(
    premaster_secret: bytes,
    client_random: bytes,
    server_random: bytes,
    suite: SuiteInfo | CipherSuite | int = CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
) -> dict[str, bytes]:
    """master_secret (RFC 5246 §8.1) and every non-empty key block piece (§6.3), by name."""
    info = suite if isinstance(suite, SuiteInfo) else suite_info(suite)
    master = master_secret(premaster_secret, client_random, server_random, info.prf_hash)
    block = key_block(master, client_random, server_random, info)
    values = (
        block.client_write_mac_key, block.server_write_mac_key, block.client_write_key,
        block.server_write_key, block.client_write_iv, block.server_write_iv,
    )  # fmt: skip
    keys = {"master_secret": master}
    for (name, _), value in zip(key_block_layout(info), values, strict=True):
        if value:
            keys[name] = value
    return keys


def avalanche(before: dict[str, bytes], after: dict[str, bytes]) -> list[tuple[str, int, int]]:
    """(name, bits changed, total bits) for each derived value present in both."""
    return [(name, bit_difference(before[name], after[name]), 8 * len(before[name])) for name in before]


@dataclass(frozen=True)
class KeyDerivationResult:
    """Keys derived from the edited inputs, from the original inputs, and how much changed."""

    inputs: dict[str, bytes] = field(default_factory=dict)
    keys: dict[str, bytes] = field(default_factory=dict)
    original_keys: dict[str, bytes] = field(default_factory=dict)
    changes: list[tuple[str, int, int]] = field(default_factory=list)
    #: bits changed in the inputs themselves
    input_bits_changed: int = 0
    error: str | None = None

    def as_text(self) -> str:
        if self.error:
            return f"cannot derive: {self.error}"
        lines = [f"inputs: {self.input_bits_changed} bit(s) differ from the demo values"]
        for name, value in self.inputs.items():
            lines.append(f"  {name:<15} {value.hex()}")
        lines.append("derived:")
        for name, changed, total in self.changes:
            lines.append(f"  {name:<22} {self.keys[name].hex()}  ({changed}/{total} bits changed)")
        return "\n".join(lines)


KEY_DERIVATION_INPUT_LENGTHS = {"client_random": 32, "server_random": 32, "premaster": 48}


def key_derivation_update(
    client_random_hex: str = DEMO_CLIENT_RANDOM.hex(),
    server_random_hex: str = DEMO_SERVER_RANDOM.hex(),
    premaster_hex: str = DEMO_PREMASTER.hex(),
    *,
    flip_input: str = "client_random",
    flip: int | None = None,
    suite: SuiteInfo | CipherSuite | int = CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
) -> KeyDerivationResult:
    """Derive every key from the (edited) inputs and compare with the demo inputs' keys.

    ``flip`` (a bit number) additionally inverts one bit of ``flip_input``. Bad hex or a
    wrong length gives a result whose ``error`` says so.
    """
    texts = {
        "client_random": client_random_hex,
        "server_random": server_random_hex,
        "premaster": premaster_hex,
    }
    inputs: dict[str, bytes] = {}
    for name, text in texts.items():
        try:
            value = bytes.fromhex("".join(text.split()))
        except ValueError:
            return KeyDerivationResult(error=f"{name} is not hexadecimal")
        if len(value) != KEY_DERIVATION_INPUT_LENGTHS[name]:
            return KeyDerivationResult(
                error=f"{name} must be {KEY_DERIVATION_INPUT_LENGTHS[name]} bytes, got {len(value)}"
            )
        inputs[name] = value
    if flip is not None:
        if flip_input not in inputs:
            return KeyDerivationResult(error=f"cannot flip a bit of {flip_input!r}")
        try:
            inputs[flip_input] = flip_bit(inputs[flip_input], flip)
        except TLSError as exc:
            return KeyDerivationResult(error=str(exc))
    original = {
        "client_random": DEMO_CLIENT_RANDOM,
        "server_random": DEMO_SERVER_RANDOM,
        "premaster": DEMO_PREMASTER,
    }
    input_bits = sum(bit_difference(original[name], inputs[name]) for name in inputs)
    try:
        keys = derive_keys(inputs["premaster"], inputs["client_random"], inputs["server_random"], suite)
    except TLSError as exc:
        return KeyDerivationResult(error=str(exc))
    original_keys = derive_keys(DEMO_PREMASTER, DEMO_CLIENT_RANDOM, DEMO_SERVER_RANDOM, suite)
    return KeyDerivationResult(inputs, keys, original_keys, avalanche(original_keys, keys), input_bits)


# ------------------------------------------------------------------------------ record protection (06)
def seal_demo_record(
    plaintext: bytes,
    key: bytes = DEMO_RECORD_KEY,
    nonce: bytes = DEMO_RECORD_NONCE,
    *,
    suite: SuiteInfo | CipherSuite | int = CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    sequence_number: int = 0,
    encrypt_then_mac: bool = False,
    mac_key: bytes | None = None,
    content_type: ContentType | int = ContentType.APPLICATION_DATA,
    version: int = 0x0303,
) -> tuple[SealedRecord, RecordProtection]:
    """Seal one record with :class:`~httpslab.record.RecordProtection` from a key and a nonce.

    ``nonce`` means: AES-GCM — the 12-byte nonce, fixed IV (4) || explicit nonce (8)
    (RFC 5288 §3); ChaCha20-Poly1305 — the 12-byte fixed IV (XORed with the sequence number,
    RFC 7905 §2); CBC — the 16-byte record IV (RFC 5246 §6.2.3.2). Returns the sealed
    record and a fresh receiving protection (same keys, same sequence number) to open it.
    """
    info = suite if isinstance(suite, SuiteInfo) else suite_info(suite)
    mac = (DEMO_MAC_KEY[: info.mac_length] if mac_key is None else mac_key) if not info.is_aead else b""
    if info.cipher.endswith("GCM"):
        fixed, explicit = nonce[:4], nonce[4:]
        if len(nonce) != 12:
            raise TLSError(f"an AES-GCM nonce is 12 bytes (4 fixed + 8 explicit), got {len(nonce)}")
    elif info.is_aead:
        fixed, explicit = nonce, b""
    else:
        fixed, explicit = b"", nonce
        if len(nonce) != 16:
            raise TLSError(f"a CBC record IV is 16 bytes, got {len(nonce)}")

    def make() -> RecordProtection:
        return RecordProtection(
            info, key, fixed, mac, encrypt_then_mac=encrypt_then_mac,
            explicit_iv=(lambda length: explicit) if explicit else None, sequence_number=sequence_number,
        )  # fmt: skip

    sealed = make().seal_detailed(content_type, version, plaintext)
    return sealed, make()


@dataclass(frozen=True)
class RecordResult:
    """A sealed record, the record after an optional bit flip, and what the receiver made of it."""

    sealed: SealedRecord | None = None
    received: bytes = b""
    flipped_bit: int | None = None
    opened: bytes | None = None
    rejection: TLSError | None = None
    error: str | None = None

    def as_text(self) -> str:
        if self.error or self.sealed is None:
            return f"cannot seal: {self.error}"
        sealed = self.sealed
        lines = [
            f"sequence number {sealed.sequence_number}; additional data / MAC header: {sealed.additional_data.hex(' ')}",
        ]
        if sealed.nonce:
            lines.append(f"nonce: {sealed.nonce.hex(' ')}")
        for label, data in sealed.parts():
            lines.append(f"{label:<15} {len(data):>4} B  {data.hex(' ')}")
        if self.flipped_bit is not None:
            lines.append(f"bit {self.flipped_bit} of the fragment flipped in transit")
        if self.rejection is not None:
            alert = getattr(self.rejection, "alert", None)
            name = alert.name.lower() if alert is not None else "?"
            lines.append(f"receiver: REJECTED — {type(self.rejection).__name__}, alert {name}")
        else:
            lines.append(f"receiver: accepted, plaintext {self.opened!r}")
        return "\n".join(lines)


def record_update(
    plaintext: str | bytes = "Hello, HTTPS!",
    key_hex: str = DEMO_RECORD_KEY.hex(),
    nonce_hex: str = DEMO_RECORD_NONCE.hex(),
    *,
    protection: str = "AES-128-GCM",
    sequence_number: int = 0,
    flip: int | None = None,
) -> RecordResult:
    """Seal ``plaintext``, optionally flip bit ``flip`` of the fragment, and open it again.

    ``protection`` is a key of :data:`RECORD_SUITES`. A flipped bit makes the receiver raise
    :class:`~httpslab.errors.BadRecordMac` (RFC 5246 §7.2.2), kept in ``rejection``.
    """
    if protection not in RECORD_SUITES:
        return RecordResult(error=f"unknown protection {protection!r}")
    suite, etm = RECORD_SUITES[protection]
    data = plaintext.encode("utf-8") if isinstance(plaintext, str) else bytes(plaintext)
    try:
        key = bytes.fromhex("".join(key_hex.split()))
        nonce = bytes.fromhex("".join(nonce_hex.split()))
    except ValueError:
        return RecordResult(error="the key and the nonce must be hexadecimal")
    try:
        sealed, receiver = seal_demo_record(
            data, key, nonce, suite=suite, sequence_number=sequence_number, encrypt_then_mac=etm
        )
        fragment = sealed.fragment if flip is None else flip_bit(sealed.fragment, flip)
    except TLSError as exc:
        return RecordResult(error=str(exc))
    try:
        opened = receiver.open(sealed.content_type, sealed.version, fragment)
    except TLSError as exc:
        return RecordResult(sealed, sealed.header + fragment, flip, None, exc)
    return RecordResult(sealed, sealed.header + fragment, flip, opened)


def default_record_inputs(protection: str) -> tuple[bytes, bytes]:
    """Demo (key, nonce or IV) of the right lengths for a :data:`RECORD_SUITES` choice."""
    suite, _ = RECORD_SUITES[protection]
    info = suite_info(suite)
    key = bytes(range(info.enc_key_length))
    if info.cipher.endswith("GCM"):
        return key, DEMO_RECORD_NONCE
    if info.is_aead:
        return key, bytes(range(0xC0, 0xCC))
    return key, bytes(range(0xD0, 0xE0))
