"""Tests for httpslab.crypto.keyexchange: RSA premaster (RFC 5246 §7.4.7.1), finite-field DH (RFC 5246
§8.1.2, RFC 7919, RFC 3526) and ECDHE (RFC 8422, RFC 7748).

Known answers: tests/vectors/x25519 (RFC 7748 §5.2, §6.1), tests/vectors/ecdh (RFC 5903 §8.1),
tests/vectors/ffdhe (RFC 7919 A.1/A.2, RFC 3526 §3), tests/vectors/pkcs1 (Wycheproof subset).
Finite-field DH is cross-checked against real OpenSSL through the ``openssl`` command
(tests/openssl_dh.py), not ``cryptography``'s deprecated FFDH API.
"""

from __future__ import annotations

import random
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import mpmath
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from openssl_dh import (
    OpenSSLKey,
    derive,
    generate_key,
    openssl,
    parameter_numbers,
    parameters_file,
    parse_key_text,
    private_key_file,
)
from vectorfiles import VECTORS, load_records

from httpslab.crypto.keyexchange import (
    DH_GROUPS,
    FFDHE2048,
    FFDHE3072,
    MODP2048,
    TOY_GROUP_23,
    TOY_GROUP_64,
    DHGroup,
    dh_generate_private,
    dh_group,
    dh_public,
    dh_shared_secret,
    ecdhe_generate,
    ecdhe_point_length,
    ecdhe_public_bytes,
    ecdhe_shared_secret,
    group_from_params,
    make_rsa_premaster,
    pkcs1_v15_pad,
    pkcs1_v15_unpad,
    rsa_decrypt_premaster,
    rsa_encrypt_premaster,
    rsa_textbook_decrypt,
    rsa_textbook_encrypt,
)
from httpslab.enums import NamedGroup
from httpslab.errors import DecryptError, IllegalParameter, LocalProtocolError, PaddingError

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not on PATH")


# ============================================================================ RSA


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_make_rsa_premaster() -> None:
    premaster = make_rsa_premaster(0x0303, bytes(range(46)))
    assert premaster == b"\x03\x03" + bytes(range(46))
    random_one, random_two = make_rsa_premaster(), make_rsa_premaster()
    assert len(random_one) == 48 and random_one[:2] == b"\x03\x03"
    assert random_one != random_two
    assert make_rsa_premaster(0x0301)[:2] == b"\x03\x01"
    for bad in (bytes(45), bytes(47), "x" * 46):
        with pytest.raises(LocalProtocolError):
            make_rsa_premaster(0x0303, bad)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        make_rsa_premaster(0x10000)


def test_rsa_premaster_round_trip(rsa_key: rsa.RSAPrivateKey) -> None:
    premaster = make_rsa_premaster()
    encrypted = rsa_encrypt_premaster(rsa_key.public_key(), premaster)
    assert len(encrypted) == 256
    assert rsa_decrypt_premaster(rsa_key, encrypted, 0x0303) == premaster
    # PKCS#1 v1.5 encryption is randomised
    assert rsa_encrypt_premaster(rsa_key.public_key(), premaster) != encrypted


def test_textbook_rsa_and_unpad_recover_what_cryptography_encrypted(rsa_key: rsa.RSAPrivateKey) -> None:
    premaster = make_rsa_premaster()
    encrypted = rsa_encrypt_premaster(rsa_key.public_key(), premaster)
    block = rsa_textbook_decrypt(rsa_key, encrypted)
    assert block[:2] == b"\x00\x02"
    assert pkcs1_v15_unpad(block, expected_length=48) == premaster


def test_pad_plus_textbook_rsa_is_what_cryptography_decrypts(rsa_key: rsa.RSAPrivateKey) -> None:
    premaster = make_rsa_premaster(0x0303, bytes(46))
    block = pkcs1_v15_pad(premaster, 256)
    encrypted = rsa_textbook_encrypt(rsa_key.public_key(), block)
    assert rsa_key.decrypt(encrypted, padding.PKCS1v15()) == premaster
    assert rsa_decrypt_premaster(rsa_key, encrypted, 0x0303) == premaster


def _countermeasure_outputs(
    rsa_key: rsa.RSAPrivateKey, encrypted: bytes, version: int = 0x0303
) -> list[bytes]:
    return [rsa_decrypt_premaster(rsa_key, encrypted, version) for _ in range(3)]


def _assert_random_premasters(outputs: list[bytes], real: bytes | None = None) -> None:
    assert all(len(output) == 48 for output in outputs)
    assert len(set(outputs)) == len(outputs), "a fresh random premaster each time"
    if real is not None:
        assert real not in outputs


