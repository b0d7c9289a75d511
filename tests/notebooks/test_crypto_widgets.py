"""Headless tests of httpslab.notebook.crypto_widgets and crypto_plots (notebooks 02–06).

The update functions are checked against independent computations (Python's ``pow``,
``hmac``, ``cryptography``'s AES-GCM and AES-CBC), the widgets by setting their controls
programmatically, the plots by the artists they create (Agg backend, no display).
"""

from __future__ import annotations

import hmac
import math
import socket
import ssl
import struct
import threading

import matplotlib
import pytest

matplotlib.use("Agg")

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from httpslab import teaching
from httpslab.capture import cleartext_alerts, cleartext_handshake_transcript
from httpslab.crypto.keyschedule import prf
from httpslab.enums import AlertDescription, CipherSuite, ContentType, HandshakeType
from httpslab.errors import BadRecordMac, CertificateError, TLSError, TransportError
from httpslab.notebook import crypto_plots as cp
from httpslab.notebook import crypto_widgets as cw
from httpslab.notebook import live, pki_plots, pki_widgets
from httpslab.notebook.panel import WIDGET_DPI

GCM = CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
CBC = CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256


# ------------------------------------------------------------------------------ bits and primes
def test_flip_bit_counts_from_the_most_significant_bit() -> None:
    assert teaching.flip_bit(b"\x00\x00", 0) == b"\x80\x00"
    assert teaching.flip_bit(b"\x00\x00", 15) == b"\x00\x01"
    assert teaching.bit_difference(b"\xff\x00", b"\x0f\x01") == 5
    with pytest.raises(TLSError):
        teaching.flip_bit(b"\x00", 8)
    with pytest.raises(TLSError):
        teaching.bit_difference(b"\x00", b"\x00\x00")


def test_is_prime_agrees_with_trial_division() -> None:
    def slow(n: int) -> bool:
        return n >= 2 and all(n % d for d in range(2, math.isqrt(n) + 1))

    assert [n for n in range(3000) if teaching.is_prime(n)] == [n for n in range(3000) if slow(n)]
    assert not teaching.is_prime(561) and not teaching.is_prime(3215031751)  # Carmichael / strong pseudoprime to 2,3,5,7
    assert teaching.is_prime(2**61 - 1) and not teaching.is_prime(2**61 + 1)


# ------------------------------------------------------------------------------ 03 toy RSA
@pytest.mark.parametrize(
    ("p", "q", "e", "m"), [(61, 53, 17, 65), (11, 13, 7, 100), (1009, 1013, 65537, 123456)]
)
def test_toy_rsa_round_trip(p: int, q: int, e: int, m: int) -> None:
    result = teaching.toy_rsa(p, q, e, m)
    assert result.error is None
    phi = (p - 1) * (q - 1)
    assert result.n == p * q and result.phi == phi
    assert result.d is not None and (e * result.d) % phi == 1
    assert result.c == pow(m, e, p * q)
    assert result.decrypted == m
    assert f"= {result.c}" in result.as_text()


@pytest.mark.parametrize(
    ("p", "q", "e", "m", "fragment"),
    [
        (60, 53, 17, 65, "p = 60 is not prime"),
        (61, 51, 17, 65, "q = 51 is not prime"),
        (61, 61, 17, 65, "different primes"),
        (61, 53, 6, 65, "not coprime"),
        (61, 53, 1, 65, "1 < e"),
        (61, 53, 17, 3233, "0 ≤ m < n"),
        (61, 53, 17, -1, "0 ≤ m < n"),
    ],
)
def test_toy_rsa_explains_bad_input(p: int, q: int, e: int, m: int, fragment: str) -> None:
    result = teaching.toy_rsa(p, q, e, m)
    assert result.error is not None and fragment in result.error
    assert result.as_text().startswith("cannot compute")


