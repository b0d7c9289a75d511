"""The foundation, proven on real traffic: sessions that OpenSSL itself produced.

Each session runs between a Python ``ssl`` client and a Python ``ssl`` server (both OpenSSL)
through a byte-recording relay on 127.0.0.1, with the client's ``keylog_filename`` set. The
library then has to read it all: every handshake message decodes and re-encodes to the same
bytes, every record in both directions decrypts (and re-encrypts to the same bytes), both
Finished messages are recomputed, and the application data is what was sent. For RSA key
exchange the server's private key opens the ClientKeyExchange and the master secret derived
from it equals the key log's, with and without extended master secret (RFC 7627).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from httpslab import decrypt_capture
from httpslab.capture import CapturedSession, analyze_capture
from httpslab.crypto.keyexchange import FFDHE2048, MODP2048, rsa_decrypt_premaster
from httpslab.crypto.keyschedule import extended_master_secret, master_secret, transcript_hash, verify_data
from httpslab.crypto.suites import SUITES, SuiteInfo
from httpslab.enums import ContentType, HandshakeType, NamedGroup
from httpslab.errors import BadRecordMac, KeyLogError, TLSError
from httpslab.messages import ClientKeyExchange, ServerDHParams, ServerECDHParams, encode_handshake
from httpslab.peers.openssl import RecordedSession, record_session
from httpslab.record import RecordProtection, split_records

pytestmark = pytest.mark.interop


def _matrix() -> Iterator[tuple[str, bool, bool]]:
    """Every suite, EMS on and off; for CBC suites also encrypt-then-MAC on and off."""
    for info in SUITES.values():
        for ems in (True, False):
            for etm in (True, False) if not info.is_aead else (True,):
                yield info.name, ems, etm


MATRIX = list(_matrix())


@functools.cache
def _session(suite: str, ems: bool, etm: bool, dh_group: str = "ffdhe2048", curve: str | None = None):
    recorded = record_session(suite, ems=ems, etm=etm, dh_group=dh_group, ecdh_curve=curve)
    return recorded, analyze_capture(
        recorded.client_to_server, recorded.server_to_client, recorded.keylog_text
    )


def _check_session(recorded: RecordedSession, capture: CapturedSession, ems: bool, etm: bool) -> None:
    info: SuiteInfo = SUITES[recorded.suite]
    assert capture.suite is info
    assert recorded.negotiated_cipher is not None and recorded.negotiated_cipher[0] == info.openssl_name

    # the extensions were really negotiated as requested
    assert capture.extended_master_secret is ems
    assert capture.encrypt_then_mac is (etm and not info.is_aead)

    # every handshake message, plaintext or encrypted, re-encodes to the very same bytes
    assert capture.handshake, "no handshake messages decoded"
    for entry in capture.handshake:
        assert encode_handshake(entry.message) == entry.raw, entry.msg_type

    # both directions switched to protected records after ChangeCipherSpec, and all decrypted
    for sender in ("client", "server"):
        mine = [r for r in capture.records if r.sender == sender]
        ccs = [i for i, r in enumerate(mine) if r.content_type == ContentType.CHANGE_CIPHER_SPEC]
        assert len(ccs) == 1
        assert all(not r.encrypted for r in mine[: ccs[0] + 1])
        assert all(r.encrypted for r in mine[ccs[0] + 1 :])
        assert [r.sequence_number for r in mine[ccs[0] + 1 :]] == list(range(len(mine) - ccs[0] - 1))
        # the stream is exactly the concatenation of its records
        wire = recorded.client_to_server if sender == "client" else recorded.server_to_client
        assert b"".join(r.raw for r in sorted(mine, key=lambda r: r.index)) == wire

    # Finished: recomputed here, independently of analyze_capture's own check
    transcript = b""
    for entry in capture.handshake:
        if entry.msg_type == HandshakeType.FINISHED:
            expected = verify_data(
                recorded.master_secret,
                entry.sender,
                transcript_hash(transcript, info.prf_hash),
                info.prf_hash,
            )
            assert entry.message.verify_data == expected
            assert entry.encrypted
        transcript += entry.raw
    assert set(capture.finished) == {"client", "server"}

    # the application data is what each side sent (and what the other side received)
    assert capture.application_data("client") == recorded.app_data_client == recorded.server_received
    assert capture.application_data("server") == recorded.app_data_server == recorded.client_received
    # and neither is visible to the eavesdropper
    assert recorded.app_data_client not in recorded.client_to_server
    assert recorded.app_data_server not in recorded.server_to_client

    # both sides closed with close_notify, encrypted
    closes = [r for r in capture.records if r.content_type == ContentType.ALERT]
    assert {r.sender for r in closes} == {"client", "server"}
    assert all(r.encrypted and r.messages[0].description == 0 for r in closes)


@pytest.mark.parametrize(
    ("suite", "ems", "etm"), MATRIX, ids=[f"{s}-ems{int(e)}-etm{int(t)}" for s, e, t in MATRIX]
)
def test_real_session_decodes_decrypts_and_verifies(suite: str, ems: bool, etm: bool) -> None:
    recorded, capture = _session(suite, ems, etm)
    _check_session(recorded, capture, ems, etm)


@pytest.mark.parametrize(
    ("suite", "ems", "etm"), MATRIX, ids=[f"{s}-ems{int(e)}-etm{int(t)}" for s, e, t in MATRIX]
)
def test_records_reencrypt_to_the_same_bytes(suite: str, ems: bool, etm: bool) -> None:
    """Sealing each decrypted plaintext again, with the record's own explicit nonce or IV,
    gives OpenSSL's ciphertext byte for byte: our record layer is OpenSSL's record layer."""
    _, capture = _session(suite, ems, etm)
    info = capture.suite
    for sender in ("client", "server"):
        protected = [r for r in capture.records if r.sender == sender and r.encrypted]
        assert protected
        mac_key, key, iv = capture.key_block.write_keys(sender)
        explicit = iter(r.record.fragment[: info.record_iv_length] for r in protected)
        sealer = RecordProtection(
            info,
            key,
            iv,
            mac_key,
            encrypt_then_mac=capture.encrypt_then_mac,
            explicit_iv=lambda n, it=explicit: next(it),
        )
        for record in protected:
            assert (
                sealer.seal(record.content_type, record.record.version, record.plaintext)
                == record.record.fragment
            )


RSA_MATRIX = [
    (s, e, t) for s, e, t in MATRIX if SUITES[next(k for k in SUITES if k.name == s)].key_exchange == "RSA"
]


@pytest.mark.parametrize(
    ("suite", "ems", "etm"), RSA_MATRIX, ids=[f"{s}-ems{int(e)}-etm{int(t)}" for s, e, t in RSA_MATRIX]
)
def test_rsa_key_exchange_opened_with_the_server_key(suite: str, ems: bool, etm: bool) -> None:
    """The server's private key decrypts the ClientKeyExchange; the master secret derived from
    that premaster equals the one in OpenSSL's key log (RFC 5246 §8.1 / RFC 7627 §4)."""
    recorded, capture = _session(suite, ems, etm)
    (cke,) = [e.message for e in capture.handshake if e.msg_type == HandshakeType.CLIENT_KEY_EXCHANGE]
    assert isinstance(cke, ClientKeyExchange)
    premaster = rsa_decrypt_premaster(
        recorded.server_private_key, cke.encrypted_premaster_secret, capture.client_hello.legacy_version
    )
    assert premaster[:2] == capture.client_hello.legacy_version.to_bytes(2, "big")
    prf_hash = capture.suite.prf_hash
    if ems:
        derived = extended_master_secret(premaster, capture.session_hash(), prf_hash)
        assert derived != master_secret(premaster, capture.client_random, capture.server_random, prf_hash)
    else:
        derived = master_secret(premaster, capture.client_random, capture.server_random, prf_hash)
    assert derived == recorded.master_secret


