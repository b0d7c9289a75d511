"""Record protection: httpslab.record vs the bare ``cryptography`` calls, 16 KiB records.

Run: ``python benchmarks/bench_record.py [--samples N] [--batch N] [--size BYTES]``.

For each suite, one record of application data is sealed and opened again per iteration,
on the same plaintext, in the same run:

- **bare**: the ``cryptography`` calls alone, with every input computed beforehand — for
  the AEADs one ``encrypt`` and one ``decrypt`` with a fixed nonce and additional data;
  for CBC a fresh ``Cipher(AES, CBC(iv))`` encryptor and decryptor plus ``hmac.digest``
  over the same bytes the record MACs, padding precomputed. Every ratio is against this
  column unless it says otherwise.
- **bare into** (AEAD only): the same with ``encrypt_into`` / ``decrypt_into`` into
  preallocated buffers (nothing allocated per call).
- **inputs only** (AEAD only): bare plus only the inputs the RFCs derive per record: the
  13-byte additional data and the 12-byte nonce built from a counting sequence number
  *once* and used by both calls (a real receiver builds its own), no explicit nonce on the
  wire, no checks, no function call of our own. Less than a record layer must do.
- **by hand**: the same calls plus the per-record work RFC 5246/5288/7905 require, written
  inline in the benchmark: nonce and additional data from the sequence number, the
  explicit nonce put in front of the ciphertext and stripped again (GCM), padding (CBC).
- **by hand, in place** (AEAD only): everything RFC 5246/5288/7905 require, inline, with the
  cheapest calls ``cryptography`` has: the sender packs header and explicit nonce into a
  reusable record buffer and ``encrypt_into`` writes the ciphertext behind them; the
  receiver builds its own additional data and nonce (from the record's explicit nonce) and
  ``decrypt_into`` reads the ciphertext through a ``memoryview``. No checks, no calls of our
  own, nothing allocated but the two 13/12-byte inputs per side: the least a correct record
  layer written in Python does, compared with **bare**.
- **seal/open**: ``RecordProtection.seal`` then ``RecordProtection.open`` (new ``bytes``
  for every fragment and plaintext) — compared with **bare** (which also allocates).
- **in place** (AEAD only): the library's fastest public path, compared with **bare into**:
  ``RecordProtection.seal_into`` writes header, explicit nonce and ciphertext || tag into
  one reusable buffer (what the connection does for application data), then
  ``RecordProtection.open_into`` reads the fragment from a ``memoryview`` of that buffer
  (no copy) and decrypts into a reusable plaintext buffer. Every check of ``seal``/``open``
  runs (lengths, sequence numbers, the tag, the empty-record rule).

Same plaintext and key for every column, in the same run. Samples of ``batch`` iterations
are interleaved (bare, bare into, inputs only, by hand, by hand in place, seal/open, in place,
bare, ...) so that all see
the same machine state; the table shows the median time per iteration.
"""

from __future__ import annotations

import argparse
import hmac
import os
import statistics
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from httpslab.crypto.suites import suite_info
from httpslab.enums import CipherSuite
from httpslab.record import RecordProtection

VERSION = 0x0303
APPLICATION_DATA = 23
pack_header = struct.Struct(">QBHH").pack
pack_record_header_into = struct.Struct(">BHH").pack_into
pack_header_and_explicit_nonce_into = struct.Struct(">BHHQ").pack_into