# ------------------------------------------------------------------------------ 04 toy DH
@pytest.mark.parametrize(
    ("p", "g", "a", "b"), [(23, 5, 6, 15), (467, 2, 153, 197), (0xFFFFFFFFFFFFDED7, 2, 10**15, 10**17)]
)
def test_toy_dh_both_sides_agree(p: int, g: int, a: int, b: int) -> None:
    result = teaching.toy_dh(p, g, a, b)
    assert result.error is None and result.agree
    assert result.A == pow(g, a, p) and result.B == pow(g, b, p)
    assert result.alice_secret == pow(g, a * b, p)


@pytest.mark.parametrize(
    ("p", "g", "fragment"), [(22, 5, "not prime"), (23, 22, "generator"), (23, 1, "generator")]
)
def test_toy_dh_explains_bad_groups(p: int, g: int, fragment: str) -> None:
    result = teaching.toy_dh(p, g, 6, 15)
    assert result.error is not None and fragment in result.error and not result.agree


def test_toy_dh_refuses_a_public_value_of_one() -> None:
    # g = 2 mod 7 has order 3: a = 3 gives A = 1, which a peer must refuse (RFC 7919 §5.1)
    result = teaching.toy_dh(7, 2, 3, 2)
    assert result.error is not None and "1 < Y < p-1" in result.error


def test_mallory_shares_one_key_with_each_side() -> None:
    attack = teaching.toy_dh_mitm(23, 5, 6, 15, 13)
    assert attack.M == pow(5, 13, 23)
    assert attack.alice_key == attack.mallory_with_alice == pow(5, 6 * 13, 23)
    assert attack.bob_key == attack.mallory_with_bob == pow(5, 15 * 13, 23)
    with pytest.raises(TLSError):
        teaching.toy_dh_mitm(24, 5, 6, 15, 13)


# ------------------------------------------------------------------------------ 05 key derivation
def test_derive_keys_cuts_the_key_block_in_wire_order() -> None:
    keys = teaching.derive_keys(teaching.DEMO_PREMASTER, teaching.DEMO_CLIENT_RANDOM, teaching.DEMO_SERVER_RANDOM, CBC)
    master = prf(teaching.DEMO_PREMASTER, b"master secret", teaching.DEMO_CLIENT_RANDOM + teaching.DEMO_SERVER_RANDOM, 48)
    assert keys["master_secret"] == master
    block = prf(master, b"key expansion", teaching.DEMO_SERVER_RANDOM + teaching.DEMO_CLIENT_RANDOM, 96)
    pieces = [keys[name] for name, length in teaching.key_block_layout(CBC) if length]
    assert b"".join(pieces) == block
    assert [len(piece) for piece in pieces] == [32, 32, 16, 16]
    gcm_layout = dict(teaching.key_block_layout(GCM))
    assert gcm_layout["client_write_MAC_key"] == 0 and gcm_layout["client_write_IV"] == 4


def test_one_flipped_input_bit_changes_about_half_of_every_key() -> None:
    for target in ("client_random", "server_random", "premaster"):
        result = teaching.key_derivation_update(flip_input=target, flip=7)
        assert result.error is None and result.input_bits_changed == 1
        assert result.changes[0][0] == "master_secret"
        for name, changed, total in result.changes:
            assert total == 8 * len(result.keys[name])
            assert changed == teaching.bit_difference(result.keys[name], result.original_keys[name])
            assert 0.25 < changed / total < 0.75, name


def test_unchanged_inputs_change_nothing() -> None:
    result = teaching.key_derivation_update()
    assert result.input_bits_changed == 0 and all(changed == 0 for _, changed, _ in result.changes)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"client_random_hex": "zz"}, "not hexadecimal"),
        ({"server_random_hex": "00" * 31}, "32 bytes"),
        ({"premaster_hex": "00" * 49}, "48 bytes"),
        ({"flip": 256}, "outside"),
        ({"flip": 1, "flip_input": "master"}, "cannot flip"),
    ],
)
def test_key_derivation_update_explains_bad_input(kwargs: dict, fragment: str) -> None:
    result = teaching.key_derivation_update(**kwargs)
    assert result.error is not None and fragment in result.error
    assert result.as_text().startswith("cannot derive")


