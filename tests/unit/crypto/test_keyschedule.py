"""Tests for httpslab.crypto.keyschedule: the TLS 1.2 PRF (RFC 5246 §5), master secret (§8.1),
extended master secret (RFC 7627 §4), key block (§6.3) and Finished verify_data (§7.4.9).

Known answers come from tests/vectors/prf/ (IETF TLS mailing list vectors). Everything built on
the PRF is cross-checked against OpenSSL's own TLS1-PRF (``openssl kdf TLS1-PRF``) — a second,
independent implementation — and against an HMAC chain written out here with ``cryptography``.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from hypothesis import given, settings
from hypothesis import strategies as st
from vectorfiles import VECTORS, load_records

from httpslab.crypto.keyschedule import (
    KeyBlock,
    TranscriptHash,
    extended_master_secret,
    key_block,
    master_secret,
    prf,
    transcript_hash,
    verify_data,
)
from httpslab.crypto.suites import SUITES
from httpslab.errors import LocalProtocolError, TLSError

PRF_VECTORS = load_records(VECTORS / "prf" / "tls12-prf.txt")


# ---------------------------------------------------------------------------- independent PRFs


def reference_prf(secret: bytes, label: bytes, seed: bytes, length: int, hash_name: str) -> bytes:
    """RFC 5246 §5 written out step by step with cryptography's HMAC (not the stdlib's)."""
    algorithm = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384()}[hash_name]

    def hmac_hash(key: bytes, data: bytes) -> bytes:
        mac = crypto_hmac.HMAC(key, algorithm)
        mac.update(data)
        return mac.finalize()

    full_seed = label + seed
    a_values = [full_seed]  # A(0)
    output = b""
    while len(output) < length:
        a_values.append(hmac_hash(secret, a_values[-1]))
        output += hmac_hash(secret, a_values[-1] + full_seed)
    return output[:length]


def _openssl_has_tls1_prf() -> bool:
    if shutil.which("openssl") is None:
        return False
    result = subprocess.run(["openssl", "kdf", "-help"], capture_output=True, text=True)
    return result.returncode in (0, 1) and "kdfopt" in (result.stdout + result.stderr)


needs_openssl_kdf = pytest.mark.skipif(not _openssl_has_tls1_prf(), reason="openssl kdf not available")


def openssl_prf(secret: bytes, label: bytes, seed: bytes, length: int, hash_name: str) -> bytes:
    """OpenSSL's TLS1-PRF via the command line (its seed is label + seed, passed as two parts)."""
    args = ["openssl", "kdf", "-keylen", str(length), "-kdfopt", f"digest:{hash_name.upper()}"]
    args += ["-kdfopt", f"hexsecret:{secret.hex()}"]
    if label:
        args += ["-kdfopt", f"hexseed:{label.hex()}"]
    if seed:
        args += ["-kdfopt", f"hexseed:{seed.hex()}"]
    args.append("TLS1-PRF")
    result = subprocess.run(args, capture_output=True, text=True, check=True)
    return bytes.fromhex(result.stdout.strip().replace(":", ""))


# ---------------------------------------------------------------------------- PRF


@pytest.mark.parametrize("vector", PRF_VECTORS, ids=lambda v: v["HASH"])
def test_prf_matches_the_ietf_mailing_list_vectors(vector: dict[str, str]) -> None:
    # Source: https://www.ietf.org/mail-archive/web/tls/current/msg03416.html (see the vector file)
    expected = bytes.fromhex(vector["OUTPUT"])
    output = prf(
        bytes.fromhex(vector["SECRET"]),
        vector["LABEL"].encode("ascii"),
        bytes.fromhex(vector["SEED"]),
        len(expected),
        vector["HASH"],
    )
    assert output == expected


@pytest.mark.parametrize("vector", PRF_VECTORS, ids=lambda v: v["HASH"])
def test_reference_prf_agrees_with_the_vectors(vector: dict[str, str]) -> None:
    # so that the property test below compares against something known to be right
    expected = bytes.fromhex(vector["OUTPUT"])
    args = (bytes.fromhex(vector["SECRET"]), b"test label", bytes.fromhex(vector["SEED"]))
    assert reference_prf(*args, len(expected), vector["HASH"]) == expected


@settings(max_examples=60, deadline=None)
@given(
    secret=st.binary(max_size=80),
    label=st.binary(max_size=30),
    seed=st.binary(max_size=80),
    length=st.integers(min_value=0, max_value=200),
    hash_name=st.sampled_from(["sha256", "sha384"]),
)
def test_prf_agrees_with_a_written_out_hmac_chain(
    secret: bytes, label: bytes, seed: bytes, length: int, hash_name: str
) -> None:
    assert prf(secret, label, seed, length, hash_name) == reference_prf(
        secret, label, seed, length, hash_name
    )


@needs_openssl_kdf
@pytest.mark.parametrize("hash_name", ["sha256", "sha384"])
@pytest.mark.parametrize("length", [1, 12, 48, 104, 200])
def test_prf_agrees_with_openssl_tls1_prf(hash_name: str, length: int) -> None:
    secret = hashlib.sha256(f"secret {length}".encode()).digest()
    seed = hashlib.sha512(f"seed {length}".encode()).digest()
    expected = openssl_prf(secret, b"some label", seed, length, hash_name)
    assert prf(secret, b"some label", seed, length, hash_name) == expected