def aead_cases(suite: CipherSuite, size: int) -> dict[str, Callable[[], object]]:
    info = suite_info(suite)
    key = os.urandom(info.enc_key_length)
    fixed_iv = os.urandom(info.fixed_iv_length)
    plaintext = os.urandom(size)
    aead = ChaCha20Poly1305(key) if info.cipher == "CHACHA20_POLY1305" else AESGCM(key)
    is_gcm = info.record_iv_length == 8

    nonce = os.urandom(12)
    additional_data = pack_header(7, APPLICATION_DATA, VERSION, size)
    sealed = aead.encrypt(nonce, plaintext, additional_data)

    def bare() -> object:
        ciphertext = aead.encrypt(nonce, plaintext, additional_data)
        return aead.decrypt(nonce, sealed, additional_data), ciphertext

    sealed_buffer = memoryview(bytearray(size + 16))
    opened_buffer = memoryview(bytearray(size))

    def bare_into() -> object:
        aead.encrypt_into(nonce, plaintext, additional_data, sealed_buffer)
        return aead.decrypt_into(nonce, sealed, additional_data, opened_buffer)

    counter = [0]
    iv_int = int.from_bytes(fixed_iv, "big")

    def floor() -> object:
        sequence_number = counter[0]
        counter[0] = sequence_number + 1
        aad = pack_header(sequence_number, APPLICATION_DATA, VERSION, size)
        record_nonce = fixed_iv + aad[:8] if is_gcm else (iv_int ^ sequence_number).to_bytes(12, "big")
        return aead.decrypt(record_nonce, aead.encrypt(record_nonce, plaintext, aad), aad)

    record_buffer = bytearray(5 + info.record_iv_length + size + 16)
    record_memory = memoryview(record_buffer)
    ciphertext_out = record_memory[5 + info.record_iv_length :]  # where encrypt_into writes
    fragment_length = info.record_iv_length + size + 16

    def by_hand_in_place() -> object:
        sequence_number = counter[0]
        counter[0] = sequence_number + 1
        # sender
        aad = pack_header(sequence_number, APPLICATION_DATA, VERSION, size)
        if is_gcm:
            pack_header_and_explicit_nonce_into(
                record_buffer, 0, APPLICATION_DATA, VERSION, fragment_length, sequence_number
            )
            aead.encrypt_into(fixed_iv + aad[:8], plaintext, aad, ciphertext_out)
        else:
            pack_record_header_into(record_buffer, 0, APPLICATION_DATA, VERSION, fragment_length)
            aead.encrypt_into((iv_int ^ sequence_number).to_bytes(12, "big"), plaintext, aad, ciphertext_out)
        # receiver: its own sequence number (the same here), additional data and nonce
        aad = pack_header(sequence_number, APPLICATION_DATA, VERSION, size)
        if is_gcm:
            record_nonce = fixed_iv + record_buffer[5:13]
        else:
            record_nonce = (iv_int ^ sequence_number).to_bytes(12, "big")
        return aead.decrypt_into(record_nonce, ciphertext_out, aad, opened_buffer)

    def by_hand() -> object:
        sequence_number = counter[0]
        counter[0] = sequence_number + 1
        aad = pack_header(sequence_number, APPLICATION_DATA, VERSION, size)
        if is_gcm:
            explicit = aad[:8]
            fragment = explicit + aead.encrypt(fixed_iv + explicit, plaintext, aad)
            return aead.decrypt(fixed_iv + fragment[:8], memoryview(fragment)[8:], aad)
        record_nonce = (iv_int ^ sequence_number).to_bytes(12, "big")
        fragment = aead.encrypt(record_nonce, plaintext, aad)
        return aead.decrypt(record_nonce, fragment, aad)

    sender = RecordProtection(info, key, fixed_iv)
    receiver = RecordProtection(info, key, fixed_iv)
    seal, open_ = sender.seal, receiver.open

    def library() -> object:
        return open_(APPLICATION_DATA, VERSION, seal(APPLICATION_DATA, VERSION, plaintext))

    fast_sender = RecordProtection(info, key, fixed_iv)
    fast_receiver = RecordProtection(info, key, fixed_iv)
    seal_into, open_into = fast_sender.seal_into, fast_receiver.open_into
    record_view = memoryview(bytearray(fast_sender.record_length(size)))  # reused by every record
    plaintext_view = memoryview(bytearray(size))  # reused by every record

    def library_in_place() -> object:
        written = seal_into(record_view, 0, APPLICATION_DATA, VERSION, plaintext)
        return open_into(APPLICATION_DATA, VERSION, record_view[5:written], plaintext_view)

    assert library() == plaintext and by_hand() == plaintext and floor() == plaintext
    assert by_hand_in_place() == size and opened_buffer == plaintext
    assert library_in_place() == size and plaintext_view == plaintext
    return {
        "bare": bare,
        "bare into": bare_into,
        "inputs only": floor,
        "by hand": by_hand,
        "by hand in place": by_hand_in_place,
        "seal/open": library,
        "in place": library_in_place,
    }