# ------------------------------------------------------------------------------ 06 records
def test_gcm_record_is_what_aesgcm_produces() -> None:
    sealed, receiver = teaching.seal_demo_record(b"Hello, HTTPS!", sequence_number=5)
    additional_data = (5).to_bytes(8, "big") + b"\x17\x03\x03" + (13).to_bytes(2, "big")
    expected = AESGCM(teaching.DEMO_RECORD_KEY).encrypt(teaching.DEMO_RECORD_NONCE, b"Hello, HTTPS!", additional_data)
    assert sealed.fragment == teaching.DEMO_RECORD_NONCE[4:] + expected
    assert sealed.additional_data == additional_data and sealed.nonce == teaching.DEMO_RECORD_NONCE
    assert receiver.open(ContentType.APPLICATION_DATA, 0x0303, sealed.fragment) == b"Hello, HTTPS!"


def test_chacha_record_xors_the_sequence_number_into_the_nonce() -> None:
    key, iv = teaching.default_record_inputs("ChaCha20-Poly1305")
    suite = CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
    sealed, _ = teaching.seal_demo_record(b"abc", key, iv, suite=suite, sequence_number=2)
    nonce = (int.from_bytes(iv, "big") ^ 2).to_bytes(12, "big")
    additional_data = (2).to_bytes(8, "big") + b"\x17\x03\x03\x00\x03"
    assert sealed.fragment == ChaCha20Poly1305(key).encrypt(nonce, b"abc", additional_data)


def test_cbc_records_mac_then_encrypt_and_encrypt_then_mac() -> None:
    key, iv = teaching.default_record_inputs("AES-128-CBC + HMAC-SHA256, encrypt-then-MAC")
    mac_key = teaching.DEMO_MAC_KEY
    header = (0).to_bytes(8, "big") + b"\x17\x03\x03"
    etm, _ = teaching.seal_demo_record(b"Hello", key, iv, suite=CBC, encrypt_then_mac=True)
    covered = etm.fragment[: -len(etm.mac)]
    assert etm.mac == hmac.digest(mac_key, header + len(covered).to_bytes(2, "big") + covered, "sha256")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    assert decryptor.update(covered[16:]) + decryptor.finalize() == b"Hello" + bytes([10]) * 11

    mte, _ = teaching.seal_demo_record(b"Hello", key, iv, suite=CBC, encrypt_then_mac=False)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    inner = decryptor.update(mte.fragment[16:]) + decryptor.finalize()
    mac = hmac.digest(mac_key, header + b"\x00\x05" + b"Hello", "sha256")
    assert inner == b"Hello" + mac + bytes([10]) * 11 and mte.mac == mac


@pytest.mark.parametrize("protection", list(teaching.RECORD_SUITES))
def test_a_flipped_bit_gives_bad_record_mac(protection: str) -> None:
    key, nonce = teaching.default_record_inputs(protection)
    clean = teaching.record_update("Hello, HTTPS!", key.hex(), nonce.hex(), protection=protection)
    assert clean.rejection is None and clean.opened == b"Hello, HTTPS!"
    assert clean.received == clean.sealed.record
    for bit in (0, 8 * len(clean.sealed.fragment) - 1):
        flipped = teaching.record_update("Hello, HTTPS!", key.hex(), nonce.hex(), protection=protection, flip=bit)
        assert isinstance(flipped.rejection, BadRecordMac)
        assert flipped.rejection.alert == AlertDescription.BAD_RECORD_MAC
        assert teaching.bit_difference(flipped.received, clean.sealed.record) == 1
        assert "REJECTED" in flipped.as_text()


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"key_hex": "xyz"}, "hexadecimal"),
        ({"key_hex": "00" * 15}, "16-byte key"),
        ({"nonce_hex": "00" * 11}, "12 bytes"),
        ({"protection": "ROT13"}, "unknown protection"),
        ({"flip": 10_000}, "outside"),
    ],
)
def test_record_update_explains_bad_input(kwargs: dict, fragment: str) -> None:
    result = teaching.record_update(**kwargs)
    assert result.error is not None and fragment in result.error and result.sealed is None


