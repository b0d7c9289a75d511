"""Tests for httpslab.record: framing (RFC 5246 §6.2.1) and protection (§6.2.3, RFC 5288,
RFC 7905, RFC 7366).

Known answers are computed here, independently of httpslab, straight from the RFC formulas
with ``cryptography``; real OpenSSL sessions (recorded on loopback) are decrypted and
re-encrypted byte for byte.
"""

from __future__ import annotations

import hmac
import os
import re
import struct

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from hypothesis import given, settings
from hypothesis import strategies as st

from httpslab.crypto.keyschedule import key_block
from httpslab.crypto.suites import SUITES, SuiteInfo, suite_info
from httpslab.enums import AlertDescription, CipherSuite, ContentType
from httpslab.errors import (
    BadRecordMac,
    DecodeError,
    LocalProtocolError,
    NotTLSError,
    RecordOverflow,
    RemoteProtocolError,
    TLSError,
    UnexpectedMessage,
)
from httpslab.record import (
    MAX_CIPHERTEXT_LENGTH,
    MAX_PLAINTEXT_LENGTH,
    Record,
    RecordProtection,
    RecordReader,
    describe_not_tls,
    fragment_data,
    pull_record,
    push_record,
    split_records,
)
from httpslab.wire import Buffer

TLS12 = 0x0303
APPLICATION_DATA = ContentType.APPLICATION_DATA
HANDSHAKE = ContentType.HANDSHAKE

GCM_128 = suite_info(CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)
GCM_256 = suite_info(CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)
CHACHA = suite_info(CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256)
CBC_SHA256 = suite_info(CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256)
CBC_SHA384 = suite_info(CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384)

#: every suite, and every CBC suite once more with encrypt-then-MAC
PROTECTIONS = [(info, False) for info in SUITES.values()] + [
    (info, True) for info in SUITES.values() if not info.is_aead
]
PROTECTION_IDS = [f"{info.openssl_name}{'-etm' if etm else ''}" for info, etm in PROTECTIONS]
#: one of each kind of protection, for the slower exhaustive tests
KINDS = [(GCM_128, False), (CHACHA, False), (CBC_SHA256, False), (CBC_SHA256, True), (CBC_SHA384, False)]
KIND_IDS = ["gcm", "chacha20", "cbc-mte", "cbc-etm", "cbc-sha384-mte"]


def keys_for(info: SuiteInfo, seed: int = 1) -> tuple[bytes, bytes, bytes]:
    """Deterministic (key, fixed_iv, mac_key) of the right lengths for ``info``."""
    material = bytes((seed * 7 + i) % 256 for i in range(info.key_block_length))
    key = material[: info.enc_key_length]
    iv = material[info.enc_key_length : info.enc_key_length + info.fixed_iv_length]
    mac_key = material[-info.mac_length :] if info.mac_length else b""
    return key, iv, mac_key


def pair(info: SuiteInfo, etm: bool = False, **options: object) -> tuple[RecordProtection, RecordProtection]:
    """A sender and a receiver with the same keys."""
    key, iv, mac_key = keys_for(info)
    sender = RecordProtection(info, key, iv, mac_key, encrypt_then_mac=etm, **options)  # type: ignore[arg-type]
    receiver = RecordProtection(info, key, iv, mac_key, encrypt_then_mac=etm)
    return sender, receiver


def counting_iv(length: int, _state: list[int] = [0]) -> bytes:  # noqa: B006 - a deliberate counter
    _state[0] += 1
    return _state[0].to_bytes(length, "big")


# -- round trips ------------------------------------------------------------------------


@pytest.mark.parametrize(("info", "etm"), PROTECTIONS, ids=PROTECTION_IDS)
def test_round_trip_every_suite(info: SuiteInfo, etm: bool) -> None:
    sender, receiver = pair(info, etm)
    for length in (0, 1, 15, 16, 17, 31, 32, 47, 48, 100, 1000, MAX_PLAINTEXT_LENGTH):
        plaintext = os.urandom(length)
        fragment = sender.seal(APPLICATION_DATA, TLS12, plaintext)
        assert fragment != plaintext
        assert len(fragment) <= MAX_CIPHERTEXT_LENGTH
        assert receiver.open(APPLICATION_DATA, TLS12, fragment) == plaintext
    assert sender.sequence_number == receiver.sequence_number == 12