def test_countermeasure_bad_padding(rsa_key: rsa.RSAPrivateKey) -> None:
    premaster = make_rsa_premaster()
    good_block = pkcs1_v15_pad(premaster, 256)
    for bad_block in (
        b"\x00\x01" + good_block[2:],  # block type 1 (signature padding)
        b"\x00\x02" + bytes(253) + b"\x30",  # PS of zeros: the separator comes too early
        b"\x00\x02" + b"\xff" * 254,  # no separator at all
        b"\x00\x00" + good_block[2:],
    ):
        encrypted = rsa_textbook_encrypt(rsa_key.public_key(), bad_block)
        _assert_random_premasters(_countermeasure_outputs(rsa_key, encrypted), premaster)


def test_countermeasure_wrong_length(rsa_key: rsa.RSAPrivateKey) -> None:
    for length in (0, 47, 49, 100):
        message = b"\x03\x03" + bytes(range(length))[: max(0, length - 2)]
        message = message[:length]
        encrypted = rsa_key.public_key().encrypt(message, padding.PKCS1v15())
        _assert_random_premasters(_countermeasure_outputs(rsa_key, encrypted))


def test_countermeasure_wrong_version(rsa_key: rsa.RSAPrivateKey) -> None:
    premaster = make_rsa_premaster(0x0302)
    encrypted = rsa_encrypt_premaster(rsa_key.public_key(), premaster)
    _assert_random_premasters(_countermeasure_outputs(rsa_key, encrypted, 0x0303), premaster)
    # the same ciphertext is accepted when the ClientHello really offered 0x0302
    assert rsa_decrypt_premaster(rsa_key, encrypted, 0x0302) == premaster


@pytest.mark.parametrize("encrypted", [b"", b"\x01", bytes(255), bytes(257), b"\xff" * 256, bytes(256)])
def test_countermeasure_never_raises_on_garbage(rsa_key: rsa.RSAPrivateKey, encrypted: bytes) -> None:
    _assert_random_premasters(_countermeasure_outputs(rsa_key, encrypted))


