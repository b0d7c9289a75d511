"""Write the nbgrader source notebooks of the httpslab labs (``source/<lab>/<lab>.ipynb``).

The labs are written here, as Python data, because nbgrader only honours ``### BEGIN
SOLUTION`` / ``### BEGIN HIDDEN TESTS`` in cells whose ``metadata.nbgrader`` marks them, and
that metadata is easy to get wrong by hand. Run it after editing a lab, then regenerate the
student release::

    python make_sources.py                       # from notebooks/labs/
    for lab in $(python make_sources.py --list); do nbgrader generate_assignment "$lab" --force; done

Cell kinds (nbgrader's names): a *solution* cell holds the learner's code (its solution is
replaced by a stub in the release); an *autograder tests* cell is graded, worth ``points``,
and may hold hidden tests; a *read-only* cell is locked (setup, worked example). Every lab's
points are listed in its introduction, computed from its test cells.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "source"


@dataclass(frozen=True)
class Cell:
    kind: str  # "markdown", "code", "readonly", "solution", "tests"
    text: str
    grade_id: str = ""
    points: int = 0


def md(text: str) -> Cell:
    return Cell("markdown", dedent(text).strip())


def readonly(grade_id: str, text: str, extra: str = "") -> Cell:
    return Cell("readonly", (dedent(text).strip() + "\n" + dedent(extra)).strip(), grade_id)


def code(text: str) -> Cell:
    return Cell("code", dedent(text).strip())


def solution(grade_id: str, text: str) -> Cell:
    return Cell("solution", dedent(text).strip(), grade_id)


def tests(grade_id: str, points: int, text: str) -> Cell:
    return Cell("tests", dedent(text).strip(), grade_id, points)


SETUP_HELPERS = '''
def expect_error(error_type, function, *args):
    """Call function(*args): pass if it raises error_type (returned), fail otherwise."""
    try:
        function(*args)
    except error_type as error:
        return error
    raise AssertionError(f"{function.__name__}{args!r:.80} should have raised {error_type.__name__}")
'''


# =============================================================================== lab 1: PRF
LAB1 = [
    md("""
    # Lab 1 — The TLS 1.2 PRF and the key block

    Every key of a TLS 1.2 session comes out of one function, the **PRF** (RFC 5246 §5):

    ```
    P_SHA256(secret, seed) = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + ...
        A(0) = seed,   A(i) = HMAC(secret, A(i-1))
    PRF(secret, label, seed) = P_SHA256(secret, label + seed)
    ```

    The client and the server each run it three times: the **master secret** (48 bytes from
    the premaster secret, RFC 5246 §8.1), the **key block** (the record keys, §6.3), and the
    **Finished** messages (§7.4.9). If your PRF is wrong by a single bit, OpenSSL notices at
    the Finished message and hangs up.

    In this lab you write P_SHA256, the PRF, the master secret and the key-block split.
    The last cell plugs **your** PRF into httpslab's client and runs a real handshake with an
    OpenSSL server on 127.0.0.1.

    {points}
    """),
    readonly(
        "lab1_setup",
        """
        import hashlib
        import hmac

        from httpslab.crypto import keyschedule
        from httpslab.grading import run_real_handshake
        """,
        SETUP_HELPERS,
    ),
    md("""
    ## Worked example: HMAC-SHA256 and the A(i) chain

    `hmac.new(key, message, hashlib.sha256).digest()` is HMAC-SHA256: 32 bytes. The chain
    A(1), A(2), … feeds each output back in as the next message:
    """),
    readonly(
        "lab1_example",
        """
        secret, seed = b"secret", b"seed"
        a1 = hmac.new(secret, seed, hashlib.sha256).digest()   # A(1) = HMAC(secret, A(0))
        a2 = hmac.new(secret, a1, hashlib.sha256).digest()     # A(2) = HMAC(secret, A(1))
        first_block = hmac.new(secret, a1 + seed, hashlib.sha256).digest()
        print("A(1) =", a1.hex())
        print("A(2) =", a2.hex())
        print("first 32 bytes of P_SHA256(secret, seed) =", first_block.hex())
        """,
    ),
    md("""
    ## Part 1 — P_SHA256 and the PRF

    Write `p_sha256(secret, seed, length)`: as many HMAC blocks as needed, cut to `length`
    bytes (`length` may be 0, or not a multiple of 32). Then `prf(secret, label, seed, length)`.
    """),
    solution(
        "lab1_p_sha256",
        '''
        def p_sha256(secret: bytes, seed: bytes, length: int) -> bytes:
            """P_SHA256(secret, seed) of RFC 5246 §5, cut to `length` bytes."""
            ### BEGIN SOLUTION
            output = b""
            a = seed
            while len(output) < length:
                a = hmac.new(secret, a, hashlib.sha256).digest()
                output += hmac.new(secret, a + seed, hashlib.sha256).digest()
            return output[:length]
            ### END SOLUTION


        def prf(secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
            """PRF(secret, label, seed) = P_SHA256(secret, label + seed), RFC 5246 §5."""
            ### BEGIN SOLUTION
            return p_sha256(secret, label + seed, length)
            ### END SOLUTION
        ''',
    ),
    tests(
        "lab1_test_p_sha256",
        3,
        """
        # P_SHA256 gives `length` bytes, and its first block is HMAC(secret, A(1) + seed).
        assert p_sha256(b"secret", b"seed", 32) == first_block
        assert len(p_sha256(b"secret", b"seed", 100)) == 100
        assert p_sha256(b"secret", b"seed", 100)[:32] == first_block
        ### BEGIN HIDDEN TESTS
        for length in (0, 1, 31, 32, 33, 64, 65, 104, 200):
            assert p_sha256(b"k" * 13, b"some seed", length) == keyschedule.p_hash(
                b"k" * 13, b"some seed", length, "sha256"
            ), f"wrong output for length {length}"
        assert p_sha256(b"", b"", 48) == keyschedule.p_hash(b"", b"", 48, "sha256")
        ### END HIDDEN TESTS
        """,
    ),
    tests(
        "lab1_test_prf",
        2,
        """
        # The IETF TLS working group's PRF test vector (SHA-256), msg03416 on the TLS list.
        ietf_secret = bytes.fromhex("9bbe436ba940f017b17652849a71db35")
        ietf_seed = bytes.fromhex("a0ba9f936cda311827a6f796ffd5198c")
        ietf_output = bytes.fromhex(
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0f"
            "a022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66"
        )
        assert prf(ietf_secret, b"test label", ietf_seed, 100) == ietf_output
        ### BEGIN HIDDEN TESTS
        for length in (12, 48, 72):
            assert prf(b"s" * 48, b"key expansion", b"r" * 64, length) == keyschedule.prf(
                b"s" * 48, b"key expansion", b"r" * 64, length, "sha256"
            )
        ### END HIDDEN TESTS
        """,
    ),
    md("""
    ## Part 2 — master secret and key block

    `master_secret = PRF(premaster_secret, "master secret", client_random + server_random)[0:48]`
    (RFC 5246 §8.1). The key block is `PRF(master_secret, "key expansion", server_random +
    client_random)` — mind the order of the randoms — cut, in this order, into
    `client_write_MAC_key`, `server_write_MAC_key`, `client_write_key`, `server_write_key`,
    `client_write_IV`, `server_write_IV` (§6.3). For AES-128-GCM the MAC keys are empty, the
    keys are 16 bytes and the "IVs" are 4-byte salts.

    `split_key_block` returns a dict with the six names `client_write_mac_key`,
    `server_write_mac_key`, `client_write_key`, `server_write_key`, `client_write_iv`,
    `server_write_iv`.
    """),
    solution(
        "lab1_key_block",
        '''
        def master_secret(premaster_secret: bytes, client_random: bytes, server_random: bytes) -> bytes:
            """The 48-byte master secret, RFC 5246 §8.1."""
            ### BEGIN SOLUTION
            return prf(premaster_secret, b"master secret", client_random + server_random, 48)
            ### END SOLUTION


        def split_key_block(key_block: bytes, mac_length: int, key_length: int, iv_length: int) -> dict:
            """Cut the key block into its six pieces, RFC 5246 §6.3."""
            ### BEGIN SOLUTION
            names = [
                ("client_write_mac_key", mac_length),
                ("server_write_mac_key", mac_length),
                ("client_write_key", key_length),
                ("server_write_key", key_length),
                ("client_write_iv", iv_length),
                ("server_write_iv", iv_length),
            ]
            pieces, offset = {}, 0
            for name, size in names:
                pieces[name] = key_block[offset : offset + size]
                offset += size
            return pieces
            ### END SOLUTION
        ''',
    ),
    tests(
        "lab1_test_master_secret",
        1,
        """
        premaster, client_random, server_random = b"\\x03\\x03" + b"p" * 46, b"c" * 32, b"s" * 32
        assert len(master_secret(premaster, client_random, server_random)) == 48
        ### BEGIN HIDDEN TESTS
        assert master_secret(premaster, client_random, server_random) == keyschedule.master_secret(
            premaster, client_random, server_random, "sha256"
        )
        ### END HIDDEN TESTS
        """,
    ),
    tests(
        "lab1_test_key_block",
        2,
        """
        pieces = split_key_block(bytes(range(40)), 0, 16, 4)   # AES-128-GCM: 2*0 + 2*16 + 2*4 = 40
        assert pieces["client_write_mac_key"] == b""
        assert pieces["client_write_key"] == bytes(range(0, 16))
        assert pieces["server_write_key"] == bytes(range(16, 32))
        assert pieces["client_write_iv"] == bytes(range(32, 36))
        ### BEGIN HIDDEN TESTS
        from httpslab.enums import CipherSuite
        from httpslab.crypto.suites import suite_info

        master = b"m" * 48
        for suite in (CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256):
            expected = keyschedule.key_block(master, b"c" * 32, b"s" * 32, suite)
            info = suite_info(suite)
            mine = split_key_block(expected.key_block, info.mac_length, info.enc_key_length, info.fixed_iv_length)
            for name in ("client_write_mac_key", "server_write_mac_key", "client_write_key",
                         "server_write_key", "client_write_iv", "server_write_iv"):
                assert mine[name] == getattr(expected, name), f"{name} is wrong for {suite.name}"
        ### END HIDDEN TESTS
        """,
    ),
    md("""
    ## Part 3 — your PRF in a real handshake

    `run_real_handshake(prf=prf)` starts an OpenSSL server (Python's `ssl` module) on
    127.0.0.1 and connects httpslab's client to it with **your PRF** computing the (extended)
    master secret, the key block and both Finished messages. It then sends a message that
    OpenSSL must decrypt and echo. The report says what OpenSSL said. The second check cuts
    the key block the session really used with your `split_key_block`.
    """),
    tests(
        "lab1_real_handshake",
        2,
        """
        report = run_real_handshake(prf=prf)
        print(report)
        assert report.ok, "OpenSSL did not accept the handshake computed with your PRF"
        used = report.transcript.secrets.key_block
        mine = split_key_block(used.key_block, 0, 16, 4)
        assert mine["client_write_key"] == used.client_write_key and mine["server_write_iv"] == used.server_write_iv
        """,
    ),
]


# ======================================================================= lab 2: RSA premaster
LAB2 = [
    md("""
    # Lab 2 — The RSA premaster secret and PKCS#1 v1.5 padding

    With the RSA key exchange (suites `TLS_RSA_WITH_…`), the client makes up the secret:
    48 bytes, the first two of which are the version it offered (`03 03`), the other 46
    random (RFC 5246 §7.4.7.1). It pads them with PKCS#1 v1.5 (RFC 8017 §7.2.1) into a block
    as long as the server's modulus,

    ```
    00 02 | PS: at least 8 random NONZERO bytes | 00 | premaster secret (48 bytes)
    ```

    and encrypts the block with the server's public key: `c = m^e mod n`.

    The server decrypts and **unpads**. How it reports a bad padding matters: if an attacker
    can tell *why* a block was rejected ("wrong first byte" vs "no zero separator"), every
    answer leaks a little about the plaintext — Bleichenbacher's 1998 attack, and ROBOT in 2017,
    decrypt a premaster secret that way. So your unpad must reject every malformed block with
    the **same** error and the **same** message. A hidden test checks that.

    The last cell plugs your encryption into httpslab's client: OpenSSL decrypts your block.

    {points}
    """),
    readonly(
        "lab2_setup",
        """
        import os

        from cryptography.hazmat.primitives.asymmetric import padding

        from httpslab.errors import PaddingError
        from httpslab.grading import run_real_handshake
        from httpslab.pki import demo_key
        """,
        SETUP_HELPERS,
    ),
    md("""
    ## Worked example: textbook RSA with small numbers

    p = 61, q = 53, n = 3233, e = 17, d = 2753. Bytes become a number with
    `int.from_bytes(block, "big")` and back with `number.to_bytes(k, "big")`, where `k` is the
    length of the modulus in bytes.
    """),
    readonly(
        "lab2_example",
        """
        n, e, d = 3233, 17, 2753
        message = 65
        ciphertext = pow(message, e, n)
        print("65^17 mod 3233 =", ciphertext, "  and back:", pow(ciphertext, d, n))

        server_key = demo_key("server", "rsa")          # the demo server's 2048-bit key
        public_numbers = server_key.public_key().public_numbers()
        k = (public_numbers.n.bit_length() + 7) // 8
        print("modulus length k =", k, "bytes; e =", public_numbers.e)
        """,
    ),
    md("""
    ## Part 1 — the premaster secret and the padding

    `make_premaster(client_version, random_46)` returns the 48 bytes. `pkcs1_pad(message, k,
    random_source)` returns the `k`-byte block; `random_source(n)` returns `n` random bytes
    that **may contain zeros** — draw again until you have enough nonzero bytes. A message
    longer than `k - 11` bytes does not fit: raise `ValueError`.
    """),
    solution(
        "lab2_pad",
        '''
        def make_premaster(client_version: int, random_46: bytes) -> bytes:
            """The 48-byte RSA premaster secret of RFC 5246 §7.4.7.1."""
            ### BEGIN SOLUTION
            return client_version.to_bytes(2, "big") + random_46
            ### END SOLUTION


        def pkcs1_pad(message: bytes, k: int, random_source=os.urandom) -> bytes:
            """00 02 PS 00 message, k bytes in all, PS nonzero and at least 8 bytes (RFC 8017 §7.2.1)."""
            ### BEGIN SOLUTION
            ps_length = k - 3 - len(message)
            if ps_length < 8:
                raise ValueError("message too long")
            padding_string = b""
            while len(padding_string) < ps_length:
                padding_string += bytes(b for b in random_source(ps_length) if b != 0)
            return b"\\x00\\x02" + padding_string[:ps_length] + b"\\x00" + message
            ### END SOLUTION
        ''',
    ),
    tests(
        "lab2_test_premaster",
        1,
        """
        premaster = make_premaster(0x0303, bytes(range(46)))
        assert premaster == b"\\x03\\x03" + bytes(range(46))
        ### BEGIN HIDDEN TESTS
        assert make_premaster(0x0301, b"\\xff" * 46)[:2] == b"\\x03\\x01"
        assert len(make_premaster(0x0303, os.urandom(46))) == 48
        ### END HIDDEN TESTS
        """,
    ),
    tests(
        "lab2_test_pad",
        3,
        """
        block = pkcs1_pad(b"\\x03\\x03" + b"s" * 46, 256)
        assert len(block) == 256 and block[:2] == b"\\x00\\x02"
        assert block[-49] == 0 and block[-48:] == b"\\x03\\x03" + b"s" * 46
        assert 0 not in block[2:-49], "the padding string must not contain a zero byte"
        expect_error(ValueError, pkcs1_pad, b"x" * 250, 256)
        ### BEGIN HIDDEN TESTS
        def zeros_often(n):  # a source that returns a zero byte every other byte
            return bytes(i % 2 * 7 for i in range(n))

        block = pkcs1_pad(b"m" * 48, 128, zeros_often)
        assert len(block) == 128 and block[:2] == b"\\x00\\x02" and block[-49] == 0
        assert 0 not in block[2:-49]
        assert len(pkcs1_pad(b"m" * 117, 128)) == 128   # exactly k - 11 fits
        expect_error(ValueError, pkcs1_pad, b"m" * 118, 128)
        assert pkcs1_pad(b"", 16)[:2] == b"\\x00\\x02"
        ### END HIDDEN TESTS
        """,
    ),
    md("""
    ## Part 2 — unpadding, without an oracle

    `pkcs1_unpad(block, expected_length=None)` returns the message. Check everything: first
    byte `00`, second byte `02`, a zero separator after **at least 8** bytes of padding, and
    (when given) the message length. Whatever is wrong, `raise PaddingError()` — no
    arguments, the same error every time. No other exception may escape (an `IndexError` for a
    short block would tell the attacker the block was short).
    """),
    solution(
        "lab2_unpad",
        '''
        def pkcs1_unpad(block: bytes, expected_length: int | None = None) -> bytes:
            """Check and strip PKCS#1 v1.5 padding; PaddingError() for any malformed block."""
            ### BEGIN SOLUTION
            separator = block.find(b"\\x00", 2)
            valid = (
                len(block) >= 11
                and block[0] == 0
                and block[1] == 2
                and separator >= 10
                and (expected_length is None or len(block) - separator - 1 == expected_length)
            )
            if not valid:
                raise PaddingError()
            return block[separator + 1 :]
            ### END SOLUTION
        ''',
    ),
    tests(
        "lab2_test_unpad",
        2,
        """
        good = b"\\x00\\x02" + b"\\x11" * 8 + b"\\x00" + b"secret"
        assert pkcs1_unpad(good) == b"secret"
        assert pkcs1_unpad(good, 6) == b"secret"
        expect_error(PaddingError, pkcs1_unpad, b"\\x00\\x01" + b"\\x11" * 8 + b"\\x00" + b"secret")
        ### BEGIN HIDDEN TESTS
        message = b"\\x03\\x03" + b"q" * 46
        assert pkcs1_unpad(pkcs1_pad(message, 256), 48) == message
        assert pkcs1_unpad(b"\\x00\\x02" + b"\\x01" * 8 + b"\\x00") == b""
        ### END HIDDEN TESTS
        """,
    ),
    tests(
        "lab2_test_no_oracle",
        2,
        """
        # Hidden tests: every malformed block must be rejected with the same PaddingError and
        # the same message, and nothing else may escape.
        ### BEGIN HIDDEN TESTS
        ps = b"\\x11" * 8
        malformed = {
            "first byte not 00": b"\\x01\\x02" + ps + b"\\x00" + b"m" * 48,
            "block type not 02": b"\\x00\\x01" + ps + b"\\x00" + b"m" * 48,
            "no zero separator": b"\\x00\\x02" + b"\\x11" * 60,
            "padding shorter than 8 bytes": b"\\x00\\x02" + b"\\x11" * 7 + b"\\x00" + b"m" * 48,
            "separator right after 02": b"\\x00\\x02\\x00" + b"m" * 48,
            "wrong message length": b"\\x00\\x02" + ps + b"\\x00" + b"m" * 47,
            "empty block": b"",
            "one byte": b"\\x00",
            "just the header": b"\\x00\\x02",
        }
        answers = set()
        for why, block in malformed.items():
            try:
                pkcs1_unpad(block, 48)
            except PaddingError as error:
                answers.add((type(error), str(error), error.args))
            except Exception as error:
                raise AssertionError(f"{why}: {type(error).__name__} escaped — that is an oracle") from None
            else:
                raise AssertionError(f"{why}: the block was accepted")
        assert len(answers) == 1, f"the rejections differ, so they tell the attacker why: {answers}"
        ### END HIDDEN TESTS
        """,
    ),
    md("""
    ## Part 3 — encrypting the premaster

    `rsa_encrypt_premaster(public_key, premaster)`: pad to `k` bytes, turn the block into a
    number, raise it to `e` mod `n`, turn it back into **exactly** `k` bytes.
    (`public_key.public_numbers()` gives `n` and `e`.)
    """),
    solution(
        "lab2_encrypt",
        '''
        def rsa_encrypt_premaster(public_key, premaster: bytes) -> bytes:
            """PKCS#1 v1.5 encryption of the premaster secret with the server's RSA key."""
            ### BEGIN SOLUTION
            numbers = public_key.public_numbers()
            k = (numbers.n.bit_length() + 7) // 8
            block = pkcs1_pad(premaster, k)
            return pow(int.from_bytes(block, "big"), numbers.e, numbers.n).to_bytes(k, "big")
            ### END SOLUTION
        ''',
    ),
    tests(
        "lab2_test_encrypt",
        1,
        """
        premaster = make_premaster(0x0303, os.urandom(46))
        encrypted = rsa_encrypt_premaster(server_key.public_key(), premaster)
        assert len(encrypted) == k
        assert server_key.decrypt(encrypted, padding.PKCS1v15()) == premaster   # cryptography agrees
        """,
    ),
    md("""
    ## Part 4 — your encryption in a real handshake

    httpslab's client now calls **your** `rsa_encrypt_premaster` in its ClientKeyExchange.
    If your block is wrong, OpenSSL does not say so (RFC 5246 §7.4.7.1: it goes on with a
    random premaster secret), so the failure shows up one step later, at the Finished message.
    """),
    tests(
        "lab2_real_handshake",
        1,
        """
        report = run_real_handshake(rsa_encrypt_premaster=rsa_encrypt_premaster)
        print(report)
        assert report.ok, "OpenSSL could not use the premaster secret your code encrypted"
        """,
    ),
]


# ===================================================================== lab 3: Diffie-Hellman
LAB3 = [
    md("""
    # Lab 3 — Finite-field Diffie–Hellman

    In a DHE suite the server sends a prime `p`, a generator `g` and its public value
    `Ys = g^xs mod p`; the client answers with `Yc = g^xc mod p`. Both compute
    `Z = Ys^xc mod p = Yc^xs mod p` — the **premaster secret** — without ever sending it.
    RFC 5246 §8.1.2: "leading bytes of Z that contain all zero bits are stripped".

    A peer's value must be checked before use (RFC 7919 §5.1): it must satisfy
    `1 < Y < p - 1`. `Y = 1` makes `Z = 1`, and `Y = p - 1` makes `Z = ±1`, whatever your
    secret exponent is — a man in the middle would know the "shared" secret.

    You write modular exponentiation (square-and-multiply, without Python's three-argument
    `pow`), the check of the peer's value, and the shared secret. The last cell runs a real
    DHE handshake (`DHE-RSA-AES128-GCM-SHA256`, the RFC 7919 group ffdhe2048) in which **your**
    function computes the premaster secret.

    {points}
    """),
    readonly(
        "lab3_setup",
        """
        import builtins

        from httpslab.errors import IllegalParameter
        from httpslab.crypto.keyexchange import FFDHE2048
        from httpslab.grading import run_real_handshake
        """,
        SETUP_HELPERS,
    ),
    md("""
    ## Worked example: a toy group

    p = 23, g = 5. Alice picks a = 6, Bob picks b = 15.
    """),
    readonly(
        "lab3_example",
        """
        p, g = 23, 5
        a, b = 6, 15
        A, B = pow(g, a, p), pow(g, b, p)
        print("A =", A, " B =", B, " shared:", pow(B, a, p), "=", pow(A, b, p))
        print("ffdhe2048: p has", FFDHE2048.p.bit_length(), "bits, g =", FFDHE2048.g)
        """,
    ),
    md("""
    ## Part 1 — square-and-multiply

    Walk through the bits of the exponent: square for every bit, multiply when the bit is 1,
    reduce mod `modulus` at every step (the numbers stay small). `mod_exp(b, 0, m)` is
    `1 % m`. Do not call three-argument `pow` — a hidden test checks.
    """),
    solution(
        "lab3_mod_exp",
        '''
        def mod_exp(base: int, exponent: int, modulus: int) -> int:
            """base^exponent mod modulus by square-and-multiply."""
            ### BEGIN SOLUTION
            result = 1 % modulus
            base %= modulus
            while exponent > 0:
                if exponent & 1:
                    result = result * base % modulus
                base = base * base % modulus
                exponent >>= 1
            return result
            ### END SOLUTION
        ''',
    ),
    tests(
        "lab3_test_mod_exp",
        3,
        """
        assert mod_exp(5, 6, 23) == 8
        assert mod_exp(19, 6, 23) == 2
        assert mod_exp(7, 0, 13) == 1
        ### BEGIN HIDDEN TESTS
        real_pow = builtins.pow

        def no_modular_pow(*args):
            if len(args) == 3:
                raise AssertionError("mod_exp must not use three-argument pow")
            return real_pow(*args)

        builtins.pow = no_modular_pow
        try:
            big = mod_exp(FFDHE2048.g, 2**255 + 12345, FFDHE2048.p)
            small = [mod_exp(b, e, m) for b, e, m in ((3, 200, 1000003), (10, 1, 7), (0, 5, 11), (4, 3, 1))]
        finally:
            builtins.pow = real_pow
        assert big == pow(FFDHE2048.g, 2**255 + 12345, FFDHE2048.p)
        assert small == [pow(3, 200, 1000003), 3, 0, 0]
        ### END HIDDEN TESTS
        """,
    ),
    md("""
    ## Part 2 — check the peer's value

    `validate_peer_public(p, peer_public)` returns nothing when `1 < peer_public < p - 1`
    and otherwise raises `IllegalParameter` (the alert illegal_parameter, RFC 5246 §7.2.2).
    """),
    solution(
        "lab3_validate",
        '''
        def validate_peer_public(p: int, peer_public: int) -> None:
            """RFC 7919 §5.1: the peer's public value must satisfy 1 < Y < p - 1."""
            ### BEGIN SOLUTION
            if not 1 < peer_public < p - 1:
                raise IllegalParameter("the peer's DH public value must satisfy 1 < Y < p-1")
            ### END SOLUTION
        ''',
    ),
    tests(
        "lab3_test_validate",
        2,
        """
        assert validate_peer_public(23, 19) is None
        expect_error(IllegalParameter, validate_peer_public, 23, 1)
        ### BEGIN HIDDEN TESTS
        for bad in (0, 1, 22, 23, 24, -5):
            expect_error(IllegalParameter, validate_peer_public, 23, bad)
        for good in (2, 21):
            validate_peer_public(23, good)
        expect_error(IllegalParameter, validate_peer_public, FFDHE2048.p, FFDHE2048.p - 1)
        validate_peer_public(FFDHE2048.p, FFDHE2048.p - 2)
        ### END HIDDEN TESTS
        """,
    ),
    md("""
    ## Part 3 — the premaster secret

    `dh_shared_secret(p, private, peer_public)`: validate the peer's value, compute
    `peer_public^private mod p` with your `mod_exp`, and return it as big-endian bytes
    **without leading zero bytes** (RFC 5246 §8.1.2).
    """),
    solution(
        "lab3_shared_secret",
        '''
        def dh_shared_secret(p: int, private: int, peer_public: int) -> bytes:
            """The DHE premaster secret Z = peer_public^private mod p, leading zeros stripped."""
            ### BEGIN SOLUTION
            validate_peer_public(p, peer_public)
            z = mod_exp(peer_public, private, p)
            return z.to_bytes((z.bit_length() + 7) // 8, "big")
            ### END SOLUTION
        ''',
    ),
    tests(
        "lab3_test_shared_secret",
        3,
        """
        assert dh_shared_secret(23, 6, 19) == b"\\x02"
        expect_error(IllegalParameter, dh_shared_secret, 23, 6, 22)
        ### BEGIN HIDDEN TESTS
        from httpslab.crypto import keyexchange

        p = FFDHE2048.p
        peer = pow(FFDHE2048.g, 0xC0FFEE, p)
        for private in range(2, 5000):   # find a Z with a leading zero byte (1 in 256)
            if pow(peer, private, p).bit_length() <= p.bit_length() - 8:
                break
        expected = keyexchange.dh_shared_secret(FFDHE2048, private, peer)
        assert len(expected) < 256
        assert dh_shared_secret(p, private, peer) == expected, "leading zero bytes must be stripped"
        assert dh_shared_secret(p, 0xABCDEF, peer) == keyexchange.dh_shared_secret(FFDHE2048, 0xABCDEF, peer)
        expect_error(IllegalParameter, dh_shared_secret, p, 0xABCDEF, 1)
        ### END HIDDEN TESTS
        """,
    ),
    md("""
    ## Part 4 — your Diffie–Hellman in a real DHE handshake

    OpenSSL's server sends ffdhe2048 and its `Ys`; httpslab's client calls **your**
    `dh_shared_secret(p, private, Ys)`; the master secret, keys and Finished messages are
    computed from your premaster secret. If your Z is wrong, OpenSSL answers with an alert.
    """),
    tests(
        "lab3_real_handshake",
        2,
        """
        report = run_real_handshake(dh_shared_secret=dh_shared_secret)
        print(report)
        assert report.ok, "OpenSSL did not accept the handshake with your DH shared secret"
        """,
    ),
]


# ==================================================================== lab 4: record encryption
LAB4 = [
    md("""
    # Lab 4 — Record encryption with AES-GCM

    After the handshake every byte travels in **records**. With an AES-GCM suite
    (RFC 5288, RFC 5246 §6.2.3.3) a record's fragment is

    ```
    explicit_nonce (8 bytes) | AES-GCM ciphertext (as long as the plaintext) | tag (16 bytes)
    ```

    - the 12-byte **nonce** is `salt + explicit_nonce`: the 4-byte salt is the `write_IV` of
      the key block, the explicit part is sent in the clear (httpslab and OpenSSL use the
      record's sequence number);
    - the **additional data** is authenticated but not encrypted:
      `seq_num (8 bytes) + type (1) + version (2) + length (2)` — the sequence number is
      never sent, yet a record replayed or moved fails its tag;
    - `length` is the length of the **plaintext**.

    You write the nonce, the additional data, seal and open. The last cell runs a real
    handshake in which **your** code encrypts the Finished message and the application data
    OpenSSL receives, and decrypts what OpenSSL sends back.

    {points}
    """),
    readonly(
        "lab4_setup",
        """
        import struct

        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        from httpslab.errors import BadRecordMac
        from httpslab.grading import run_real_handshake
        """,
        SETUP_HELPERS,
    ),
    md("""
    ## Worked example: AES-GCM with `cryptography`

    `AESGCM(key).encrypt(nonce, plaintext, additional_data)` returns ciphertext + tag;
    `decrypt` checks the tag and raises `InvalidTag` when anything was changed.
    `struct.pack(">QBHH", ...)` packs big-endian integers of 8, 1, 2 and 2 bytes.
    """),
    readonly(
        "lab4_example",
        """
        key, nonce = bytes(16), bytes(12)
        sealed = AESGCM(key).encrypt(nonce, b"attack at dawn", b"header")
        print("ciphertext:", sealed[:-16].hex(), " tag:", sealed[-16:].hex())
        print("opened:", AESGCM(key).decrypt(nonce, sealed, b"header"))
        try:
            AESGCM(key).decrypt(nonce, sealed, b"HEADER")
        except InvalidTag:
            print("a different header: InvalidTag")
        print("struct:", struct.pack(">QBHH", 1, 23, 0x0303, 5).hex())
        """,
    ),
    md("""
    ## Part 1 — nonce and additional data
    """),
    solution(
        "lab4_nonce_aad",
        '''
        def gcm_nonce(salt: bytes, explicit_nonce: bytes) -> bytes:
            """The 12-byte AES-GCM nonce of RFC 5288 §3."""
            ### BEGIN SOLUTION
            return salt + explicit_nonce
            ### END SOLUTION


        def additional_data(sequence_number: int, content_type: int, version: int, length: int) -> bytes:
            """seq_num + TLSCompressed.type + version + length (RFC 5246 §6.2.3.3), 13 bytes."""
            ### BEGIN SOLUTION
            return struct.pack(">QBHH", sequence_number, content_type, version, length)
            ### END SOLUTION
        ''',
    ),
    tests(
        "lab4_test_nonce",
        1,
        """
        assert gcm_nonce(b"SALT", bytes(8)) == b"SALT" + bytes(8)
        ### BEGIN HIDDEN TESTS
        assert gcm_nonce(b"\\x01\\x02\\x03\\x04", (7).to_bytes(8, "big")).hex() == "010203040000000000000007"
        ### END HIDDEN TESTS
        """,
    ),
    tests(
        "lab4_test_aad",
        2,
        """
        aad = additional_data(1, 23, 0x0303, 5)
        assert aad == bytes.fromhex("0000000000000001" "17" "0303" "0005")
        ### BEGIN HIDDEN TESTS
        assert additional_data(2**64 - 1, 22, 0x0303, 16384) == b"\\xff" * 8 + b"\\x16\\x03\\x03\\x40\\x00"
        assert len(additional_data(0, 21, 0x0303, 0)) == 13
        ### END HIDDEN TESTS
        """,
    ),
    md("""
    ## Part 2 — seal and open

    `record_seal(key, salt, sequence_number, content_type, version, plaintext)` returns the
    fragment `explicit_nonce + ciphertext + tag`, with the sequence number (8 bytes,
    big-endian) as the explicit nonce.

    `record_open(key, salt, sequence_number, content_type, version, fragment)` returns the
    plaintext. Anything wrong — a fragment shorter than 8 + 16 bytes, a bad tag — raises
    `BadRecordMac` (the alert bad_record_mac); nothing else may escape.
    """),
    solution(
        "lab4_seal_open",
        '''
        def record_seal(key: bytes, salt: bytes, sequence_number: int, content_type: int,
                        version: int, plaintext: bytes) -> bytes:
            """Encrypt one record's plaintext into its AES-GCM fragment (RFC 5288 §3)."""
            ### BEGIN SOLUTION
            explicit_nonce = sequence_number.to_bytes(8, "big")
            aad = additional_data(sequence_number, content_type, version, len(plaintext))
            return explicit_nonce + AESGCM(key).encrypt(gcm_nonce(salt, explicit_nonce), plaintext, aad)
            ### END SOLUTION


        def record_open(key: bytes, salt: bytes, sequence_number: int, content_type: int,
                        version: int, fragment: bytes) -> bytes:
            """Check and decrypt one AES-GCM fragment; BadRecordMac if anything is wrong."""
            ### BEGIN SOLUTION
            if len(fragment) < 8 + 16:
                raise BadRecordMac("the fragment is too short")
            aad = additional_data(sequence_number, content_type, version, len(fragment) - 24)
            try:
                return AESGCM(key).decrypt(gcm_nonce(salt, fragment[:8]), fragment[8:], aad)
            except InvalidTag:
                raise BadRecordMac("the record's tag is wrong") from None
            ### END SOLUTION
        ''',
    ),
    tests(
        "lab4_test_seal",
        2,
        """
        key, salt = bytes(range(16)), b"salt"
        fragment = record_seal(key, salt, 3, 23, 0x0303, b"GET / HTTP/1.1\\r\\n")
        assert len(fragment) == 8 + 16 + 16 and fragment[:8] == (3).to_bytes(8, "big")
        ### BEGIN HIDDEN TESTS
        from httpslab.enums import CipherSuite
        from httpslab.record import RecordProtection

        suite = CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        for seq, content_type, plaintext in ((0, 22, b"\\x14\\x00\\x00\\x0c" + bytes(12)), (5, 23, b"x" * 300)):
            reference = RecordProtection(suite, key, salt, sequence_number=seq)
            assert record_seal(key, salt, seq, content_type, 0x0303, plaintext) == reference.seal(
                content_type, 0x0303, plaintext
            ), f"record {seq} differs from httpslab's RFC 5288 record"
        ### END HIDDEN TESTS
        """,
    ),
    tests(
        "lab4_test_open",
        3,
        """
        assert record_open(key, salt, 3, 23, 0x0303, fragment) == b"GET / HTTP/1.1\\r\\n"
        tampered = fragment[:-1] + bytes([fragment[-1] ^ 1])
        expect_error(BadRecordMac, record_open, key, salt, 3, 23, 0x0303, tampered)
        ### BEGIN HIDDEN TESTS
        reference = RecordProtection(suite, key, salt, sequence_number=9)
        sealed = reference.seal(23, 0x0303, b"HTTP/1.1 200 OK\\r\\n")
        assert record_open(key, salt, 9, 23, 0x0303, sealed) == b"HTTP/1.1 200 OK\\r\\n"
        expect_error(BadRecordMac, record_open, key, salt, 10, 23, 0x0303, sealed)   # replayed later
        expect_error(BadRecordMac, record_open, key, salt, 9, 22, 0x0303, sealed)    # another type
        expect_error(BadRecordMac, record_open, key, salt, 9, 23, 0x0303, sealed[:20])  # too short
        expect_error(BadRecordMac, record_open, key, salt, 9, 23, 0x0303, b"")
        ### END HIDDEN TESTS
        """,
    ),
    md("""
    ## Part 3 — real application data through your code

    httpslab's client now seals every record it sends — its Finished message and the
    application data — with **your** `record_seal`, and opens OpenSSL's records with **your**
    `record_open`. OpenSSL decrypts the message and sends it back.
    """),
    tests(
        "lab4_real_handshake",
        2,
        """
        report = run_real_handshake(record_seal=record_seal, record_open=record_open)
        print(report)
        assert report.ok, "OpenSSL did not accept the records your code sealed"
        """,
    ),
]


# ================================================================= lab 5: certificate checks
LAB5 = [
    md("""
    # Lab 5 — Checking the server's certificate: names, addresses and dates

    A signature chain only proves that a CA vouched for *some* certificate. The client must
    also check that the certificate is **for the server it meant to reach** and that it is
    **valid now**:

    - **DNS names** (RFC 9525 §6.3): compare the host name with each `dNSName` of the
      subjectAltName, case-insensitively. A wildcard `*` is allowed only as the **whole
      left-most label** and matches **exactly one** label: `*.example.com` matches
      `www.example.com`, but not `example.com`, not `a.b.example.com`; `f*.example.com` and
      `www.*.com` match nothing, and neither does `*.com`. The subject's common name is
      **never** used.
    - **IP addresses** (RFC 9525 §6.4, RFC 5280 §4.2.1.6): when the client connected to an IP
      literal, only `iPAddress` entries count — a dNSName "127.0.0.1" does not.
    - **Validity** (RFC 5280 §4.1.2.5): `notBefore <= now <= notAfter`, both inclusive.

    You are graded against the demo scenarios of `httpslab.pki` (the same ones the notebooks
    show). The last cell serves each scenario from a real server and puts your verdict beside
    the verdict of OpenSSL's own client.

    {points}
    """),
    readonly(
        "lab5_setup",
        """
        import datetime as dt
        import ipaddress

        from cryptography import x509

        from httpslab.grading import compare_certificate_checks
        from httpslab.pki import scenario
        """,
        SETUP_HELPERS,
    ),
    md("""
    ## Worked example: what is in a certificate

    `scenario("valid")` is the demo chain reached by the name `localhost`; `.leaf` is the
    server's certificate, `.at` the moment it is checked.
    """),
    readonly(
        "lab5_example",
        """
        valid = scenario("valid")
        leaf = valid.leaf
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        print("subject:   ", leaf.subject.rfc4514_string())
        print("dNSName:   ", san.get_values_for_type(x509.DNSName))
        print("iPAddress: ", san.get_values_for_type(x509.IPAddress))
        print("valid from ", leaf.not_valid_before_utc, "to", leaf.not_valid_after_utc, "; checked at", valid.at)
        print("is 127.0.0.1 an IP literal?", ipaddress.ip_address("127.0.0.1"))
        """,
    ),
    md("""
    ## Part 1 — DNS name matching

    `dns_name_matches(pattern, host)`: `pattern` comes from a dNSName (maybe with a wildcard),
    `host` is what the client asked for. Ignore case and one trailing dot.
    """),
    solution(
        "lab5_dns",
        '''
        def dns_name_matches(pattern: str, host: str) -> bool:
            """RFC 9525 §6.3 matching of one DNS-ID against a host name."""
            ### BEGIN SOLUTION
            pattern_labels = pattern.lower().rstrip(".").split(".")
            host_labels = host.lower().rstrip(".").split(".")
            if "" in host_labels or "" in pattern_labels:
                return False
            if pattern_labels[0] == "*":
                if len(pattern_labels) < 3 or any("*" in label for label in pattern_labels[1:]):
                    return False
                return len(host_labels) == len(pattern_labels) and host_labels[1:] == pattern_labels[1:]
            if any("*" in label for label in pattern_labels):
                return False
            return pattern_labels == host_labels
            ### END SOLUTION
        ''',
    ),
    tests(
        "lab5_test_dns",
        3,
        """
        assert dns_name_matches("localhost", "localhost")
        assert dns_name_matches("www.example.com", "WWW.Example.COM")
        assert dns_name_matches("*.example.com", "www.example.com")
        assert not dns_name_matches("*.example.com", "example.com")
        ### BEGIN HIDDEN TESTS
        assert not dns_name_matches("*.example.com", "a.b.example.com"), "a wildcard matches one label"
        assert not dns_name_matches("f*.example.com", "foo.example.com"), "no partial wildcards"
        assert not dns_name_matches("www.*.com", "www.example.com"), "the wildcard must be left-most"
        assert not dns_name_matches("*.com", "example.com"), "*.com is far too wide"
        assert not dns_name_matches("*", "localhost")
        assert dns_name_matches("www.example.com.", "www.example.com")
        assert dns_name_matches("*.Example.com", "mail.example.com.")
        assert not dns_name_matches("www.example.com", "www.example.com.evil")
        assert not dns_name_matches("example.com", "www.example.com")
        ### END HIDDEN TESTS
        """,
    ),
    md("""
    ## Part 2 — the name check and the validity check

    `name_matches(certificate, server_name)`: if `server_name` is an IP literal
    (`ipaddress.ip_address` accepts it), look only at the iPAddress entries; otherwise only at
    the dNSName entries, with your `dns_name_matches`. No subjectAltName: no match.

    `is_valid_at(certificate, at)`: `not_valid_before_utc <= at <= not_valid_after_utc`.
    """),
    solution(
        "lab5_name_validity",
        '''
        def name_matches(certificate: x509.Certificate, server_name: str) -> bool:
            """Does the certificate name `server_name` (a host name or an IP literal)?"""
            ### BEGIN SOLUTION
            try:
                san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            except x509.ExtensionNotFound:
                return False
            try:
                address = ipaddress.ip_address(server_name)
            except ValueError:
                return any(dns_name_matches(pattern, server_name) for pattern in san.get_values_for_type(x509.DNSName))
            return address in san.get_values_for_type(x509.IPAddress)
            ### END SOLUTION


        def is_valid_at(certificate: x509.Certificate, at: dt.datetime) -> bool:
            """RFC 5280 §4.1.2.5: notBefore <= at <= notAfter."""
            ### BEGIN SOLUTION
            return certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc
            ### END SOLUTION
        ''',
    ),
    tests(
        "lab5_test_name",
        2,
        """
        assert name_matches(scenario("valid").leaf, "localhost")
        assert not name_matches(scenario("valid").leaf, "www.example.com")
        assert name_matches(scenario("valid").leaf, "127.0.0.1")
        ### BEGIN HIDDEN TESTS
        from httpslab.pki import DemoPKI, issue_certificate

        assert not name_matches(scenario("ip_not_in_certificate").leaf, "127.0.0.1")
        assert name_matches(scenario("valid").leaf, "::1")
        wild = DemoPKI("rsa", hostnames=("*.example.com", "10.0.0.1"), ip_addresses=())
        assert name_matches(wild.server, "www.example.com")
        assert not name_matches(wild.server, "example.com")
        assert not name_matches(wild.server, "10.0.0.1"), "a dNSName that looks like an IP does not count"
        pki = DemoPKI("rsa")
        cn_only = issue_certificate(
            subject="localhost", public_key=pki.server_key.public_key(), issuer=pki.intermediate,
            signing_key=pki.intermediate_key, not_before=pki.ca_not_before, not_after=pki.ca_not_after,
            is_ca=False,
        )
        assert not name_matches(cn_only, "localhost"), "the common name is never used"
        ### END HIDDEN TESTS
        """,
    ),
    tests(
        "lab5_test_validity",
        1,
        """
        assert is_valid_at(scenario("valid").leaf, scenario("valid").at)
        assert not is_valid_at(scenario("expired").leaf, scenario("expired").at)
        ### BEGIN HIDDEN TESTS
        assert not is_valid_at(scenario("not_yet_valid").leaf, scenario("not_yet_valid").at)
        leaf = scenario("valid").leaf
        assert is_valid_at(leaf, leaf.not_valid_after_utc) and is_valid_at(leaf, leaf.not_valid_before_utc)
        assert not is_valid_at(leaf, leaf.not_valid_after_utc + dt.timedelta(seconds=1))
        assert not is_valid_at(leaf, leaf.not_valid_before_utc - dt.timedelta(seconds=1))
        ### END HIDDEN TESTS
        """,
    ),
    md("""
    ## Part 3 — the verdict

    `check_leaf(certificate, server_name, at)` returns `None` when the certificate passes,
    else the name of the **first** failing check: `"validity"` (checked first), then `"name"`.
    These are the check names of `httpslab.pki.verify`, so each scenario's
    `expected_failure` is the right answer.
    """),
    solution(
        "lab5_check_leaf",
        '''
        def check_leaf(certificate: x509.Certificate, server_name: str, at: dt.datetime) -> str | None:
            """None if the leaf is valid at `at` and names `server_name`; else the failing check."""
            ### BEGIN SOLUTION
            if not is_valid_at(certificate, at):
                return "validity"
            if not name_matches(certificate, server_name):
                return "name"
            return None
            ### END SOLUTION
        ''',
    ),
    tests(
        "lab5_test_check_leaf",
        2,
        """
        for name in ("valid", "valid_ip", "expired", "wrong_host_name"):
            case = scenario(name)
            verdict = check_leaf(case.leaf, case.server_name or case.ip_address, case.at)
            assert verdict == case.expected_failure, f"{name}: you said {verdict!r}, expected {case.expected_failure!r}"
        ### BEGIN HIDDEN TESTS
        for key_type in ("rsa", "ecdsa"):
            for name in ("valid", "valid_ip", "expired", "not_yet_valid", "wrong_host_name", "ip_not_in_certificate"):
                case = scenario(name, key_type)
                verdict = check_leaf(case.leaf, case.server_name or case.ip_address, case.at)
                assert verdict == case.expected_failure, f"{name} ({key_type}): {verdict!r}"
        ### END HIDDEN TESTS
        """,
    ),
    md("""
    ## Part 4 — your verdict beside OpenSSL's

    For each scenario a real server (OpenSSL, through Python's `ssl`) presents the chain;
    httpslab's client receives the leaf and your `check_leaf` judges it at the real clock;
    OpenSSL's own client checks the same server with the same name. The two columns must agree.
    """),
    tests(
        "lab5_real_handshake",
        2,
        """
        comparisons = compare_certificate_checks(check_leaf)
        print(comparisons)
        assert comparisons.all_agree, "your verdict differs from OpenSSL's for some scenario"
        """,
    ),
]

LABS: dict[str, list[Cell]] = {
    "lab1_prf": LAB1,
    "lab2_rsa": LAB2,
    "lab3_dh": LAB3,
    "lab4_record": LAB4,
    "lab5_certificates": LAB5,
}


# ==================================================================================== writer
def _nbgrader_metadata(cell: Cell) -> dict[str, object] | None:
    if cell.kind in ("markdown", "code"):
        return None
    metadata: dict[str, object] = {
        "grade": cell.kind == "tests",
        "grade_id": cell.grade_id,
        "locked": cell.kind != "solution",
        "schema_version": 3,
        "solution": cell.kind == "solution",
    }
    if cell.kind == "tests":
        metadata["points"] = cell.points
    return metadata


def points_text(cells: list[Cell]) -> str:
    graded = [cell for cell in cells if cell.kind == "tests"]
    total = sum(cell.points for cell in graded)
    rows = "\n".join(f"| `{cell.grade_id}` | {cell.points} |" for cell in graded)
    return f"**Points: {total}**, one autograded cell each:\n\n| graded cell | points |\n|---|---|\n{rows}"


def build_notebook(lab: str, cells: list[Cell]) -> nbformat.NotebookNode:
    notebook = new_notebook()
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for index, cell in enumerate(cells):
        text = cell.text.replace("{points}", points_text(cells)) if index == 0 else cell.text
        if cell.kind == "markdown":
            node = new_markdown_cell(text)
        else:
            node = new_code_cell(text)
        node["id"] = cell.grade_id.replace("_", "-") if cell.grade_id else f"{lab.replace('_', '-')}-{index}"
        metadata = _nbgrader_metadata(cell)
        if metadata is not None:
            node.metadata["nbgrader"] = metadata
        notebook.cells.append(node)
    return notebook


def write_sources(root: Path = SOURCE) -> list[Path]:
    written = []
    for lab, cells in LABS.items():
        path = root / lab / f"{lab}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.validate(notebook := build_notebook(lab, cells))
        nbformat.write(notebook, path)
        written.append(path)
    return written


if __name__ == "__main__":
    if sys.argv[1:] == ["--list"]:
        print("\n".join(LABS))
    else:
        for path in write_sources():
            print("wrote", path.relative_to(HERE))