DHE_SUITES = [info.name for info in SUITES.values() if info.key_exchange == "DHE"]


@pytest.mark.parametrize("group", ["ffdhe2048", "modp2048"])
@pytest.mark.parametrize("suite", DHE_SUITES)
def test_dhe_with_rfc7919_and_rfc3526_groups(suite: str, group: str) -> None:
    recorded, capture = _session(suite, True, True, dh_group=group)
    (ske,) = [e.message for e in capture.handshake if e.msg_type == HandshakeType.SERVER_KEY_EXCHANGE]
    assert isinstance(ske.params, ServerDHParams)
    expected = FFDHE2048 if group == "ffdhe2048" else MODP2048
    assert int.from_bytes(ske.params.dh_p, "big") == expected.p
    assert int.from_bytes(ske.params.dh_g, "big") == expected.g
    _check_session(recorded, capture, True, True)


@pytest.mark.parametrize(
    ("curve", "group"), [(None, NamedGroup.X25519), ("prime256v1", NamedGroup.SECP256R1)]
)
def test_ecdhe_curves(curve: str | None, group: NamedGroup) -> None:
    suite = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    recorded, capture = _session(suite, True, True, curve=curve)
    (ske,) = [e.message for e in capture.handshake if e.msg_type == HandshakeType.SERVER_KEY_EXCHANGE]
    assert isinstance(ske.params, ServerECDHParams)
    assert ske.params.named_curve == group
    _check_session(recorded, capture, True, True)