# ------------------------------------------------------------------------------ 02 certificates
def test_certificate_check_by_name_and_by_ip() -> None:
    assert teaching.certificate_check("valid", "localhost").ok
    by_ip = teaching.certificate_check("valid", "127.0.0.1")
    assert by_ip.ok and str(by_ip.ip_address) == "127.0.0.1"
    wrong = teaching.certificate_check("valid", "www.example.com")
    assert not wrong.ok and wrong.error is not None and wrong.error.name == "name"
    assert wrong.alert == AlertDescription.BAD_CERTIFICATE
    assert teaching.certificate_check("ip_not_in_certificate", "").error.name == "name"  # scenario's own target
    assert teaching.certificate_check("expired", "localhost").error.name == "validity"
    with pytest.raises(CertificateError):
        teaching.certificate_check("no such scenario")


# ------------------------------------------------------------------------------ stream helpers
def _record(content_type: int, fragment: bytes) -> bytes:
    return bytes([content_type]) + b"\x03\x03" + len(fragment).to_bytes(2, "big") + fragment


def test_stream_tamper_flips_the_located_byte_once_across_chunks() -> None:
    hello = _record(22, bytes([HandshakeType.SERVER_HELLO]) + (3).to_bytes(3, "big") + b"abc")
    key_exchange = _record(
        22, bytes([HandshakeType.SERVER_KEY_EXCHANGE]) + (4).to_bytes(3, "big") + b"\x00\x01\x02\x03"
    )
    stream = hello + key_exchange
    tamper = live.StreamTamper(
        "server_to_client", live.StreamTamper.handshake_message_byte(HandshakeType.SERVER_KEY_EXCHANGE, 2)
    )
    first, second = stream[:7], stream[7:]
    assert tamper("client_to_server", b"\x16\x03", 0) == b"\x16\x03"  # other direction: untouched
    assert tamper("server_to_client", first, 0) == first
    forwarded = tamper("server_to_client", second, len(first))
    target = len(hello) + 5 + 4 + 2
    assert tamper.flipped_at == target
    assert teaching.bit_difference(first + forwarded, stream) == 1
    assert (first + forwarded)[target] == stream[target] ^ 1
    assert bytes(tamper.seen["server_to_client"]) == stream  # what was sent, before tampering
    again = tamper("server_to_client", stream, len(stream))
    assert again == stream  # only once


def test_record_byte_locator_counts_from_the_end() -> None:
    stream = _record(22, b"\x01" * 4) + _record(23, b"\xaa\xbb\xcc")
    locate = live.StreamTamper.record_byte(ContentType.APPLICATION_DATA, -1)
    assert locate(stream) == len(stream) - 1
    assert locate(stream[:-1]) is None  # the record is not complete yet


def test_cleartext_alerts_stop_at_change_cipher_spec() -> None:
    stream = _record(21, b"\x02\x33") + _record(20, b"\x01") + _record(21, b"\x99\x99")
    alerts = cleartext_alerts(stream)
    assert [alert.description for alert in alerts] == [AlertDescription.DECRYPT_ERROR]