def test_prf_output_is_a_stream_shorter_outputs_are_prefixes() -> None:
    long_output = prf(b"k", b"label", b"seed", 150)
    for length in (0, 1, 12, 31, 32, 33, 64, 149):
        assert prf(b"k", b"label", b"seed", length) == long_output[:length]


def test_prf_hash_choice_matters() -> None:
    assert prf(b"k", b"l", b"s", 48, "sha256") != prf(b"k", b"l", b"s", 48, "sha384")
    assert prf(b"k", b"l", b"s", 48, "SHA-384") == prf(b"k", b"l", b"s", 48, "sha384")


@pytest.mark.parametrize("length", [-1, -100, 1.5, "12", None, True])
def test_prf_rejects_bad_lengths(length: object) -> None:
    with pytest.raises(LocalProtocolError):
        prf(b"k", b"l", b"s", length)  # type: ignore[arg-type]


@pytest.mark.parametrize("hash_name", ["md5", "sha1", "sha512", "", None, 256])
def test_prf_rejects_unknown_hashes(hash_name: object) -> None:
    with pytest.raises(LocalProtocolError, match="hash"):
        prf(b"k", b"l", b"s", 12, hash_name)  # type: ignore[arg-type]


@pytest.mark.parametrize("argument", ["secret", "label", "seed"])
def test_prf_rejects_non_bytes(argument: str) -> None:
    arguments: dict[str, object] = {"secret": b"k", "label": b"l", "seed": b"s"}
    arguments[argument] = "text, not bytes"
    with pytest.raises(LocalProtocolError):
        prf(arguments["secret"], arguments["label"], arguments["seed"], 12)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- master secrets

PREMASTER = bytes.fromhex("0303") + bytes(range(46))
CLIENT_RANDOM = bytes(range(32))
SERVER_RANDOM = bytes(range(0x80, 0xA0))


@needs_openssl_kdf
@pytest.mark.parametrize("hash_name", ["sha256", "sha384"])
def test_master_secret_agrees_with_openssl(hash_name: str) -> None:
    expected = openssl_prf(PREMASTER, b"master secret", CLIENT_RANDOM + SERVER_RANDOM, 48, hash_name)
    assert master_secret(PREMASTER, CLIENT_RANDOM, SERVER_RANDOM, hash_name) == expected


@needs_openssl_kdf
@pytest.mark.parametrize("hash_name", ["sha256", "sha384"])
def test_extended_master_secret_agrees_with_openssl(hash_name: str) -> None:
    session_hash = hashlib.new(hash_name, b"ClientHello...ClientKeyExchange").digest()
    expected = openssl_prf(PREMASTER, b"extended master secret", session_hash, 48, hash_name)
    assert extended_master_secret(PREMASTER, session_hash, hash_name) == expected


def test_extended_master_secret_differs_from_the_classic_one() -> None:
    session_hash = hashlib.sha256(b"handshake").digest()
    ems = extended_master_secret(PREMASTER, session_hash)
    classic = master_secret(PREMASTER, CLIENT_RANDOM, SERVER_RANDOM)
    assert len(ems) == len(classic) == 48
    assert ems != classic
    # and it depends on the session hash, which is the point of RFC 7627
    assert ems != extended_master_secret(PREMASTER, hashlib.sha256(b"other handshake").digest())


def test_master_secret_depends_on_the_order_of_the_randoms() -> None:
    assert master_secret(PREMASTER, CLIENT_RANDOM, SERVER_RANDOM) != master_secret(
        PREMASTER, SERVER_RANDOM, CLIENT_RANDOM
    )


@pytest.mark.parametrize("bad_random", [b"", bytes(31), bytes(33), "x" * 32])
def test_master_secret_rejects_randoms_that_are_not_32_bytes(bad_random: object) -> None:
    with pytest.raises(LocalProtocolError):
        master_secret(PREMASTER, bad_random, SERVER_RANDOM)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        master_secret(PREMASTER, CLIENT_RANDOM, bad_random)  # type: ignore[arg-type]


def test_extended_master_secret_rejects_a_session_hash_of_the_wrong_size() -> None:
    with pytest.raises(LocalProtocolError, match="session_hash"):
        extended_master_secret(PREMASTER, hashlib.sha256(b"x").digest(), "sha384")
    with pytest.raises(LocalProtocolError):
        extended_master_secret(PREMASTER, b"short")


# ---------------------------------------------------------------------------- key block

MASTER = bytes(range(100, 148))