def test_rsa_helpers_reject_bad_keys_and_inputs(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(LocalProtocolError):
        rsa_encrypt_premaster(rsa_key.public_key(), bytes(47))
    with pytest.raises(LocalProtocolError):
        rsa_encrypt_premaster("not a key", bytes(48))  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        rsa_decrypt_premaster(rsa_key.public_key(), bytes(256), 0x0303)  # type: ignore[arg-type]
    with pytest.raises(DecryptError):
        rsa_textbook_decrypt(rsa_key, bytes(255))
    with pytest.raises(DecryptError):
        rsa_textbook_decrypt(rsa_key, b"\xff" * 256)  # not smaller than n
    with pytest.raises(LocalProtocolError):
        rsa_textbook_encrypt(rsa_key.public_key(), b"\xff" * 256)


# ---------------------------------------------------------------------------- PKCS#1 v1.5 padding


def test_pkcs1_pad_structure() -> None:
    message = bytes(range(48))
    block = pkcs1_v15_pad(message, 256)
    assert len(block) == 256
    assert block[:2] == b"\x00\x02"
    padding_string = block[2 : 256 - 48 - 1]
    assert len(padding_string) == 256 - 3 - 48 and 0 not in padding_string
    assert block[256 - 48 - 1] == 0
    assert block[-48:] == message
    # reproducible with a given padding string
    fixed = pkcs1_v15_pad(message, 128, b"\x55" * (128 - 3 - 48))
    assert fixed == b"\x00\x02" + b"\x55" * 77 + b"\x00" + message


def test_pkcs1_pad_rejects() -> None:
    with pytest.raises(LocalProtocolError):
        pkcs1_v15_pad(bytes(246), 256)  # PS would be 7 bytes: fewer than 8
    assert len(pkcs1_v15_pad(bytes(245), 256)) == 256  # PS of exactly 8 is fine
    with pytest.raises(LocalProtocolError):
        pkcs1_v15_pad(bytes(48), 128, b"\x55" * 76 + b"\x00")  # a zero in PS
    with pytest.raises(LocalProtocolError):
        pkcs1_v15_pad(bytes(48), 128, b"\x55" * 10)  # wrong PS length


@pytest.mark.parametrize(
    "block",
    [
        b"",
        b"\x00\x02" + b"\x11" * 8,  # too short, no separator
        b"\x01\x02" + b"\x11" * 8 + b"\x00msg",  # first byte not zero
        b"\x00\x01" + b"\x11" * 8 + b"\x00msg",  # block type 1
        b"\x00\x02" + b"\x11" * 7 + b"\x00msg!",  # PS only 7 bytes
        b"\x00\x02" + b"\x11" * 20,  # no separator
    ],
)
def test_pkcs1_unpad_rejects_with_one_silent_error(block: bytes) -> None:
    with pytest.raises(PaddingError) as info:
        pkcs1_v15_unpad(block)
    assert str(info.value) == str(PaddingError())  # says nothing about *what* was wrong


def test_pkcs1_unpad_expected_length() -> None:
    block = b"\x00\x02" + b"\x11" * 8 + b"\x00" + b"m" * 5
    assert pkcs1_v15_unpad(block) == b"m" * 5
    assert pkcs1_v15_unpad(block, expected_length=5) == b"m" * 5
    with pytest.raises(PaddingError):
        pkcs1_v15_unpad(block, expected_length=48)


WYCHEPROOF = load_records(VECTORS / "pkcs1" / "wycheproof-rsa-pkcs1-2048-subset.txt")


@pytest.mark.parametrize("vector", WYCHEPROOF[1:], ids=lambda v: f"tcId{v['TCID']}")
def test_wycheproof_pkcs1_vectors(vector: dict[str, str]) -> None:
    # Source: Wycheproof rsa_pkcs1_2048_test.json (see the vector file header)
    key = serialization.load_der_private_key(bytes.fromhex(WYCHEPROOF[0]["KEY_PKCS8"]), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    block = rsa_textbook_decrypt(key, bytes.fromhex(vector["CT"]))
    if vector["RESULT"] == "valid":
        assert pkcs1_v15_unpad(block) == bytes.fromhex(vector["MSG"])
    else:
        with pytest.raises(PaddingError):
            pkcs1_v15_unpad(block)


# ============================================================================ finite-field DH

FFDHE_VECTORS = {
    record["NAME"]: record
    for name in ("ffdhe2048", "ffdhe3072", "modp2048")
    for record in load_records(VECTORS / "ffdhe" / f"{name}.txt")
}
NAMED_GROUPS = {"ffdhe2048": FFDHE2048, "ffdhe3072": FFDHE3072, "modp2048": MODP2048}


def miller_rabin(n: int, rounds: int = 6) -> bool:
    """Probabilistic primality test (written here, independent of the code under test)."""
    if n < 4:
        return n in (2, 3)
    if n % 2 == 0:
        return False
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    rng = random.Random(n)
    for _ in range(rounds):
        x = pow(rng.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


@pytest.mark.parametrize("name", sorted(NAMED_GROUPS))
def test_named_group_constants_are_the_published_ones(name: str) -> None:
    group, vector = NAMED_GROUPS[name], FFDHE_VECTORS[name]
    assert group.p == int(vector["P"], 16)
    assert group.g == int(vector["G"]) == 2
    assert group.q == (group.p - 1) // 2
    bits = group.p.bit_length()
    assert bits in (2048, 3072)
    mask = (1 << 64) - 1
    assert group.p & mask == mask, "low 64 bits are all ones"
    assert group.p >> (bits - 64) == mask, "high 64 bits are all ones"
    assert group.p % 2 == 1
    assert miller_rabin(group.q), "(p-1)/2 is prime: p is a safe prime"
    assert miller_rabin(group.p)


@pytest.mark.parametrize("name", sorted(NAMED_GROUPS))
def test_named_group_primes_follow_the_rfc_formula(name: str) -> None:
    # RFC 7919 App. A: p = 2^b - 2^(b-64) + {[2^(b-130) e] + X} * 2^64 - 1
    # RFC 3526:        p = 2^b - 2^(b-64) - 1 + 2^64 * {[2^(b-130) pi] + X}
    vector, group = FFDHE_VECTORS[name], NAMED_GROUPS[name]
    b = group.p.bit_length()
    with mpmath.workprec(b + 64):
        constant = mpmath.e if vector["CONSTANT"] == "e" else mpmath.pi
        floor = int(mpmath.floor(mpmath.ldexp(constant, b - 130)))
    assert group.p == 2**b - 2 ** (b - 64) + (floor + int(vector["X"])) * 2**64 - 1


@needs_openssl
@pytest.mark.parametrize(
    ("openssl_name", "group"), [("ffdhe2048", FFDHE2048), ("ffdhe3072", FFDHE3072), ("modp_2048", MODP2048)]
)
def test_named_groups_equal_the_ones_openssl_knows(openssl_name: str, group: DHGroup) -> None:
    parameters_pem = openssl("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", f"group:{openssl_name}")
    assert parameter_numbers(parameters_pem) == (group.p, group.g)


@needs_openssl
@pytest.mark.parametrize("group", [FFDHE2048, MODP2048, TOY_GROUP_64], ids=lambda g: g.name)
def test_openssl_says_p_and_q_are_prime(group: DHGroup) -> None:
    assert group.q is not None
    for number in (group.p, group.q):
        result = subprocess.run(["openssl", "prime", "-hex", f"{number:X}"], capture_output=True, text=True)
        assert result.stdout.strip().endswith("is prime"), result.stdout


def test_toy_groups() -> None:
    assert TOY_GROUP_23.toy and TOY_GROUP_64.toy and not FFDHE2048.toy
    assert "TOY" in repr(TOY_GROUP_23)
    # the textbook example (e.g. Wikipedia, "Diffie–Hellman key exchange"): p=23, g=5, a=6, b=15
    assert dh_public(TOY_GROUP_23, 6) == 8
    assert dh_public(TOY_GROUP_23, 15) == 19
    assert dh_shared_secret(TOY_GROUP_23, 6, 19) == dh_shared_secret(TOY_GROUP_23, 15, 8) == b"\x02"
    # toy64: safe prime, and 2 generates the subgroup of order q
    assert TOY_GROUP_64.q is not None
    assert TOY_GROUP_64.p == 2 * TOY_GROUP_64.q + 1
    assert miller_rabin(TOY_GROUP_64.p) and miller_rabin(TOY_GROUP_64.q)
    assert pow(2, TOY_GROUP_64.q, TOY_GROUP_64.p) == 1
    assert TOY_GROUP_64.p.bit_length() == 64
    assert set(DH_GROUPS) >= {"ffdhe2048", "ffdhe3072", "modp2048", "toy23", "toy64"}


@settings(max_examples=30, deadline=None)
@given(
    alice=st.integers(min_value=2, max_value=TOY_GROUP_64.p - 2),
    bob=st.integers(min_value=2, max_value=TOY_GROUP_64.p - 2),
)
def test_both_sides_agree_toy64(alice: int, bob: int) -> None:
    group = TOY_GROUP_64
    assert dh_shared_secret(group, alice, dh_public(group, bob)) == dh_shared_secret(
        group, bob, dh_public(group, alice)
    )


@settings(max_examples=8, deadline=None)
@given(
    alice=st.integers(min_value=2, max_value=FFDHE2048.p - 2),
    bob=st.integers(min_value=2, max_value=FFDHE2048.p - 2),
)
def test_both_sides_agree_ffdhe2048(alice: int, bob: int) -> None:
    group = FFDHE2048
    secret = dh_shared_secret(group, alice, dh_public(group, bob))
    assert secret == dh_shared_secret(group, bob, dh_public(group, alice))
    assert 1 <= len(secret) <= 256 and secret[0] != 0


# ---------------------------------------------------------------------------- against real OpenSSL

#: A 513-bit safe-prime group standing for "whatever (p, g) a server sends" (RFC 5246 §7.4.3):
#: p = 2^512 + 677647, the smallest safe prime above 2^512 with p ≡ 7 (mod 8) (found by a search
#: of ours; p and (p-1)/2 checked below by Miller-Rabin and ``openssl prime``), and g = 4 = 2^2, which
#: generates the subgroup of order (p-1)/2. Not a named group, so it comes from group_from_params
#: with q unknown. OpenSSL 3.0 refuses DH moduli below 512 bits ("modulus too small": the toy
#: groups), so a custom group must be at least that large. Because p is just above 2^512, len(p)
#: is 65 bytes but all values below p except a 2^-492 fraction fit in 64: every shared secret in
#: this group has a leading zero byte once padded to len(p).
CUSTOM_513 = group_from_params(2**512 + 677647, 4)

OPENSSL_GROUPS = {
    "ffdhe2048": FFDHE2048,
    "ffdhe3072": FFDHE3072,
    "modp2048": MODP2048,
    "custom513": CUSTOM_513,
}
#: How ``openssl genpkey -text`` names a group it recognises from our parameters (its GROUP: line).
OPENSSL_GROUP_NAMES = {"ffdhe2048": "ffdhe2048", "ffdhe3072": "ffdhe3072", "modp2048": "modp_2048"}


@dataclass(frozen=True)
class OpenSSLExchange:
    """One DH exchange done entirely by OpenSSL: two fresh key pairs and what each side derived."""

    group: DHGroup
    alice: OpenSSLKey
    bob: OpenSSLKey
    alice_secret: bytes  # -inkey alice -peerkey bob, dh_pad:0: leading zero bytes stripped
    bob_secret_padded: bytes  # -inkey bob -peerkey alice, dh_pad:1: padded to len(p)


@pytest.fixture(scope="module")
def openssl_dh(tmp_path_factory: pytest.TempPathFactory) -> dict[str, OpenSSLExchange]:
    """One OpenSSL exchange per group in OPENSSL_GROUPS: six openssl processes per group."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not on PATH")
    directory = tmp_path_factory.mktemp("openssl-dh")
    exchanges = {}
    for name, group in OPENSSL_GROUPS.items():
        parameters = parameters_file(group, directory)
        alice = generate_key(parameters, directory, f"{name}-alice")
        bob = generate_key(parameters, directory, f"{name}-bob")
        exchanges[name] = OpenSSLExchange(
            group,
            alice,
            bob,
            alice_secret=derive(alice.private_file, bob.public_file, pad=False),
            bob_secret_padded=derive(bob.private_file, alice.public_file, pad=True),
        )
    return exchanges


def _assert_agrees_with_openssl(exchange: OpenSSLExchange, alice_secret: bytes, bob_secret: bytes) -> None:
    """httpslab's premaster secrets for Alice and Bob against what OpenSSL derived for them.

    Ours are stripped of leading zero bytes (RFC 5246 §8.1.2): equal byte for byte to OpenSSL's
    dh_pad:0 output, and equal to its dh_pad:1 output once padded back to len(p).
    """
    length = exchange.group.byte_length
    assert alice_secret == exchange.alice_secret
    assert len(exchange.bob_secret_padded) == length
    assert bob_secret[:1] != b"\x00", "leading zero bytes are stripped"
    assert bob_secret.rjust(length, b"\x00") == exchange.bob_secret_padded


@needs_openssl
@pytest.mark.parametrize("name", sorted(OPENSSL_GROUPS))
def test_shared_secret_agrees_with_openssl(openssl_dh: dict[str, OpenSSLExchange], name: str) -> None:
    exchange = openssl_dh[name]
    group, alice, bob = exchange.group, exchange.alice, exchange.bob
    # OpenSSL worked in our group: it recognises the named ones and prints p and g of the custom one
    if name in OPENSSL_GROUP_NAMES:
        assert alice.fields["GROUP"] == OPENSSL_GROUP_NAMES[name]
    else:
        assert "GROUP" not in alice.fields
        assert int(alice.fields["P"], 16) == group.p
        assert alice.fields["G"].split()[0] == str(group.g)
    # httpslab's g^x mod p is the public value OpenSSL computed for its own private value
    assert dh_public(group, alice.private) == alice.public
    assert dh_public(group, bob.private) == bob.public
    _assert_agrees_with_openssl(
        exchange,
        dh_shared_secret(group, alice.private, bob.public),
        dh_shared_secret(group, bob.private, alice.public),
    )


@needs_openssl
def test_custom_group_is_a_safe_prime_group() -> None:
    group = CUSTOM_513
    q = (group.p - 1) // 2
    assert (group.name, group.q, group.toy, group.g) == ("server-chosen-513", None, False, 4)
    assert group.p.bit_length() == 513 and group.byte_length == 65 and group.p % 8 == 7
    assert miller_rabin(group.p) and miller_rabin(q)
    assert pow(group.g, q, group.p) == 1, "g generates the subgroup of order q"
    for number in (group.p, q):
        verdict = openssl("prime", "-hex", f"{number:X}").decode()
        assert verdict.strip().endswith("is prime"), verdict


@needs_openssl
def test_leading_zero_bytes_are_stripped_where_openssl_pads(openssl_dh: dict[str, OpenSSLExchange]) -> None:
    # RFC 5246 §8.1.2. In CUSTOM_513 every secret starts with a zero byte at len(p) = 65 bytes.
    exchange = openssl_dh["custom513"]
    secret = dh_shared_secret(CUSTOM_513, exchange.alice.private, exchange.bob.public)
    assert len(secret) < CUSTOM_513.byte_length and secret[0] != 0
    assert exchange.bob_secret_padded[0] == 0, "OpenSSL's padded secret really has a leading zero"
    assert exchange.alice_secret == secret == exchange.bob_secret_padded.lstrip(b"\x00")


@needs_openssl
def test_shared_secret_strips_leading_zero_bytes(
    openssl_dh: dict[str, OpenSSLExchange], tmp_path: Path
) -> None:
    # RFC 5246 §8.1.2, in a real 2048-bit group. Walk our private key x, x+1, ... (one
    # multiplication per step) until Y^x mod p has a zero top byte against OpenSSL's public
    # value Y: about 1 in 256 does. Then OpenSSL derives with that x.
    group, bob = FFDHE2048, openssl_dh["ffdhe2048"].bob
    private = dh_generate_private(group)
    value = pow(bob.public, private, group.p)
    while value >> (2048 - 8) != 0:
        value, private = value * bob.public % group.p, private + 1
    secret = dh_shared_secret(group, private, bob.public)
    assert len(secret) < 256 and secret[0] != 0
    assert int.from_bytes(secret, "big") == value
    ours = private_key_file(group, private, tmp_path / "walked.pem")
    assert derive(ours, bob.public_file, pad=False) == secret
    padded = derive(ours, bob.public_file, pad=True)
    assert len(padded) == 256 and padded[0] == 0 and padded.lstrip(b"\x00") == secret


@needs_openssl
def test_short_exponent_agrees_with_openssl(openssl_dh: dict[str, OpenSSLExchange], tmp_path: Path) -> None:
    # one of our 225-bit exponents (RFC 7919 §5.2) handed to OpenSSL as a PKCS#8 key
    group, bob = FFDHE2048, openssl_dh["ffdhe2048"].bob
    private = dh_generate_private(group)
    ours = private_key_file(group, private, tmp_path / "short.pem")
    fields = parse_key_text(openssl("pkey", "-in", ours, "-text", "-noout").decode())
    assert int(fields["private-key"], 16) == private and private.bit_length() == 225
    assert int(fields["public-key"], 16) == dh_public(group, private)
    assert derive(ours, bob.public_file, pad=False) == dh_shared_secret(group, private, bob.public)


@needs_openssl
def test_the_openssl_comparison_catches_wrong_secrets(openssl_dh: dict[str, OpenSSLExchange]) -> None:
    # The reference must be able to fail: one bit off, a wrong private value, a padded secret.
    def flip(secret: bytes, bit: int) -> bytes:
        return (int.from_bytes(secret, "big") ^ (1 << bit)).to_bytes(len(secret), "big")

    for name in ("ffdhe2048", "custom513"):
        exchange = openssl_dh[name]
        group, alice, bob = exchange.group, exchange.alice, exchange.bob
        alice_secret = dh_shared_secret(group, alice.private, bob.public)
        bob_secret = dh_shared_secret(group, bob.private, alice.public)
        _assert_agrees_with_openssl(exchange, alice_secret, bob_secret)  # the true values pass
        wrong = {
            "Alice's lowest bit": (flip(alice_secret, 0), bob_secret),
            "Bob's lowest bit": (alice_secret, flip(bob_secret, 0)),
            "Bob's highest bit": (alice_secret, flip(bob_secret, 8 * len(bob_secret) - 1)),
            "Alice's private value + 1": (dh_shared_secret(group, alice.private + 1, bob.public), bob_secret),
            "Bob's own public value": (alice_secret, dh_shared_secret(group, bob.private, bob.public)),
        }
        if name == "custom513":  # TLS 1.3 style: padded to len(p) instead of stripped
            wrong["Alice's padded"] = (alice_secret.rjust(group.byte_length, b"\x00"), bob_secret)
            wrong["Bob's padded"] = (alice_secret, bob_secret.rjust(group.byte_length, b"\x00"))
        for what, (alice_wrong, bob_wrong) in wrong.items():
            try:
                _assert_agrees_with_openssl(exchange, alice_wrong, bob_wrong)
            except AssertionError:
                continue
            pytest.fail(f"{name}: the comparison with OpenSSL missed {what}")


@pytest.mark.parametrize("group", [FFDHE2048, TOY_GROUP_23, TOY_GROUP_64], ids=lambda g: g.name)
def test_peer_public_value_checks(group: DHGroup) -> None:
    private = dh_generate_private(group)
    for bad in (0, 1, group.p - 1, group.p, group.p + 1, -5):
        with pytest.raises(IllegalParameter):
            dh_shared_secret(group, private, bad)
    dh_shared_secret(group, private, 2)  # the smallest allowed value


def test_subgroup_check() -> None:
    group = TOY_GROUP_64
    private = dh_generate_private(group)
    assert group.q is not None
    non_residue = next(y for y in range(3, 100) if pow(y, group.q, group.p) != 1)
    dh_shared_secret(group, private, non_residue)  # passes the range check...
    with pytest.raises(IllegalParameter):
        dh_shared_secret(group, private, non_residue, check_subgroup=True)  # ...but not this one
    dh_shared_secret(group, private, dh_public(group, 12345), check_subgroup=True)


def test_private_key_generation() -> None:
    for group in (FFDHE2048, TOY_GROUP_23, TOY_GROUP_64):
        limit = group.q if group.q is not None else group.p - 1
        keys = {dh_generate_private(group) for _ in range(5)}
        assert all(2 <= key < limit for key in keys)
        assert dh_generate_private(group, b"\x01\x02\x03") == dh_generate_private(group, b"\x01\x02\x03")
        assert 2 <= dh_generate_private(group, b"\xff" * 300) < limit
    assert len({dh_generate_private(FFDHE2048) for _ in range(5)}) == 5
    with pytest.raises(LocalProtocolError):
        dh_generate_private(FFDHE2048, b"")
    for bad_private in (0, 1, FFDHE2048.p - 1, FFDHE2048.p):
        with pytest.raises(LocalProtocolError):
            dh_public(FFDHE2048, bad_private)


def test_short_exponents_for_named_groups_only() -> None:
    # RFC 7919 §5.2 / Appendix A: a secret exponent with 2^224 <= x < 2^225 for ffdhe2048,
    # at least 275 bits for ffdhe3072; the same 225 bits for the 2048-bit RFC 3526 group.
    for group, bits in ((FFDHE2048, 225), (FFDHE3072, 275), (MODP2048, 225)):
        assert {dh_generate_private(group).bit_length() for _ in range(5)} == {bits}
        assert dh_generate_private(group, b"\x00").bit_length() == bits
        assert dh_generate_private(group, b"\xff" * 300).bit_length() == bits
        seeded = dh_generate_private(group, b"\x12\x34")
        assert seeded == (1 << (bits - 1)) + 0x1234  # folded into the range, reproducibly
    # groups whose subgroup order is unknown or tiny keep the full range
    assert TOY_GROUP_64.q is not None
    assert max(dh_generate_private(TOY_GROUP_64) for _ in range(50)).bit_length() > 40
    server_chosen = group_from_params(FFDHE2048.p, 2)
    assert server_chosen is FFDHE2048  # recognised by value, so it keeps its exponent length
    unknown = group_from_params(227, 2, toy=True)
    assert unknown.exponent_bits is None
    # that such a short exponent agrees with OpenSSL: test_short_exponent_agrees_with_openssl


def test_group_from_params() -> None:
    assert group_from_params(FFDHE2048.p, 2) is FFDHE2048
    assert group_from_params(MODP2048.p, 2) is MODP2048
    assert group_from_params(23, 5) is TOY_GROUP_23  # a known toy group is recognised by value
    unknown_toy = group_from_params(227, 2, toy=True)
    assert (unknown_toy.p, unknown_toy.g, unknown_toy.toy) == (227, 2, True)
    large = group_from_params(FFDHE2048.p, 5)
    assert large.p == FFDHE2048.p and large.g == 5 and not large.toy
    for p, g, toy in [
        (FFDHE2048.p + 1, 2, False),  # even p
        (227, 2, False),  # too small without toy=True
        (2, 1, True),
        (FFDHE2048.p, 1, False),  # g = 1
        (FFDHE2048.p, FFDHE2048.p - 1, False),  # g = p-1
        (FFDHE2048.p, 0, False),
        (2**10_001 + 1, 2, False),  # larger than OpenSSL accepts
    ]:
        with pytest.raises(IllegalParameter):
            group_from_params(p, g, toy=toy)


def test_dh_group_by_named_group() -> None:
    assert dh_group(NamedGroup.FFDHE2048) is FFDHE2048
    assert dh_group(0x0101) is FFDHE3072
    with pytest.raises(LocalProtocolError):
        dh_group(NamedGroup.X25519)
    with pytest.raises(LocalProtocolError):
        dh_group(0x7777)


# ============================================================================ ECDHE

X25519_VECTORS = load_records(VECTORS / "x25519" / "rfc7748.txt")


@pytest.mark.parametrize("vector", [v for v in X25519_VECTORS if "SCALAR" in v], ids=["5.2-1", "5.2-2"])
def test_x25519_rfc7748_section_5_2(vector: dict[str, str]) -> None:
    private = ecdhe_generate(NamedGroup.X25519, bytes.fromhex(vector["SCALAR"]))
    shared = ecdhe_shared_secret(NamedGroup.X25519, private, bytes.fromhex(vector["U"]))
    assert shared.hex() == vector["OUTPUT"]


@pytest.mark.parametrize("vector", [v for v in X25519_VECTORS if "ITERATIONS" in v], ids=["1", "1000"])
def test_x25519_rfc7748_iterated(vector: dict[str, str]) -> None:
    k = u = (9).to_bytes(32, "little")
    for _ in range(int(vector["ITERATIONS"])):
        k, u = ecdhe_shared_secret(NamedGroup.X25519, ecdhe_generate(NamedGroup.X25519, k), u), k
    assert k.hex() == vector["OUTPUT"]


def test_x25519_rfc7748_section_6_1() -> None:
    (vector,) = [v for v in X25519_VECTORS if "ALICE_PRIVATE" in v]
    alice = ecdhe_generate(NamedGroup.X25519, bytes.fromhex(vector["ALICE_PRIVATE"]))
    bob = ecdhe_generate(NamedGroup.X25519, bytes.fromhex(vector["BOB_PRIVATE"]))
    assert ecdhe_public_bytes(alice).hex() == vector["ALICE_PUBLIC"]
    assert ecdhe_public_bytes(bob).hex() == vector["BOB_PUBLIC"]
    assert ecdhe_shared_secret(NamedGroup.X25519, alice, ecdhe_public_bytes(bob)).hex() == vector["SHARED"]
    assert ecdhe_shared_secret(NamedGroup.X25519, bob, ecdhe_public_bytes(alice)).hex() == vector["SHARED"]


X25519_P = 2**255 - 19


@pytest.mark.parametrize(
    "u",
    [0, 1, X25519_P - 1, X25519_P, X25519_P + 1],  # small-order u-coordinates (and non-canonical forms)
    ids=["0", "1", "p-1", "p", "p+1"],
)
def test_x25519_small_order_points_are_rejected(u: int) -> None:
    private = ecdhe_generate(NamedGroup.X25519)
    with pytest.raises(IllegalParameter):
        ecdhe_shared_secret(NamedGroup.X25519, private, u.to_bytes(32, "little"))


@pytest.mark.parametrize("length", [0, 31, 33, 65])
def test_x25519_wrong_length(length: int) -> None:
    with pytest.raises(IllegalParameter):
        ecdhe_shared_secret(NamedGroup.X25519, ecdhe_generate(NamedGroup.X25519), b"\x09" * length)


P256_VECTOR = load_records(VECTORS / "ecdh" / "rfc5903-p256.txt")[0]


def test_p256_rfc5903_section_8_1() -> None:
    v = {key: bytes.fromhex(value) for key, value in P256_VECTOR.items()}
    initiator = ecdhe_generate(NamedGroup.SECP256R1, v["I"])
    responder = ecdhe_generate(NamedGroup.SECP256R1, v["R"])
    assert ecdhe_public_bytes(initiator) == b"\x04" + v["GIX"] + v["GIY"]
    assert ecdhe_public_bytes(responder) == b"\x04" + v["GRX"] + v["GRY"]
    shared = ecdhe_shared_secret(NamedGroup.SECP256R1, initiator, b"\x04" + v["GRX"] + v["GRY"])
    assert shared == v["GIRX"]  # the x coordinate only (RFC 8422 §5.10)
    assert ecdhe_shared_secret(NamedGroup.SECP256R1, responder, b"\x04" + v["GIX"] + v["GIY"]) == v["GIRX"]


def test_p256_point_checks() -> None:
    v = {key: bytes.fromhex(value) for key, value in P256_VECTOR.items()}
    private = ecdhe_generate(NamedGroup.SECP256R1)
    good = b"\x04" + v["GRX"] + v["GRY"]
    ecdhe_shared_secret(NamedGroup.SECP256R1, private, good)
    y_parity = 2 + (v["GRY"][-1] & 1)
    field_p = 2**256 - 2**224 + 2**192 + 2**96 - 1
    bad_points = {
        "compressed": bytes([y_parity]) + v["GRX"],
        "compressed prefix, full length": bytes([y_parity]) + v["GRX"] + v["GRY"],
        "infinity": b"\x00",
        "infinity padded": bytes(65),
        "hybrid prefix 06": b"\x06" + v["GRX"] + v["GRY"],
        "not on curve": good[:-1] + bytes([good[-1] ^ 1]),
        "x = p": b"\x04" + field_p.to_bytes(32, "big") + v["GRY"],
        "too long": good + b"\x00",
        "empty": b"",
    }
    for name, point in bad_points.items():
        with pytest.raises(IllegalParameter):
            ecdhe_shared_secret(NamedGroup.SECP256R1, private, point)
            pytest.fail(name)


@pytest.mark.parametrize(
    ("group", "point_length", "secret_length"),
    [
        (NamedGroup.X25519, 32, 32),
        (NamedGroup.X448, 56, 56),
        (NamedGroup.SECP256R1, 65, 32),
        (NamedGroup.SECP384R1, 97, 48),
        (NamedGroup.SECP521R1, 133, 66),
    ],
)
def test_ecdhe_agreement_and_lengths(group: NamedGroup, point_length: int, secret_length: int) -> None:
    alice, bob = ecdhe_generate(group), ecdhe_generate(group)
    alice_point, bob_point = ecdhe_public_bytes(alice), ecdhe_public_bytes(bob)
    assert len(alice_point) == ecdhe_point_length(group) == point_length
    secret = ecdhe_shared_secret(group, alice, bob_point)
    assert secret == ecdhe_shared_secret(group, bob, alice_point)
    assert len(secret) == secret_length
    if point_length > 56:
        assert alice_point[0] == 0x04


def test_p256_agrees_with_cryptography_directly() -> None:
    ours = ecdhe_generate(NamedGroup.SECP256R1)
    theirs = ec.generate_private_key(ec.SECP256R1())
    peer_point = theirs.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    expected = theirs.exchange(
        ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), ecdhe_public_bytes(ours))
    )
    assert ecdhe_shared_secret(NamedGroup.SECP256R1, ours, peer_point) == expected


def test_ecdhe_generate_is_reproducible_and_checked() -> None:
    one = ecdhe_generate(NamedGroup.SECP384R1, b"\x01" * 48)
    assert ecdhe_public_bytes(one) == ecdhe_public_bytes(ecdhe_generate(NamedGroup.SECP384R1, b"\x01" * 48))
    n_p256 = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    for bad in (bytes(32), n_p256.to_bytes(32, "big"), b"\xff" * 32, b"\x01" * 31):
        with pytest.raises(LocalProtocolError):
            ecdhe_generate(NamedGroup.SECP256R1, bad)
    ecdhe_generate(NamedGroup.SECP256R1, (n_p256 - 1).to_bytes(32, "big"))
    with pytest.raises(LocalProtocolError):
        ecdhe_generate(NamedGroup.X25519, bytes(31))
    with pytest.raises(LocalProtocolError):
        ecdhe_generate(NamedGroup.FFDHE2048)
    with pytest.raises(LocalProtocolError):
        ecdhe_generate(0x7777)


def test_ecdhe_private_key_must_match_the_group() -> None:
    x25519_key = ecdhe_generate(NamedGroup.X25519)
    with pytest.raises(LocalProtocolError):
        ecdhe_shared_secret(NamedGroup.SECP256R1, x25519_key, bytes(65))
    with pytest.raises(LocalProtocolError):
        ecdhe_public_bytes("not a key")  # type: ignore[arg-type]