# ------------------------------------------------------------------------------ real sessions
@pytest.mark.interop
def test_cleartext_transcript_gives_the_session_hash_of_a_real_session() -> None:
    from httpslab.capture import analyze_capture
    from httpslab.crypto.keyschedule import transcript_hash
    from httpslab.peers.openssl import record_session

    session = record_session("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
    capture = analyze_capture(session.client_to_server, session.server_to_client, session.keylog)
    transcript = cleartext_handshake_transcript(session.client_to_server, session.server_to_client)
    assert transcript_hash(transcript) == capture.session_hash()
    with pytest.raises(TLSError):
        cleartext_handshake_transcript(session.server_to_client, session.client_to_server)


@pytest.mark.interop
def test_openssl_client_sends_decrypt_error_for_a_flipped_signed_point() -> None:
    from httpslab.errors import OpenSSLPeerError
    from httpslab.peers.openssl import record_session

    tamper = live.StreamTamper(
        "server_to_client", live.StreamTamper.handshake_message_byte(HandshakeType.SERVER_KEY_EXCHANGE, 10)
    )
    with pytest.raises(OpenSSLPeerError):
        record_session("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", tamper=tamper, timeout=5)
    assert tamper.flipped_at is not None
    alerts = cleartext_alerts(bytes(tamper.seen["client_to_server"]))
    assert alerts and alerts[0].description == AlertDescription.DECRYPT_ERROR


@pytest.mark.interop
def test_connect_to_demo_server_by_ip_and_by_wrong_name() -> None:
    by_ip, wrong = live.connect_to_demo_server(["127.0.0.1", "www.example.com"])
    assert (
        by_ip.ok
        and by_ip.certificates_on_wire == 2
        and ("IP Address", "127.0.0.1") in by_ip.subject_alt_names
    )
    assert by_ip.client_alert is None
    assert not wrong.ok and wrong.error is not None and "Hostname mismatch" in wrong.error
    assert (
        wrong.client_alert is not None and wrong.client_alert.description == AlertDescription.BAD_CERTIFICATE
    )


# ------------------------------------------------------------------------------ widgets


def test_widgets_carry_controls_classes_and_recompute(capsys: pytest.CaptureFixture[str]) -> None:
    panels = {
        "httpslab-certificates": pki_widgets.certificate_widget(),
        "httpslab-toy-rsa": cw.toy_rsa_widget(),
        "httpslab-toy-dh": cw.toy_dh_widget(),
        "httpslab-key-derivation": cw.key_derivation_widget(),
        "httpslab-record": cw.record_widget(),
    }
    for css_class, panel in panels.items():
        assert css_class in panel._dom_classes
        assert panel.result is not None and panel.text.value.startswith("<pre")
        assert all(control.description for control in panel.controls.values())

    rsa_panel = panels["httpslab-toy-rsa"]
    rsa_panel.controls["m"].value = 1000
    assert rsa_panel.result.c == pow(1000, 17, 3233)
    rsa_panel.controls["p"].value = 4
    assert "p = 4 is not prime" in rsa_panel.text.value

    dh_panel = panels["httpslab-toy-dh"]
    dh_panel.controls["b"].value = 7
    assert dh_panel.result.B == pow(5, 7, 23) and dh_panel.result.agree

    keys_panel = panels["httpslab-key-derivation"]
    keys_panel.controls["flip_input"].value = "none"
    assert keys_panel.result.input_bits_changed == 0
    keys_panel.controls["premaster"].value = "00" * 48
    assert (
        keys_panel.result.input_bits_changed > 0
        and keys_panel.result.keys["master_secret"] != keys_panel.result.original_keys["master_secret"]
    )

    record_panel = panels["httpslab-record"]
    record_panel.controls["flip"].value = 3
    assert isinstance(record_panel.result.rejection, BadRecordMac)
    record_panel.controls["protection"].value = "ChaCha20-Poly1305"
    assert len(bytes.fromhex(record_panel.controls["key"].value)) == 32
    assert record_panel.result.error is None and isinstance(record_panel.result.rejection, BadRecordMac)

    certificate_panel = panels["httpslab-certificates"]
    certificate_panel.controls["host"].value = "www.example.com"
    assert not certificate_panel.result.ok and "Rejected" in certificate_panel.text.value
    capsys.readouterr()


# ------------------------------------------------------------------------------ plots
def test_draw_avalanche_bars_and_labels() -> None:
    changes = [("master_secret", 200, 384), ("client_write_key", 0, 128)]
    ax = cp.draw_avalanche(changes)
    bars = {patch.get_gid(): patch for patch in ax.patches if patch.get_gid()}
    assert set(bars) == {"avalanche-master_secret", "avalanche-client_write_key"}
    assert bars["avalanche-master_secret"].get_width() == pytest.approx(100 * 200 / 384)
    assert bars["avalanche-client_write_key"].get_width() == 0
    assert any("200/384 bits" in text.get_text() for text in ax.texts)


def test_draw_record_map_segments_follow_the_parts() -> None:
    sealed, _ = teaching.seal_demo_record(b"x" * 40)
    ax = cp.draw_record_map(sealed.parts(), highlight=5 + 8)
    segments = [patch for patch in ax.patches if (patch.get_gid() or "").startswith("part-")]
    assert [patch.get_gid() for patch in segments] == [
        "part-header",
        "part-explicit nonce",
        "part-ciphertext",
        "part-tag",
    ]
    assert [patch.get_width() for patch in segments] == [6.0, 8.0, 40.0, 16.0]
    highlighted = [patch for patch in ax.patches if patch.get_gid() is None]
    assert len(highlighted) == 1 and 14.0 <= highlighted[0].get_x() < 54.0  # inside the ciphertext
    assert "69 bytes" in ax.get_title()


def test_draw_key_schedule_and_toy_dh_and_cbc_comparison() -> None:
    ax = cp.draw_key_schedule(teaching.key_block_layout(GCM), extended_master_secret=True)
    gids = {text.get_gid() for text in ax.texts}
    assert {
        "node-premaster",
        "node-session_hash",
        "node-master",
        "node-client_write_key",
        "node-client_write_IV",
    } <= gids
    assert "node-client_write_MAC_key" not in gids  # zero-length pieces are left out
    classic = cp.draw_key_schedule((), extended_master_secret=False)
    assert "node-randoms" in {text.get_gid() for text in classic.texts}

    ax = cp.draw_toy_dh(23, 5, 6, 15)
    marked = {
        collection.get_gid(): collection.get_offsets()[0].tolist()
        for collection in ax.collections
        if collection.get_gid()
    }
    assert marked == {"alice": [6.0, 8.0], "bob": [15.0, 19.0]}

    key, iv = teaching.default_record_inputs("AES-128-CBC + HMAC-SHA256, MAC-then-encrypt")
    mte, _ = teaching.seal_demo_record(b"Hi", key, iv, suite=CBC)
    etm, _ = teaching.seal_demo_record(b"Hi", key, iv, suite=CBC, encrypt_then_mac=True)
    axes = cp.draw_cbc_comparison(mte, etm)
    assert len(axes) == 4
    assert "part-MAC" in {patch.get_gid() for patch in axes[2].patches}  # EtM: MAC on the wire
    assert "part-MAC" not in {patch.get_gid() for patch in axes[0].patches}  # MtE: MAC hidden


def test_render_functions_return_figures_or_none() -> None:
    from matplotlib.figure import Figure

    assert isinstance(cp.render_toy_dh(teaching.toy_dh(23, 5, 6, 15)), Figure)
    assert cp.render_toy_dh(teaching.toy_dh(22, 5, 6, 15)) is None
    assert isinstance(cp.render_key_derivation(teaching.key_derivation_update(flip=3)), Figure)
    assert cp.render_key_derivation(teaching.key_derivation_update(client_random_hex="00")) is None
    assert isinstance(cp.render_record(teaching.record_update(flip=1)), Figure)
    assert cp.render_record(teaching.record_update(key_hex="00")) is None
    assert isinstance(pki_plots.render_certificate(teaching.certificate_check("valid", "localhost")), Figure)


# ------------------------------------------------------------------------------ widget pictures
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE)
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def test_widget_picture_is_redrawn_in_one_figure_and_shown_as_png() -> None:
    dh_panel = cw.toy_dh_widget(467, 2, 153, 197)
    figure = dh_panel.picture.figure
    first = dh_panel.png
    assert dh_panel.output.value == first and dh_panel.output.format == "png"
    assert _png_size(first) == (6 * WIDGET_DPI, 3 * WIDGET_DPI)
    dh_panel.controls["a"].value = 300
    assert dh_panel.picture.figure is figure and len(figure.axes) == 1  # reused, not rebuilt
    assert dh_panel.png != first and dh_panel.output.value == dh_panel.png
    ax = figure.axes[0]
    alice = next(c for c in ax.collections if c.get_gid() == "alice")
    assert alice.get_offsets()[0].tolist() == [300.0, float(pow(2, 300, 467))]
    label = next(t for t in ax.texts if t.get_gid() == "alice-label")
    assert label.get_text() == f"Alice: A = g^300 = {pow(2, 300, 467)}"

    dh_panel.controls["p"].value = 22  # not prime: the text says why, no picture
    assert dh_panel.png is None and dh_panel.output.layout.display == "none"
    dh_panel.controls["p"].value = 1019
    assert dh_panel.png is not None and dh_panel.output.layout.display is None
    assert 1000 < ax.get_ylim()[1] < 1100  # the axes follow the new group
    dh_panel.controls["a"].value = 700  # past the 400 powers drawn: no marker, no label
    assert dh_panel.result.agree and not alice.get_visible() and not label.get_visible()