@pytest.mark.parametrize("info", list(SUITES.values()), ids=lambda info: info.openssl_name)
def test_key_block_splits_into_the_suite_lengths(info) -> None:
    block = key_block(MASTER, CLIENT_RANDOM, SERVER_RANDOM, info)
    assert isinstance(block, KeyBlock)
    assert len(block.key_block) == info.key_block_length
    assert len(block.client_write_mac_key) == len(block.server_write_mac_key) == info.mac_length
    assert len(block.client_write_key) == len(block.server_write_key) == info.enc_key_length
    assert len(block.client_write_iv) == len(block.server_write_iv) == info.fixed_iv_length
    # RFC 5246 §6.3 order: client MAC, server MAC, client key, server key, client IV, server IV
    assert (
        block.client_write_mac_key
        + block.server_write_mac_key
        + block.client_write_key
        + block.server_write_key
        + block.client_write_iv
        + block.server_write_iv
    ) == block.key_block
    # the seed is server_random + client_random (the reverse of the master secret's)
    expected = reference_prf(
        MASTER, b"key expansion", SERVER_RANDOM + CLIENT_RANDOM, info.key_block_length, info.prf_hash
    )
    assert block.key_block == expected
    # a CipherSuite code works as well as a SuiteInfo
    assert key_block(MASTER, CLIENT_RANDOM, SERVER_RANDOM, info.suite) == block


@needs_openssl_kdf
def test_key_block_agrees_with_openssl() -> None:
    info = next(i for i in SUITES.values() if i.prf_hash == "sha384")
    block = key_block(MASTER, CLIENT_RANDOM, SERVER_RANDOM, info)
    expected = openssl_prf(
        MASTER, b"key expansion", SERVER_RANDOM + CLIENT_RANDOM, info.key_block_length, "sha384"
    )
    assert block.key_block == expected


def test_key_block_write_keys_by_sender() -> None:
    info = next(i for i in SUITES.values() if not i.is_aead)
    block = key_block(MASTER, CLIENT_RANDOM, SERVER_RANDOM, info)
    assert block.write_keys("client") == (
        block.client_write_mac_key,
        block.client_write_key,
        block.client_write_iv,
    )
    assert block.write_keys("server") == (
        block.server_write_mac_key,
        block.server_write_key,
        block.server_write_iv,
    )
    with pytest.raises(LocalProtocolError):
        block.write_keys("eve")  # type: ignore[arg-type]


def test_key_block_rejects_bad_inputs() -> None:
    info = next(iter(SUITES.values()))
    with pytest.raises(LocalProtocolError, match="master_secret"):
        key_block(MASTER[:47], CLIENT_RANDOM, SERVER_RANDOM, info)
    with pytest.raises(LocalProtocolError):
        key_block(MASTER, CLIENT_RANDOM[:16], SERVER_RANDOM, info)
    with pytest.raises(LocalProtocolError):
        key_block(MASTER, CLIENT_RANDOM, SERVER_RANDOM, 0x0000)  # TLS_NULL_WITH_NULL_NULL


# ---------------------------------------------------------------------------- Finished


@pytest.mark.parametrize("hash_name", ["sha256", "sha384"])
def test_verify_data(hash_name: str) -> None:
    handshake_hash = hashlib.new(hash_name, b"all the handshake messages").digest()
    client = verify_data(MASTER, "client", handshake_hash, hash_name)
    server = verify_data(MASTER, "server", handshake_hash, hash_name)
    assert len(client) == len(server) == 12
    assert client != server
    assert client == reference_prf(MASTER, b"client finished", handshake_hash, 12, hash_name)
    assert server == reference_prf(MASTER, b"server finished", handshake_hash, 12, hash_name)


def test_verify_data_rejects_bad_inputs() -> None:
    handshake_hash = hashlib.sha256(b"x").digest()
    with pytest.raises(LocalProtocolError, match="sender"):
        verify_data(MASTER, "both", handshake_hash)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="handshake_hash"):
        verify_data(MASTER, "client", handshake_hash, "sha384")
    with pytest.raises(LocalProtocolError, match="master_secret"):
        verify_data(b"short", "client", handshake_hash)


# ---------------------------------------------------------------------------- transcript


def test_transcript_hash_reads_without_consuming() -> None:
    messages = [b"\x01\x00\x00\x03abc", b"\x02\x00\x00\x02de", b"\x0b\x00\x00\x01f"]
    transcript = TranscriptHash("sha256")
    digests = []
    for message in messages:
        transcript.update(message)
        digests.append(transcript.digest())
        assert transcript.digest() == digests[-1]  # reading twice gives the same answer
    for count, digest in enumerate(digests, start=1):
        assert digest == hashlib.sha256(b"".join(messages[:count])).digest()
    assert transcript.data == b"".join(messages)
    assert len(transcript) == len(transcript.data)
    assert transcript_hash(messages, "sha256") == digests[-1]
    assert transcript_hash(b"".join(messages), "sha384") == hashlib.sha384(b"".join(messages)).digest()
    rehashed = transcript.with_hash("sha384")
    assert rehashed.digest() == hashlib.sha384(b"".join(messages)).digest()
    copy = transcript.copy()
    copy.update(b"more")
    assert copy.digest() != transcript.digest()


def test_transcript_hash_rejects_bad_inputs() -> None:
    with pytest.raises(LocalProtocolError):
        TranscriptHash("md5")
    with pytest.raises(TLSError):
        TranscriptHash().update("text")  # type: ignore[arg-type]