@pytest.mark.parametrize(("info", "etm"), PROTECTIONS, ids=PROTECTION_IDS)
def test_fragment_overhead_matches_the_rfc_layout(info: SuiteInfo, etm: bool) -> None:
    sender, _ = pair(info, etm)
    for length in range(0, 70):
        fragment = sender.seal(APPLICATION_DATA, TLS12, bytes(length))
        if info.is_aead:
            assert len(fragment) == info.record_iv_length + length + 16
        elif etm:
            padded = (length // 16 + 1) * 16  # minimal padding: at least the padding_length byte
            assert len(fragment) == 16 + padded + info.mac_length
        else:
            padded = ((length + info.mac_length) // 16 + 1) * 16
            assert len(fragment) == 16 + padded


def test_sequence_numbers_advance_and_a_wrong_one_fails() -> None:
    for info, etm in KINDS:
        sender, receiver = pair(info, etm)
        fragments = [sender.seal(APPLICATION_DATA, TLS12, b"record %d" % i) for i in range(3)]
        assert sender.sequence_number == 3
        # out of order: record 1 opened as record 0
        with pytest.raises(BadRecordMac):
            receiver.open(APPLICATION_DATA, TLS12, fragments[1])
        assert receiver.sequence_number == 0  # a failed open does not advance
        assert receiver.open(APPLICATION_DATA, TLS12, fragments[0]) == b"record 0"
        assert receiver.sequence_number == 1
        receiver.sequence_number = 2
        with pytest.raises(BadRecordMac):
            receiver.open(APPLICATION_DATA, TLS12, fragments[1])


def test_gcm_explicit_nonce_is_the_sequence_number() -> None:
    sender, _ = pair(GCM_128, sequence_number=0x0102030405060708)
    fragment = sender.seal(APPLICATION_DATA, TLS12, b"x")
    assert fragment[:8] == bytes.fromhex("0102030405060708")


def test_sequence_number_never_wraps() -> None:
    for info, etm in KINDS:
        sender, receiver = pair(info, etm, sequence_number=2**64 - 1)
        receiver.sequence_number = 2**64 - 1
        fragment = sender.seal(APPLICATION_DATA, TLS12, b"last")
        assert receiver.open(APPLICATION_DATA, TLS12, fragment) == b"last"
        with pytest.raises(LocalProtocolError, match="sequence number"):
            sender.seal(APPLICATION_DATA, TLS12, b"one too many")
        with pytest.raises(LocalProtocolError, match="sequence number"):
            receiver.open(APPLICATION_DATA, TLS12, fragment)
    with pytest.raises(LocalProtocolError):
        RecordProtection(GCM_128, *keys_for(GCM_128), sequence_number=2**64)


# -- tampering -----------------------------------------------------------------------------


def flipped(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


@pytest.mark.parametrize(("info", "etm"), KINDS, ids=KIND_IDS)
def test_every_bit_flip_fails_with_bad_record_mac(info: SuiteInfo, etm: bool) -> None:
    sender, receiver = pair(info, etm)
    fragment = sender.seal(HANDSHAKE, TLS12, b"\x14\x00\x00\x0cverify_data!")
    messages = set()
    for bit in range(8 * len(fragment)):  # explicit nonce / IV, ciphertext, tag or MAC
        with pytest.raises(BadRecordMac) as caught:
            receiver.open(HANDSHAKE, TLS12, flipped(fragment, bit))
        messages.add(str(caught.value))
    for bit in range(8):  # the content type, covered through the additional data / MAC header
        with pytest.raises(BadRecordMac) as caught:
            receiver.open(HANDSHAKE ^ (1 << bit), TLS12, fragment)
        messages.add(str(caught.value))
    for bit in range(16):  # the version
        with pytest.raises(BadRecordMac) as caught:
            receiver.open(HANDSHAKE, TLS12 ^ (1 << bit), fragment)
        messages.add(str(caught.value))
    assert len(messages) == 1  # one message for MAC, tag and padding failures alike
    assert receiver.sequence_number == 0
    assert receiver.open(HANDSHAKE, TLS12, fragment) == b"\x14\x00\x00\x0cverify_data!"


@pytest.mark.parametrize(("info", "etm"), KINDS, ids=KIND_IDS)
def test_truncated_and_extended_fragments_fail(info: SuiteInfo, etm: bool) -> None:
    sender, receiver = pair(info, etm)
    fragment = sender.seal(APPLICATION_DATA, TLS12, os.urandom(40))
    for cut in range(len(fragment)):
        with pytest.raises(BadRecordMac):
            receiver.open(APPLICATION_DATA, TLS12, fragment[:cut])
    for extra in (b"\x00", bytes(16), os.urandom(32)):
        with pytest.raises(BadRecordMac):
            receiver.open(APPLICATION_DATA, TLS12, fragment + extra)


def test_cbc_bad_padding_and_bad_mac_give_the_same_error() -> None:
    """MAC-then-encrypt: build records with a bad padding but a good MAC, and the reverse."""
    key, _, mac_key = keys_for(CBC_SHA256)
    iv = bytes(range(16))
    plaintext = b"attack at dawn"
    mac = hmac.digest(mac_key, struct.pack(">QBHH", 0, 23, TLS12, len(plaintext)) + plaintext, "sha256")
    receiver = RecordProtection(CBC_SHA256, key, b"", mac_key)

    def encrypt(data: bytes) -> bytes:
        encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        return iv + encryptor.update(data) + encryptor.finalize()

    padding_length = (16 - (len(plaintext) + 32 + 1) % 16) % 16
    good = bytes((padding_length,)) * (padding_length + 1)
    assert receiver.open(23, TLS12, encrypt(plaintext + mac + good)) == plaintext
    receiver.sequence_number = 0
    # longer but valid padding (RFC 5246 §6.2.3.2 allows up to 255 bytes)
    longer = bytes((padding_length + 16,)) * (padding_length + 17)
    assert receiver.open(23, TLS12, encrypt(plaintext + mac + longer)) == plaintext
    errors = []
    bad_paddings = [
        bytes((padding_length,)) * padding_length + bytes((padding_length + 1,)),  # wrong length byte
        b"\x00" + bytes((padding_length,)) * padding_length,  # wrong filler byte
        bytes((255,)) * (padding_length + 1),  # padding longer than the record
    ]
    for bad in bad_paddings:
        receiver.sequence_number = 0
        with pytest.raises(BadRecordMac) as caught:
            receiver.open(23, TLS12, encrypt(plaintext + mac + bad))
        errors.append(str(caught.value))
    receiver.sequence_number = 0
    with pytest.raises(BadRecordMac) as caught:
        receiver.open(23, TLS12, encrypt(plaintext + flipped(mac, 0) + good))
    errors.append(str(caught.value))
    assert len(set(errors)) == 1


def test_oversize_records() -> None:
    for info, etm in KINDS:
        sender, receiver = pair(info, etm, max_plaintext_length=MAX_PLAINTEXT_LENGTH + 1)
        big = sender.seal(APPLICATION_DATA, TLS12, bytes(MAX_PLAINTEXT_LENGTH + 1))
        with pytest.raises(RecordOverflow):  # authentic, but decrypts to more than 2^14 bytes
            receiver.open(APPLICATION_DATA, TLS12, big)
        with pytest.raises(RecordOverflow):
            receiver.open(APPLICATION_DATA, TLS12, bytes(MAX_CIPHERTEXT_LENGTH + 1))
        strict, _ = pair(info, etm)
        with pytest.raises(LocalProtocolError, match="fragment_data"):
            strict.seal(APPLICATION_DATA, TLS12, bytes(MAX_PLAINTEXT_LENGTH + 1))
        assert strict.sequence_number == 0


def test_empty_records() -> None:
    for info, etm in KINDS:
        sender, receiver = pair(info, etm)
        fragment = sender.seal(APPLICATION_DATA, TLS12, b"")  # allowed: RFC 5246 §6.2.1
        assert receiver.open(APPLICATION_DATA, TLS12, fragment) == b""
        # an empty handshake record is accepted, as OpenSSL 3.0 reads on after one (the
        # connection counts it toward MAX_EMPTY_RECORDS); an empty alert or CCS is not
        fragment = sender.seal(HANDSHAKE, TLS12, b"")
        assert receiver.open(HANDSHAKE, TLS12, fragment) == b""
        for content_type in (ContentType.ALERT, ContentType.CHANGE_CIPHER_SPEC):
            sender, receiver = pair(info, etm)
            fragment = sender.seal(content_type, TLS12, b"")
            with pytest.raises(UnexpectedMessage):
                receiver.open(content_type, TLS12, fragment)


def test_bad_arguments_are_local_errors() -> None:
    key, iv, _ = keys_for(GCM_128)
    with pytest.raises(LocalProtocolError):
        RecordProtection(GCM_128, key[:-1], iv)
    with pytest.raises(LocalProtocolError):
        RecordProtection(GCM_128, key, iv + b"\x00")
    with pytest.raises(LocalProtocolError):
        RecordProtection(GCM_128, key, iv, encrypt_then_mac=True)
    with pytest.raises(LocalProtocolError):
        RecordProtection(CBC_SHA256, *keys_for(CBC_SHA256)[:2])  # no MAC key
    with pytest.raises(LocalProtocolError):
        RecordProtection(0x0000, key, iv)  # TLS_NULL_WITH_NULL_NULL: not implemented
    for info, etm in KINDS:
        sender, _ = pair(info, etm)
        with pytest.raises(LocalProtocolError):
            sender.seal(256, TLS12, b"x")
        with pytest.raises(LocalProtocolError):
            sender.seal(APPLICATION_DATA, 0x10000, b"x")
    sender = RecordProtection(CBC_SHA256, *keys_for(CBC_SHA256), explicit_iv=lambda n: bytes(n - 1))
    with pytest.raises(LocalProtocolError):
        sender.seal(APPLICATION_DATA, TLS12, b"x")


def test_wipe() -> None:
    for info, etm in KINDS:
        sender, receiver = pair(info, etm)
        fragment = sender.seal(APPLICATION_DATA, TLS12, b"before close_notify")
        key_copy = sender._key
        sender.wipe()
        assert sender.wiped and not receiver.wiped
        assert key_copy is not None and not any(key_copy)  # our copy was zeroed
        for call in (sender.seal, sender.seal_detailed, sender.seal_record):
            with pytest.raises(LocalProtocolError, match="wiped"):
                call(APPLICATION_DATA, TLS12, b"after")
        receiver.wipe()
        for call in (receiver.open, receiver.open_detailed):
            with pytest.raises(LocalProtocolError, match="wiped"):
                call(APPLICATION_DATA, TLS12, fragment)


# -- known answers computed by hand from the RFCs ---------------------------------------------


def test_aes_gcm_known_answer_rfc5288() -> None:
    key, salt, _ = keys_for(GCM_256, seed=5)
    plaintext = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
    sequence_number = 41
    # RFC 5246 §6.2.3.3: additional_data = seq_num + type + version + length
    additional_data = sequence_number.to_bytes(8, "big") + b"\x17\x03\x03" + len(plaintext).to_bytes(2, "big")
    # RFC 5288 §3: nonce = salt (4, from the key block) || nonce_explicit (8, in the record)
    nonce_explicit = sequence_number.to_bytes(8, "big")
    expected = nonce_explicit + AESGCM(key).encrypt(salt + nonce_explicit, plaintext, additional_data)

    sender = RecordProtection(GCM_256, key, salt, sequence_number=sequence_number)
    detail = sender.seal_detailed(APPLICATION_DATA, TLS12, plaintext)
    assert detail.fragment == expected
    assert detail.nonce == salt + nonce_explicit
    assert detail.additional_data == additional_data
    assert detail.explicit_nonce == nonce_explicit
    assert detail.tag == expected[-16:]
    assert detail.ciphertext == expected[8:-16]
    assert detail.record == b"\x17\x03\x03" + len(expected).to_bytes(2, "big") + expected
    assert [label for label, _ in detail.parts()] == ["header", "explicit nonce", "ciphertext", "tag"]
    assert b"".join(part for _, part in detail.parts()) == detail.record


def test_chacha20_poly1305_known_answer_rfc7905() -> None:
    key, write_iv, _ = keys_for(CHACHA, seed=9)
    plaintext = b"HTTP/1.1 200 OK\r\n\r\nHello"
    sequence_number = 0x1122334455667788
    additional_data = sequence_number.to_bytes(8, "big") + b"\x17\x03\x03" + len(plaintext).to_bytes(2, "big")
    # RFC 7905 §2: the 64-bit seq_num, left-padded with four zero bytes, XORed with the IV
    padded_sequence = bytes(4) + sequence_number.to_bytes(8, "big")
    nonce = bytes(a ^ b for a, b in zip(write_iv, padded_sequence, strict=True))
    expected = ChaCha20Poly1305(key).encrypt(nonce, plaintext, additional_data)

    sender = RecordProtection(CHACHA, key, write_iv, sequence_number=sequence_number)
    detail = sender.seal_detailed(APPLICATION_DATA, TLS12, plaintext)
    assert detail.fragment == expected
    assert detail.nonce == nonce
    assert detail.explicit_nonce == b""
    assert [label for label, _ in detail.parts()] == ["header", "ciphertext", "tag"]
    receiver = RecordProtection(CHACHA, key, write_iv, sequence_number=sequence_number)
    assert receiver.open_detailed(APPLICATION_DATA, TLS12, expected) == detail


@pytest.mark.parametrize("info", [CBC_SHA256, CBC_SHA384], ids=["sha256", "sha384"])
def test_cbc_mac_then_encrypt_layout_rfc5246(info: SuiteInfo) -> None:
    key, _, mac_key = keys_for(info, seed=3)
    iv = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
    sender = RecordProtection(info, key, b"", mac_key, explicit_iv=lambda n: iv, sequence_number=7)
    plaintext = b"\x01\x00"  # an alert: warning, close_notify
    detail = sender.seal_detailed(ContentType.ALERT, TLS12, plaintext)
    fragment = detail.fragment
    assert fragment[:16] == iv  # RFC 5246 §6.2.3.2: the IV is sent in clear in front
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    decrypted = decryptor.update(fragment[16:]) + decryptor.finalize()
    padding_length = decrypted[-1]
    assert decrypted[-(padding_length + 1) :] == bytes((padding_length,)) * (padding_length + 1)
    assert len(decrypted) % 16 == 0 and padding_length < 16  # minimal padding
    content = decrypted[: -(padding_length + 1)]
    assert content[: len(plaintext)] == plaintext
    mac = content[len(plaintext) :]
    expected_mac = hmac.digest(
        mac_key, (7).to_bytes(8, "big") + b"\x15\x03\x03" + len(plaintext).to_bytes(2, "big") + plaintext,
        info.mac_hash,  # type: ignore[arg-type]
    )  # fmt: skip
    assert mac == expected_mac
    assert detail.mac == expected_mac and detail.explicit_nonce == iv
    assert detail.padding == decrypted[-(padding_length + 1) :]
    assert [label for label, _ in detail.parts()] == ["header", "IV", "ciphertext"]


def test_cbc_encrypt_then_mac_layout_rfc7366() -> None:
    info = CBC_SHA256
    key, _, mac_key = keys_for(info, seed=4)
    iv = os.urandom(16)
    sender = RecordProtection(info, key, b"", mac_key, encrypt_then_mac=True, explicit_iv=lambda n: iv)
    plaintext = b"0123456789abcdef" * 3  # a whole number of blocks: a full block of padding
    detail = sender.seal_detailed(APPLICATION_DATA, TLS12, plaintext)
    fragment = detail.fragment
    encrypted, mac = fragment[:-32], fragment[-32:]
    # RFC 7366 §3: MAC(MAC_write_key, seq_num + type + version + length + IV + ENC(content + padding))
    length = len(encrypted)
    expected_mac = hmac.digest(
        mac_key, bytes(8) + b"\x17\x03\x03" + length.to_bytes(2, "big") + encrypted, "sha256"
    )
    assert mac == expected_mac
    assert encrypted[:16] == iv
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    decrypted = decryptor.update(encrypted[16:]) + decryptor.finalize()
    assert decrypted == plaintext + bytes((15,)) * 16
    assert detail.mac == mac and detail.padding == bytes((15,)) * 16
    assert [label for label, _ in detail.parts()] == ["header", "IV", "ciphertext", "MAC"]
    assert b"".join(part for _, part in detail.parts()) == detail.record


@pytest.mark.parametrize(("info", "etm"), PROTECTIONS, ids=PROTECTION_IDS)
def test_detailed_matches_fast_path(info: SuiteInfo, etm: bool) -> None:
    fixed_iv = bytes(range(16))
    key, iv, mac_key = keys_for(info)
    options = {} if info.is_aead else {"explicit_iv": lambda n: fixed_iv}
    fast = RecordProtection(info, key, iv, mac_key, encrypt_then_mac=etm, **options)  # type: ignore[arg-type]
    slow = RecordProtection(info, key, iv, mac_key, encrypt_then_mac=etm, **options)  # type: ignore[arg-type]
    receiver = RecordProtection(info, key, iv, mac_key, encrypt_then_mac=etm)
    for plaintext in (b"a", bytes(100), os.urandom(333)):
        fragment = fast.seal(HANDSHAKE, TLS12, plaintext)
        detail = slow.seal_detailed(HANDSHAKE, TLS12, plaintext)
        assert detail.fragment == fragment
        assert receiver.open_detailed(HANDSHAKE, TLS12, fragment) == detail
        assert b"".join(part for _, part in detail.parts()) == detail.record


# -- seal_into: the in-place fast path ---------------------------------------------------------


@pytest.mark.parametrize(("info", "etm"), PROTECTIONS, ids=PROTECTION_IDS)
def test_seal_into_writes_the_same_record_as_seal_record(info: SuiteInfo, etm: bool) -> None:
    fixed_iv = bytes(range(16))
    key, iv, mac_key = keys_for(info)
    options = {} if info.is_aead else {"explicit_iv": lambda n: fixed_iv[:n]}
    in_place = RecordProtection(info, key, iv, mac_key, encrypt_then_mac=etm, **options)  # type: ignore[arg-type]
    reference = RecordProtection(info, key, iv, mac_key, encrypt_then_mac=etm, **options)  # type: ignore[arg-type]
    receiver = RecordProtection(info, key, iv, mac_key, encrypt_then_mac=etm)
    buffer = bytearray(b"\xee" * (7 + in_place.record_length(MAX_PLAINTEXT_LENGTH)))
    for length in (0, 1, 17, 1000, MAX_PLAINTEXT_LENGTH):
        plaintext = os.urandom(length)
        written = in_place.seal_into(buffer, 7, APPLICATION_DATA, TLS12, plaintext)
        record = reference.seal_record(APPLICATION_DATA, TLS12, plaintext)
        assert bytes(buffer[7 : 7 + written]) == record
        assert written <= in_place.record_length(length)
        assert buffer[:7] == b"\xee" * 7  # nothing written before the offset
        # open reads the fragment in place from a memoryview of the buffer
        assert receiver.open(APPLICATION_DATA, TLS12, memoryview(buffer)[12 : 7 + written]) == plaintext
    assert in_place.sequence_number == reference.sequence_number == receiver.sequence_number == 5


def test_seal_into_checks() -> None:
    sender, receiver = pair(GCM_128)
    with pytest.raises(LocalProtocolError):  # no room: nothing written, sequence number unchanged
        sender.seal_into(bytearray(40), 0, APPLICATION_DATA, TLS12, bytes(20))
    with pytest.raises(LocalProtocolError):
        sender.seal_into(bytearray(100), -1, APPLICATION_DATA, TLS12, b"x")
    with pytest.raises(LocalProtocolError):
        sender.seal_into(bytearray(100_000), 0, APPLICATION_DATA, TLS12, bytes(MAX_PLAINTEXT_LENGTH + 1))
    with pytest.raises(LocalProtocolError):
        sender.seal_into(bytearray(100), 0, 256, TLS12, b"x")
    assert sender.sequence_number == 0
    buffer = bytearray(100)
    written = sender.seal_into(buffer, 0, APPLICATION_DATA, TLS12, b"hello")
    assert written == 5 + 8 + 5 + 16
    assert receiver.open(APPLICATION_DATA, TLS12, bytes(buffer[5:written])) == b"hello"
    cbc_sender, _ = pair(CBC_SHA256)
    with pytest.raises(LocalProtocolError):
        cbc_sender.seal_into(bytearray(30), 0, APPLICATION_DATA, TLS12, b"hello")
    assert cbc_sender.sequence_number == 0
    sender.wipe()
    with pytest.raises(LocalProtocolError):
        sender.seal_into(buffer, 0, APPLICATION_DATA, TLS12, b"hello")


@pytest.mark.parametrize(("info", "etm"), PROTECTIONS, ids=PROTECTION_IDS)
def test_open_into_gives_what_open_gives(info: SuiteInfo, etm: bool) -> None:
    sender, receiver = pair(info, etm)
    _, reference = pair(info, etm)
    plaintext_buffer = bytearray(b"\xee" * (3 + MAX_PLAINTEXT_LENGTH))
    for length in (0, 1, 17, 1000, MAX_PLAINTEXT_LENGTH):
        plaintext = os.urandom(length)
        fragment = sender.seal(APPLICATION_DATA, TLS12, plaintext)
        written = receiver.open_into(APPLICATION_DATA, TLS12, memoryview(fragment), plaintext_buffer, 3)
        assert written == length and bytes(plaintext_buffer[3 : 3 + written]) == plaintext
        assert plaintext_buffer[:3] == b"\xee" * 3
        assert reference.open(APPLICATION_DATA, TLS12, fragment) == plaintext
    assert receiver.sequence_number == reference.sequence_number == 5


@pytest.mark.parametrize(("info", "etm"), KINDS, ids=KIND_IDS)
def test_open_into_failures(info: SuiteInfo, etm: bool) -> None:
    sender, receiver = pair(info, etm)
    fragment = sender.seal(APPLICATION_DATA, TLS12, b"attack at dawn" * 10)
    buffer = bytearray(b"\xee" * 400)
    with pytest.raises(BadRecordMac):  # a flipped bit: no plaintext left behind, no step forward
        receiver.open_into(APPLICATION_DATA, TLS12, flipped(fragment, 8 * len(fragment) - 1), buffer)
    assert b"attack" not in buffer and receiver.sequence_number == 0
    with pytest.raises(LocalProtocolError):  # no room for the plaintext
        receiver.open_into(APPLICATION_DATA, TLS12, fragment, bytearray(10))
    assert receiver.sequence_number == 0
    empty_sender, empty_receiver = pair(info, etm)
    empty = empty_sender.seal(ContentType.ALERT, TLS12, b"")
    with pytest.raises(UnexpectedMessage):  # the empty-record rule of open applies too
        empty_receiver.open_into(ContentType.ALERT, TLS12, empty, buffer)
    assert empty_receiver.sequence_number == 0
    assert receiver.open_into(APPLICATION_DATA, TLS12, fragment, buffer, 1) == 140
    assert bytes(buffer[1:141]) == b"attack at dawn" * 10
    receiver.wipe()
    with pytest.raises(LocalProtocolError):
        receiver.open_into(APPLICATION_DATA, TLS12, fragment, buffer)


# -- replaceable primitives (graded labs) ---------------------------------------------------


def test_learner_aead_functions() -> None:
    calls: list[tuple[bytes, bytes]] = []

    def learner_seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        calls.append((nonce, aad))
        return AESGCM(key).encrypt(nonce, plaintext, aad)

    def learner_open(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)

    key, iv, _ = keys_for(GCM_128)
    reference = RecordProtection(GCM_128, key, iv)
    learner = RecordProtection(GCM_128, key, iv, aead_seal=learner_seal, aead_open=learner_open)
    fragment = learner.seal(APPLICATION_DATA, TLS12, b"hello")
    assert fragment == reference.seal(APPLICATION_DATA, TLS12, b"hello")
    assert calls == [(iv + bytes(8), bytes(8) + b"\x17\x03\x03\x00\x05")]
    checker = RecordProtection(GCM_128, key, iv, aead_open=learner_open)
    assert checker.open(APPLICATION_DATA, TLS12, fragment) == b"hello"
    with pytest.raises(BadRecordMac):  # InvalidTag from the learner's function is translated
        checker.open(APPLICATION_DATA, TLS12, flipped(fragment, 80))

    def lazy_open(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes | None:
        return None

    with pytest.raises(BadRecordMac):
        RecordProtection(GCM_128, key, iv, aead_open=lazy_open).open(APPLICATION_DATA, TLS12, fragment)  # type: ignore[arg-type]

    def raising_open(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        raise InvalidTag

    with pytest.raises(BadRecordMac):
        RecordProtection(GCM_128, key, iv, aead_open=raising_open).open(APPLICATION_DATA, TLS12, fragment)
    with pytest.raises(LocalProtocolError):
        RecordProtection(CBC_SHA256, *keys_for(CBC_SHA256), aead_seal=learner_seal)


# -- framing ---------------------------------------------------------------------------------


def sample_stream() -> tuple[list[Record], bytes]:
    records = [
        Record(HANDSHAKE, 0x0301, b"\x01\x00\x00\x02\x03\x03"),
        Record(ContentType.CHANGE_CIPHER_SPEC, TLS12, b"\x01"),
        Record(APPLICATION_DATA, TLS12, b""),
        Record(APPLICATION_DATA, TLS12, os.urandom(300)),
        Record(ContentType.ALERT, TLS12, b"\x01\x00"),
    ]
    return records, b"".join(record.encode() for record in records)


def test_record_encode_and_pull_push() -> None:
    record = Record(HANDSHAKE, TLS12, b"\x0e\x00\x00\x00")
    assert record.encode() == bytes.fromhex("16030300040e000000")
    assert record.header == bytes.fromhex("1603030004")
    buf = Buffer()
    push_record(buf, record)
    assert buf.data == record.encode()
    pulled = pull_record(Buffer(buf.data), plaintext=True)
    assert pulled == record and pulled.content_type is ContentType.HANDSHAKE
    with pytest.raises(DecodeError):
        pull_record(Buffer(buf.data[:-1]))
    assert Record(99, TLS12, b"x").content_type == 99  # a notebook may build a bad record
    with pytest.raises(LocalProtocolError):
        Record(256, TLS12, b"")
    with pytest.raises(LocalProtocolError):
        Record(HANDSHAKE, TLS12, bytes(0x10000))


def test_split_records_at_every_cut() -> None:
    records, stream = sample_stream()
    for cut in range(len(stream) + 1):
        first, tail = split_records(stream[:cut])
        second, rest = split_records(tail + stream[cut:])
        assert first + second == records
        assert rest == b""
        assert stream[:cut] == b"".join(r.encode() for r in first) + tail
        reader = RecordReader(plaintext=True)
        got = list(reader.feed(stream[:cut])) + list(reader.feed(stream[cut:]))
        assert got == records and reader.pending == b""


def test_record_reader_byte_by_byte() -> None:
    records, stream = sample_stream()
    reader = RecordReader(plaintext=True)
    got: list[Record] = []
    for byte in stream:
        got.extend(reader.feed(bytes((byte,))))
    assert got == records


def test_record_reader_switches_to_protected_mid_feed() -> None:
    big_protected = Record(APPLICATION_DATA, TLS12, bytes(MAX_PLAINTEXT_LENGTH + 24))
    stream = Record(ContentType.CHANGE_CIPHER_SPEC, TLS12, b"\x01").encode() + big_protected.encode()
    reader = RecordReader(plaintext=True)
    got = []
    for record in reader.feed(stream):
        got.append(record)
        if record.content_type == ContentType.CHANGE_CIPHER_SPEC:
            reader.plaintext = False
    assert got[1] == big_protected
    with pytest.raises(RecordOverflow):  # the same stream, all treated as plaintext
        split_records(stream, plaintext=True)


@pytest.mark.parametrize(
    ("header", "alert_before_the_hellos"),
    [
        (bytes([0x63, 0x03, 0x01, 0x00, 0x02]), AlertDescription.UNEXPECTED_MESSAGE),  # unknown type
        (bytes([HANDSHAKE, 0x03, 0x01, 0x48, 0x01]), AlertDescription.RECORD_OVERFLOW),  # 18433 bytes
        # the first record: NotTLSError (its nominal alert is protocol_version; none is sent)
        (bytes([APPLICATION_DATA, 0x04, 0x03, 0x00, 0x02]), AlertDescription.PROTOCOL_VERSION),
    ],
    ids=["unknown-type", "too-long", "major-byte-4"],
)
def test_record_reader_checks_the_expected_version_before_anything_else(
    header: bytes, alert_before_the_hellos: AlertDescription
) -> None:
    # OpenSSL 3.0 ssl3_get_record: "!s->first_packet && version != s->version" comes first
    seen: list[tuple[int, int]] = []

    class Refused(Exception):
        pass

    def on_wrong_version(content_type: int, version: int) -> None:
        seen.append((content_type, version))
        raise Refused

    reader = RecordReader(plaintext=True, expected_version=TLS12, on_wrong_version=on_wrong_version)
    with pytest.raises(Refused):
        list(reader.feed(header))  # the header alone: no need to wait for the fragment
    assert seen == [(header[0], int.from_bytes(header[1:3], "big"))]
    default = RecordReader(plaintext=True, expected_version=TLS12)
    with pytest.raises(RemoteProtocolError) as raised:
        list(default.feed(header))
    assert raised.value.alert == AlertDescription.PROTOCOL_VERSION
    # before the hellos (no expected version) the header's other checks apply; a first record
    # whose major byte is not 3 is not TLS (NotTLSError: the connection sends no alert)
    with pytest.raises(RemoteProtocolError) as before:
        list(RecordReader(plaintext=True).feed(header))
    assert before.value.alert == alert_before_the_hellos
    assert isinstance(before.value, NotTLSError) == (header[1] != 3)


@pytest.mark.parametrize(
    ("first_bytes", "says"),
    [
        (b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", "plain HTTP sent to a TLS port"),
        (b"POST /form HTTP/1.1\r\n", "plain HTTP sent to a TLS port"),
        (b"HEAD / HTTP/1.0\r\n", "plain HTTP sent to a TLS port"),
        (b"PUT /x HTTP/1.1\r\n", "plain HTTP sent to a TLS port"),
        (b"CONNECT example.test:443 HTTP/1.1\r\n", "proxy CONNECT request"),
        (b"HTTP/1.1 400 Bad Request\r\n", "plain HTTP response"),
        (
            bytes([HANDSHAKE, 0x04, 0x01, 0x00, 0x02, 0x01, 0x00]),
            "record version 0x0401 is not a TLS version",
        ),
        (bytes([0x63, 0x04, 0x01, 0x48, 0x01]), "record version 0x0401"),  # before the type and the length
    ],
    ids=["get", "post", "head", "put", "connect", "http-response", "major-4", "major-4-bad-type-too-long"],
)
def test_a_first_record_whose_major_byte_is_not_3_is_not_tls(first_bytes: bytes, says: str) -> None:
    # OpenSSL 3.0 ssl3_get_record: the major byte is checked before the content type and the
    # length; on the first record, "Doesn't look like TLS - don't send an alert"
    with pytest.raises(NotTLSError, match=re.escape(says)) as raised:
        list(RecordReader(plaintext=True).feed(first_bytes[:5]))  # the header is enough
    assert "(no alert sent)" in str(raised.value)
    assert raised.value.args[0] == describe_not_tls(first_bytes[:5])


def test_a_later_record_whose_major_byte_is_not_3_is_protocol_version() -> None:
    reader = RecordReader(plaintext=True)
    assert list(reader.feed(Record(HANDSHAKE, 0x0301, b"x").encode())) == [Record(HANDSHAKE, 0x0301, b"x")]
    assert not reader.first_record
    with pytest.raises(RemoteProtocolError) as raised:
        list(reader.feed(b"GET / HTTP/1.1\r\n"))
    assert not isinstance(raised.value, NotTLSError)
    assert raised.value.alert == AlertDescription.PROTOCOL_VERSION


def test_record_reader_with_an_expected_version_reads_records_of_that_version() -> None:
    records = sample_stream()[0][1:]  # the first one is a hello record with 0x0301
    assert {record.version for record in records} == {TLS12}
    reader = RecordReader(plaintext=True, expected_version=TLS12)
    assert list(reader.feed(b"".join(record.encode() for record in records))) == records
    returning = RecordReader(expected_version=TLS12, on_wrong_version=lambda content_type, version: None)
    with pytest.raises(RemoteProtocolError):  # a handler that returns does not let the record through
        list(returning.feed(Record(HANDSHAKE, 0x0301, b"x").encode()))


def test_framing_errors() -> None:
    with pytest.raises(UnexpectedMessage):  # RFC 5246 §6
        split_records(b"\x63\x03\x03\x00\x01x")
    with pytest.raises(UnexpectedMessage):  # heartbeat was never negotiated
        split_records(b"\x18\x03\x03\x00\x01x")
    with pytest.raises(RemoteProtocolError) as caught:
        split_records(b"\x16\x02\x00\x00\x01x")
    assert caught.value.alert == AlertDescription.PROTOCOL_VERSION
    with pytest.raises(RemoteProtocolError) as http:  # an HTTP request sent to a TLS port:
        split_records(b"GET / HTTP/1.1\r\n")
    assert http.value.alert == AlertDescription.PROTOCOL_VERSION  # the major byte before the type
    # the header alone is enough to fail: no need to wait for 2^14 + 2049 bytes
    with pytest.raises(RecordOverflow):
        split_records(b"\x17\x03\x03" + (MAX_CIPHERTEXT_LENGTH + 1).to_bytes(2, "big"))
    records, _ = split_records(b"\x17\x03\x03" + MAX_CIPHERTEXT_LENGTH.to_bytes(2, "big") + bytes(18432))
    assert len(records[0].fragment) == MAX_CIPHERTEXT_LENGTH
    with pytest.raises(RecordOverflow):  # a plaintext record may not exceed 2^14
        split_records(b"\x16\x03\x03" + (MAX_PLAINTEXT_LENGTH + 1).to_bytes(2, "big"), plaintext=True)
    assert split_records(b"\x16\x03\x03\x00\x00", plaintext=True)[0] == [Record(HANDSHAKE, TLS12, b"")]
    for content_type in (20, 21):  # an empty alert or CCS is unexpected_message (OpenSSL too)
        with pytest.raises(UnexpectedMessage):
            split_records(bytes((content_type,)) + b"\x03\x03\x00\x00", plaintext=True)
        assert split_records(bytes((content_type,)) + b"\x03\x03\x00\x00")[0]  # protected: open() decides
    assert split_records(b"\x17\x03\x03\x00\x00", plaintext=True)[0] == [Record(APPLICATION_DATA, TLS12, b"")]
    assert split_records(b"\x16\x03") == ([], b"\x16\x03")


def test_fragment_data() -> None:
    data = os.urandom(3 * MAX_PLAINTEXT_LENGTH + 5)
    fragments = fragment_data(APPLICATION_DATA, data)
    assert [len(f) for f in fragments] == [MAX_PLAINTEXT_LENGTH] * 3 + [5]
    assert b"".join(fragments) == data
    assert fragment_data(HANDSHAKE, b"abcdefg", max_fragment=3) == [b"abc", b"def", b"g"]
    assert fragment_data(APPLICATION_DATA, b"") == [b""]
    assert fragment_data(HANDSHAKE, b"") == []
    with pytest.raises(LocalProtocolError):
        fragment_data(APPLICATION_DATA, data, max_fragment=MAX_PLAINTEXT_LENGTH + 1)
    sender, receiver = pair(GCM_128)
    for fragment in fragments:  # each fragment seals into a valid record
        record_bytes = sender.seal_record(APPLICATION_DATA, TLS12, fragment)
        (record,), tail = split_records(record_bytes)
        assert tail == b"" and receiver.open_record(record) == fragment


# -- only TLSError for any input ---------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300), plaintext=st.booleans())
def test_split_records_random_bytes_only_tls_errors(data: bytes, plaintext: bool) -> None:
    try:
        records, tail = split_records(data, plaintext=plaintext)
    except TLSError:
        return
    assert b"".join(r.encode() for r in records) + tail == data


_FUZZ_PROTECTIONS = {kind_id: pair(info, etm) for kind_id, (info, etm) in zip(KIND_IDS, KINDS, strict=True)}


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(KIND_IDS),
    plaintext=st.binary(max_size=80),
    position=st.integers(min_value=0),
    value=st.integers(min_value=1, max_value=255),
    noise=st.binary(max_size=120),
)
def test_open_fuzz_only_tls_errors(
    kind: str, plaintext: bytes, position: int, value: int, noise: bytes
) -> None:
    sender, receiver = _FUZZ_PROTECTIONS[kind]
    receiver.sequence_number = sender.sequence_number
    fragment = bytearray(sender.seal(APPLICATION_DATA, TLS12, plaintext))
    fragment[position % len(fragment)] ^= value  # a single-byte change
    with pytest.raises(BadRecordMac):
        receiver.open(APPLICATION_DATA, TLS12, bytes(fragment))
    try:
        receiver.open(APPLICATION_DATA, TLS12, noise)
    except TLSError:
        pass


# -- real OpenSSL traffic ----------------------------------------------------------------------


def server_random_of(server_to_client: bytes) -> bytes:
    records, _ = split_records(server_to_client)
    server_hello = records[0].fragment
    assert records[0].content_type == HANDSHAKE and server_hello[0] == 2
    return server_hello[6:38]  # type(1) length(3) version(2) random(32)


OPENSSL_CASES = [
    ("ECDHE-RSA-AES128-GCM-SHA256", True),
    ("ECDHE-RSA-AES256-GCM-SHA384", True),
    ("ECDHE-RSA-CHACHA20-POLY1305", True),
    ("ECDHE-RSA-AES128-SHA256", True),
    ("ECDHE-RSA-AES128-SHA256", False),
    ("ECDHE-RSA-AES256-SHA384", False),
]


@pytest.mark.interop
@pytest.mark.parametrize(("suite_name", "etm"), OPENSSL_CASES)
def test_openssl_records_decrypt_and_reencrypt_byte_for_byte(
    recorded_session: object, suite_name: str, etm: bool
) -> None:
    session = recorded_session(suite_name, etm=etm)  # type: ignore[operator]
    info = suite_info(session.suite)
    keys = key_block(
        session.master_secret, session.client_random, server_random_of(session.server_to_client), info
    )
    for sender, stream, app_data in (
        ("client", session.client_to_server, session.app_data_client),
        ("server", session.server_to_client, session.app_data_server),
    ):
        mac_key, key, iv = keys.write_keys(sender)
        records, tail = split_records(stream)
        assert tail == b""
        ccs = next(i for i, r in enumerate(records) if r.content_type == ContentType.CHANGE_CIPHER_SPEC)
        protected = records[ccs + 1 :]
        receiver = RecordProtection(info, key, iv, mac_key, encrypt_then_mac=etm and not info.is_aead)
        opened = [(r.content_type, receiver.open_record(r)) for r in protected]
        # Finished first (seq 0: RFC 5246 §6.1 resets the sequence number at ChangeCipherSpec)
        assert opened[0][0] == HANDSHAKE and opened[0][1][:4] == b"\x14\x00\x00\x0c"
        received = b"".join(data for ct, data in opened if ct == APPLICATION_DATA)
        assert received == app_data
        assert (ContentType.ALERT, b"\x01\x00") in opened  # close_notify
        # and sealing the same plaintexts gives OpenSSL's bytes exactly
        for sequence_number, (record, (content_type, plaintext)) in enumerate(
            zip(protected, opened, strict=True)
        ):
            explicit = record.fragment[: info.record_iv_length]
            if info.record_iv_length == 8:
                # OpenSSL 3.0 starts the GCM explicit nonce at a random value and adds one per
                # record (EVP_CTRL_GCM_IV_GEN); httpslab's default is the sequence number itself.
                first = int.from_bytes(protected[0].fragment[:8], "big")
                assert int.from_bytes(explicit, "big") == (first + sequence_number) % 2**64
            resealer = RecordProtection(
                info, key, iv, mac_key, encrypt_then_mac=etm and not info.is_aead,
                explicit_iv=(lambda n, e=explicit: e) if explicit else None, sequence_number=sequence_number,
            )  # fmt: skip
            assert resealer.seal_record(content_type, record.version, plaintext) == record.encode()