def test_record_widget_protection_change_is_one_update(monkeypatch: pytest.MonkeyPatch) -> None:
    panel = cw.record_widget()
    calls = []
    original = teaching.record_update

    def counting(*args: object, **kwargs: object) -> teaching.RecordResult:
        calls.append(kwargs["protection"])
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cw, "record_update", counting)
    panel.controls["protection"].value = "ChaCha20-Poly1305"
    assert calls == ["ChaCha20-Poly1305"]
    assert panel.result.error is None and len(panel.result.sealed.fragment) == len(b"Hello, HTTPS!") + 16
    panel.controls["key"].value = "00" * 32  # the key and nonce controls still update
    assert len(calls) == 2 and panel.result.sealed is not None


def test_key_derivation_slider_reaches_the_last_bit_of_the_chosen_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    panel = cw.key_derivation_widget()
    slider, target = panel.controls["flip"], panel.controls["flip_input"]
    assert slider.max == 255  # client random: 32 bytes
    calls = []
    original = teaching.key_derivation_update

    def counting(*args: object, **kwargs: object) -> teaching.KeyDerivationResult:
        calls.append((kwargs["flip_input"], kwargs["flip"]))
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cw, "key_derivation_update", counting)
    target.value = "premaster"  # 48 bytes = 384 bits
    assert slider.max == 383 and calls == [("premaster", 0)]
    slider.value = 383  # the premaster's last bit is reachable and valid
    assert panel.result.error is None and panel.result.inputs["premaster"][-1] == teaching.DEMO_PREMASTER[-1] ^ 1
    target.value = "server_random"  # back to 32 bytes: the value is clamped, one update, no error
    assert slider.max == 255 and slider.value == 255
    assert calls[-1] == ("server_random", 255) and len(calls) == 3
    assert panel.result.error is None
    target.value = "none"  # nothing to flip: the slider keeps its range
    assert slider.max == 255 and calls[-1] == ("none", None) and len(calls) == 4