def test_decrypt_capture_public_api_reads_a_key_log_file(tmp_path) -> None:
    recorded, _ = _session("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", True, True)
    path = tmp_path / "keys.log"
    path.write_text(recorded.keylog_text)
    records = decrypt_capture(recorded.client_to_server, recorded.server_to_client, path)
    assert {r.sender for r in records} == {"client", "server"}
    kinds = [r.content_type for r in records]
    assert kinds[0] == ContentType.HANDSHAKE and records[0].sender == "client"
    data = [r for r in records if r.content_type == ContentType.APPLICATION_DATA]
    assert [r.plaintext for r in data] == [recorded.app_data_client, recorded.app_data_server]
    hello = records[0].messages[0]
    assert hello.random == recorded.client_random


def test_missing_keys_name_the_client_random() -> None:
    recorded, _ = _session("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", True, True)
    other, _ = _session("TLS_RSA_WITH_AES_128_GCM_SHA256", True, True)
    with pytest.raises(KeyLogError, match=recorded.client_random.hex()):
        decrypt_capture(recorded.client_to_server, recorded.server_to_client, other.keylog_text)


# -- bad input: flips and truncations of real sessions ------------------------------------------


def _protected_ranges(wire: bytes) -> list[tuple[int, int]]:
    """Byte ranges (start, end) of the fragments of protected records in a stream."""
    records, _ = split_records(wire)
    ranges, offset, protected = [], 0, False
    for record in records:
        start = offset + 5
        offset = start + len(record.fragment)
        if protected:
            ranges.append((start, offset))
        if record.content_type == ContentType.CHANGE_CIPHER_SPEC:
            protected = True
    return ranges


@pytest.mark.parametrize(
    "suite",
    [
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_RSA_WITH_AES_128_CBC_SHA256",
    ],
)
@pytest.mark.parametrize("direction", ["client", "server"])
def test_every_flipped_bit_in_a_protected_record_is_bad_record_mac(suite: str, direction: str) -> None:
    recorded, _ = _session(suite, True, True)
    wire = recorded.client_to_server if direction == "client" else recorded.server_to_client
    for start, end in _protected_ranges(wire):
        for position in range(start, end, max(1, (end - start) // 7)):
            for bit in (0x01, 0x80):
                tampered = bytearray(wire)
                tampered[position] ^= bit
                c2s, s2c = (
                    (bytes(tampered), recorded.server_to_client)
                    if direction == "client"
                    else (
                        recorded.client_to_server,
                        bytes(tampered),
                    )
                )
                with pytest.raises(BadRecordMac) as info:
                    decrypt_capture(c2s, s2c, recorded.keylog_text)
                assert info.value.alert.name == "BAD_RECORD_MAC"


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_flips_truncations_and_noise_only_raise_tls_errors(data: st.DataObject) -> None:
    recorded, _ = _session("TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", True, False)
    streams = [recorded.client_to_server, recorded.server_to_client]
    which = data.draw(st.integers(0, 1))
    wire = bytearray(streams[which])
    action = data.draw(st.sampled_from(["flip", "truncate", "noise", "insert"]))
    if action == "flip":
        position = data.draw(st.integers(0, len(wire) - 1))
        wire[position] ^= data.draw(st.integers(1, 255))
    elif action == "truncate":
        wire = wire[: data.draw(st.integers(0, len(wire) - 1))]
    elif action == "noise":
        wire = bytearray(data.draw(st.binary(max_size=300)))
    else:
        position = data.draw(st.integers(0, len(wire)))
        wire[position:position] = data.draw(st.binary(min_size=1, max_size=20))
    streams[which] = bytes(wire)
    try:
        capture = analyze_capture(streams[0], streams[1], recorded.keylog_text)
    except TLSError:
        return
    # Accepted: then every record read is one the peer really sent, unchanged. A capture cut
    # at a record boundary is a shorter capture (it only loses the records after the cut); a
    # flip is accepted only in the version field of a plaintext record header, the one byte
    # pair no check covers (RFC 5246 §6.2.1). Noise and insertions are never accepted.
    assert action in ("flip", "truncate")
    _, original = _session("TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", True, False)
    sender = ("client", "server")[which]
    for mine, theirs in (
        ([r for r in capture.records if r.sender == s], [r for r in original.records if r.sender == s])
        for s in ("client", "server")
    ):
        assert [(r.content_type, r.plaintext) for r in mine] == [
            (r.content_type, r.plaintext) for r in theirs[: len(mine)]
        ]
    if action == "truncate":
        kept = [r for r in capture.records if r.sender == sender]
        assert b"".join(r.raw for r in kept) == streams[which]
    else:
        assert capture.application_data("client") == recorded.app_data_client
        assert capture.application_data("server") == recorded.app_data_server
        changed = [r for r in capture.records if r.raw not in (o.raw for o in original.records)]
        assert all(not r.encrypted for r in changed), "a changed protected record was accepted"