def cbc_cases(suite: CipherSuite, size: int, encrypt_then_mac: bool) -> dict[str, Callable[[], object]]:
    info = suite_info(suite)
    key = os.urandom(info.enc_key_length)
    mac_key = os.urandom(info.mac_length)
    mac_hash = info.mac_hash
    assert mac_hash is not None
    plaintext = os.urandom(size)
    iv = os.urandom(16)
    mac_header = pack_header(7, APPLICATION_DATA, VERSION, size)
    mac = hmac.digest(mac_key, mac_header + plaintext, mac_hash)
    padding_length = (16 - (size + (0 if encrypt_then_mac else len(mac)) + 1) % 16) % 16
    padded = plaintext + (b"" if encrypt_then_mac else mac) + bytes((padding_length,)) * (padding_length + 1)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()

    def bare() -> object:
        encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        sealed = encryptor.update(padded) + encryptor.finalize()
        tag = hmac.digest(mac_key, mac_header + plaintext, mac_hash)
        decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        opened = decryptor.update(ciphertext) + decryptor.finalize()
        check = hmac.digest(mac_key, mac_header + plaintext, mac_hash)
        return sealed, tag, opened, check

    sender = RecordProtection(
        info, key, b"", mac_key, encrypt_then_mac=encrypt_then_mac, explicit_iv=lambda n: iv
    )
    receiver = RecordProtection(info, key, b"", mac_key, encrypt_then_mac=encrypt_then_mac)
    seal, open_ = sender.seal, receiver.open

    def library() -> object:
        return open_(APPLICATION_DATA, VERSION, seal(APPLICATION_DATA, VERSION, plaintext))

    assert library() == plaintext
    return {"bare": bare, "seal/open": library}


def measure(cases: dict[str, Callable[[], object]], samples: int, batch: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in cases}
    for function in cases.values():  # warm up
        for _ in range(batch):
            function()
    for _ in range(samples):
        for name, function in cases.items():
            start = time.perf_counter_ns()
            for _ in range(batch):
                function()
            times[name].append((time.perf_counter_ns() - start) / batch / 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200, help="interleaved samples per case")
    parser.add_argument("--batch", type=int, default=100, help="seal+open iterations per sample")
    parser.add_argument("--size", type=int, default=16384, help="plaintext bytes per record")
    args = parser.parse_args()

    import ssl

    import cryptography

    print(f"Python {sys.version.split()[0]}, cryptography {cryptography.__version__}, {ssl.OPENSSL_VERSION}")
    print(f"seal+open of one {args.size}-byte record; median of {args.samples} samples x {args.batch}")
    print()
    header = (
        f"{'suite':36} {'bare µs':>8} {'seal/open':>10} {'ratio':>6}   {'bare into':>9} {'in place':>9}"
        f" {'ratio':>6}   {'inputs':>7} {'ratio':>6}   {'by hand':>8} {'ratio':>6}"
        f"   {'by hand in place':>16} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    rows: list[tuple[str, dict[str, Callable[[], object]]]] = [
        ("AES-128-GCM", aead_cases(CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, args.size)),
        ("AES-256-GCM", aead_cases(CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, args.size)),
        ("ChaCha20-Poly1305", aead_cases(CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, args.size)),
        (
            "AES-128-CBC-SHA256 MAC-then-encrypt",
            cbc_cases(CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, args.size, False),
        ),
        (
            "AES-128-CBC-SHA256 encrypt-then-MAC",
            cbc_cases(CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, args.size, True),
        ),
    ]

    def cell(value: float | None, width: int, digits: int = 2) -> str:
        return f"{value:{width}.{digits}f}" if value is not None else f"{'-':>{width}}"

    for name, cases in rows:
        result = measure(cases, args.samples, args.batch)
        bare, library = result["bare"], result["seal/open"]
        bare_into, in_place = result.get("bare into"), result.get("in place")
        floor, by_hand = result.get("inputs only"), result.get("by hand")
        by_hand_in_place = result.get("by hand in place")
        print(
            f"{name:36} {cell(bare, 8)} {cell(library, 10)} {cell(library / bare, 6, 3)}  "
            f" {cell(bare_into, 9)} {cell(in_place, 9)}"
            f" {cell(in_place / bare_into if in_place and bare_into else None, 6, 3)}  "
            f" {cell(floor, 7)} {cell(floor / bare if floor else None, 6, 3)}  "
            f" {cell(by_hand, 8)} {cell(by_hand / bare if by_hand else None, 6, 3)}  "
            f" {cell(by_hand_in_place, 16)} {cell(by_hand_in_place / bare if by_hand_in_place else None, 6, 3)}"
        )


if __name__ == "__main__":
    main()