def test_avalanche_picture_updates_bars_in_place_and_rebuilds_for_other_names() -> None:
    ax = cp.draw_avalanche([("master_secret", 200, 384), ("client_write_key", 0, 128)])
    from matplotlib.figure import Figure

    figure = Figure()
    picture = cp.AvalanchePicture(figure.add_subplot())
    picture.update([("master_secret", 200, 384), ("client_write_key", 0, 128)])
    bars = list(picture.bars)
    picture.update([("master_secret", 96, 384), ("client_write_key", 64, 128)])
    assert picture.bars == bars  # same artists, new data
    assert bars[0].get_width() == pytest.approx(25.0) and bars[1].get_width() == pytest.approx(50.0)
    assert [label.get_text() for label in picture.labels] == ["96/384 bits", "64/128 bits"]
    picture.update([("master_secret", 1, 384)])
    assert len(picture.bars) == 1 and len([p for p in picture.ax.patches if p.get_gid()]) == 1
    assert [tick.get_text() for tick in picture.ax.get_yticklabels()] == ["master_secret"]
    assert len([p for p in ax.patches if p.get_gid()]) == 2


def test_certificate_widget_draws_the_compact_chain() -> None:
    panel = pki_widgets.certificate_widget("tampered_signature", "")
    ax = panel.picture.figure.axes[0]
    from httpslab.notebook.pki_plots import FAILED_COLOUR, PASSED_COLOUR

    failed = [t.get_text() for t in ax.texts if t.get_color() == FAILED_COLOUR and t.get_gid()]
    assert failed == ["✗ signature"]  # the failed check, named, in red
    passed_here = sum(check.passed for check in panel.result.checks if check.depth == 0)
    summary = next(t for t in ax.texts if t.get_gid() == "check-0-passed")
    assert summary.get_text() == f"✓ {passed_here} checks passed" and summary.get_color() == PASSED_COLOUR
    assert panel.png is not None and _png_size(panel.png)[0] == int(7.5 * WIDGET_DPI)
    panel.controls["scenario"].value = "valid"
    assert panel.picture.figure.axes[0] is ax
    assert not [t for t in ax.texts if t.get_color() == FAILED_COLOUR]  # the old drawing is gone


# ------------------------------------------------------------------------------ a relay that hangs up
class _RelayThatHangsUp:
    """Stands in for the recording relay: takes the client's ClientHello, then hangs up.

    With ``reset`` the hang-up is a TCP reset (SO_LINGER 0), else a plain FIN: either way the
    client's handshake ends with no TLS alert from anyone. Nothing reaches s_server.
    """

    reset = False

    def __init__(self, target: tuple[str, int], **options: object) -> None:
        self.client_to_server = b""
        self.server_to_client = b""
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._hang_up, daemon=True)

    def start(self) -> _RelayThatHangsUp:
        self._thread.start()
        return self

    def __enter__(self) -> _RelayThatHangsUp:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def address(self) -> tuple[str, int]:
        return self._listener.getsockname()[:2]

    def _hang_up(self) -> None:
        client, _ = self._listener.accept()
        with client:
            self.client_to_server = client.recv(65536)
            if self.reset:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def wait_closed(self, timeout: float = 10.0) -> None:
        self._thread.join(timeout)

    def close(self) -> None:
        self._listener.close()
        self._thread.join(5)


@pytest.mark.interop
@pytest.mark.parametrize(
    ("reset", "causes"),
    # an EOF is SSLEOFError on Python 3.11.7 and SSLZeroReturnError on Debian's 3.11.2
    [(False, (ssl.SSLEOFError, ssl.SSLZeroReturnError)), (True, (ConnectionResetError,))],
    ids=["eof", "reset"],
)
def test_connect_to_demo_server_reports_a_hang_up_during_the_handshake_as_a_transport_error(
    monkeypatch: pytest.MonkeyPatch, reset: bool, causes: tuple[type[OSError], ...]
) -> None:
    # the TCP stream ends with no alert: a transport failure, not an OpenSSL peer that failed
    from httpslab import relay
    from httpslab.errors import OpenSSLPeerError

    monkeypatch.setattr(relay, "RecordingRelay", type("Relay", (_RelayThatHangsUp,), {"reset": reset}))
    with pytest.raises(TransportError) as info:
        live.connect_to_demo_server(["127.0.0.1"])
    assert type(info.value) is TransportError and not isinstance(info.value, OpenSSLPeerError | OSError)
    assert type(info.value.__cause__) in causes
    assert str(info.value).startswith("the connection to openssl s_server (through the recording relay) ")
    assert str(info.value).endswith("; run the cell again")
