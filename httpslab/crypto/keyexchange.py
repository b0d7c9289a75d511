"""TLS 1.2 key exchange: how client and server come to share a premaster secret.

Three ways, one per ``SuiteInfo.key_exchange``:

- **RSA** (RFC 5246 §7.4.7.1): the client picks a 48-byte premaster secret (its offered
  version, then 46 random bytes) and encrypts it to the server's certificate key with
  PKCS#1 v1.5 (RFC 8017 §7.2). The server decrypts it *without ever revealing whether the
  padding was right* (the Bleichenbacher countermeasure). Pure-Python teaching helpers show
  the padding and the bare ``m^e mod n`` underneath.
- **DHE** — finite-field Diffie-Hellman (RFC 5246 §8.1.2, RFC 7919 groups, the RFC 3526
  group that ``openssl s_server`` uses by default, small toy groups for teaching). The
  premaster secret is ``peer_public^private mod p`` with leading zero bytes *stripped*.
- **ECDHE** (RFC 8422 §5.10; RFC 7748): X25519, X448 and the NIST curves P-256/P-384/P-521.
  Points travel as 32/56-byte strings (X25519/X448) or uncompressed ``04 || x || y``
  (RFC 8422 §5.4.1); the premaster secret is the shared x coordinate.

Every check a peer's value must pass raises :class:`~httpslab.errors.IllegalParameter`;
``cryptography``'s ``ValueError`` for a bad point is translated here, locally.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, x448, x25519

from ..enums import NamedGroup
from ..errors import DecryptError, IllegalParameter, LocalProtocolError, PaddingError

__all__ = [
    "DH_GROUPS",
    "FFDHE2048",
    "FFDHE3072",
    "MODP2048",
    "PREMASTER_LENGTH",
    "TOY_GROUP_23",
    "TOY_GROUP_64",
    "DHGroup",
    "ECDHEPrivateKey",
    "dh_generate_private",
    "dh_group",
    "dh_public",
    "dh_shared_secret",
    "ecdhe_generate",
    "ecdhe_point_length",
    "ecdhe_public_bytes",
    "ecdhe_shared_secret",
    "group_from_params",
    "int_to_bytes",
    "make_rsa_premaster",
    "pkcs1_v15_pad",
    "pkcs1_v15_unpad",
    "rsa_decrypt_premaster",
    "rsa_encrypt_premaster",
    "rsa_textbook_decrypt",
    "rsa_textbook_encrypt",
]

#: The RSA premaster secret is 48 bytes: client_version (2) + random (46), RFC 5246 §7.4.7.1.
PREMASTER_LENGTH: Final = 48


def int_to_bytes(value: int, length: int | None = None) -> bytes:
    """Big-endian bytes of ``value``: minimal length (at least one byte) unless ``length`` is given."""
    if length is None:
        length = max(1, (value.bit_length() + 7) // 8)
    return value.to_bytes(length, "big")


def _as_bytes(value: object, what: str) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise LocalProtocolError(f"{what} must be bytes, not {type(value).__name__}")


# ============================================================================ RSA


def make_rsa_premaster(client_version: int = 0x0303, random_bytes: bytes | None = None) -> bytes:
    """The 48-byte premaster secret a client sends in an RSA key exchange (RFC 5246 §7.4.7.1).

    ``client_version`` is the version the client *offered* in its ClientHello (not the one
    negotiated); ``random_bytes`` (46 bytes) makes it reproducible for a notebook.
    """
    if not isinstance(client_version, int) or not 0 <= client_version <= 0xFFFF:
        raise LocalProtocolError(f"client_version must be a 16-bit integer, not {client_version!r}")
    if random_bytes is None:
        random_bytes = secrets.token_bytes(PREMASTER_LENGTH - 2)
    random_bytes = _as_bytes(random_bytes, "random_bytes")
    if len(random_bytes) != PREMASTER_LENGTH - 2:
        raise LocalProtocolError(f"the premaster secret takes 46 random bytes, got {len(random_bytes)}")
    return client_version.to_bytes(2, "big") + random_bytes


def _rsa_public_key(key: object) -> rsa.RSAPublicKey:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return key
    raise LocalProtocolError(f"expected an RSA key, not {type(key).__name__}")


def _modulus_length(key: rsa.RSAPublicKey) -> int:
    return (key.key_size + 7) // 8


def rsa_encrypt_premaster(public_key: rsa.RSAPublicKey, premaster: bytes) -> bytes:
    """EncryptedPreMasterSecret: PKCS#1 v1.5 encryption of the premaster (RFC 5246 §7.4.7.1).

    The result is as long as the modulus; it is sent in ClientKeyExchange behind a 2-byte length.
    """
    key = _rsa_public_key(public_key)
    premaster = _as_bytes(premaster, "premaster")
    if len(premaster) != PREMASTER_LENGTH:
        raise LocalProtocolError(f"an RSA premaster secret is 48 bytes, got {len(premaster)}")
    if _modulus_length(key) < PREMASTER_LENGTH + 11:
        raise LocalProtocolError(f"a {key.key_size}-bit RSA key is too small to carry a premaster secret")
    return key.encrypt(premaster, padding.PKCS1v15())


def rsa_decrypt_premaster(private_key: rsa.RSAPrivateKey, encrypted: bytes, client_version: int) -> bytes:
    """The server side of the RSA key exchange, with the RFC 5246 §7.4.7.1 countermeasure.

    1. generate a random 48-byte string R *first*;
    2. decrypt; if the padding is wrong, or the result is not 48 bytes, or its first two bytes
       are not ``client_version`` (the version in the ClientHello), use R instead.

    It never raises and returns the same kind of value either way, so an attacker who sends
    forged ciphertexts learns nothing until the Finished message fails — which it then does
    for every forgery alike. (The OpenSSL inside ``cryptography`` may already answer bad
    padding with synthetic random bytes — "implicit rejection" — instead of an error; both
    behaviours end in R here.)
    """
    fallback = secrets.token_bytes(PREMASTER_LENGTH)
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise LocalProtocolError(f"expected an RSA private key, not {type(private_key).__name__}")
    if not isinstance(client_version, int) or not 0 <= client_version <= 0xFFFF:
        raise LocalProtocolError(f"client_version must be a 16-bit integer, not {client_version!r}")
    try:
        decrypted = private_key.decrypt(bytes(encrypted), padding.PKCS1v15())
    except (ValueError, TypeError):
        decrypted = b""
    # Build both candidates and pick one without branching on *which* check failed.
    good_length = len(decrypted) == PREMASTER_LENGTH
    candidate = decrypted if good_length else fallback
    good_version = hmac.compare_digest(candidate[:2], client_version.to_bytes(2, "big"))
    return candidate if (good_length and good_version) else fallback


# ---------------------------------------------------------------------------- teaching helpers


def pkcs1_v15_pad(message: bytes, modulus_length: int, random_bytes: bytes | None = None) -> bytes:
    """The PKCS#1 v1.5 encryption block ``00 02 PS 00 M`` (RFC 8017 §7.2.1).

    PS is ``modulus_length - 3 - len(message)`` (at least 8) *nonzero* random bytes; pass them
    as ``random_bytes`` to make the block reproducible.
    """
    message = _as_bytes(message, "message")
    ps_length = modulus_length - 3 - len(message)
    if ps_length < 8:
        raise LocalProtocolError(
            f"a {len(message)}-byte message does not fit a {modulus_length}-byte modulus "
            "with PKCS#1 v1.5 padding (at most modulus length - 11 bytes)"
        )
    if random_bytes is None:
        padding_string = bytes(1 + secrets.randbelow(255) for _ in range(ps_length))
    else:
        padding_string = _as_bytes(random_bytes, "random_bytes")
        if len(padding_string) != ps_length or 0 in padding_string:
            raise LocalProtocolError(f"the padding string must be {ps_length} nonzero bytes")
    return b"\x00\x02" + padding_string + b"\x00" + message


def pkcs1_v15_unpad(block: bytes, expected_length: int | None = None) -> bytes:
    """Check and strip PKCS#1 v1.5 encryption padding (RFC 8017 §7.2.2 step 3).

    Raises :class:`PaddingError` — the same error, with the same message, whatever was wrong:
    telling the reasons apart is exactly what Bleichenbacher's attack feeds on.
    """
    block = _as_bytes(block, "block")
    separator = block.find(b"\x00", 2)
    valid = (
        len(block) >= 11
        and block[0] == 0x00
        and block[1] == 0x02
        and separator >= 10  # at least 8 bytes of PS
        and (expected_length is None or len(block) - separator - 1 == expected_length)
    )
    if not valid:
        raise PaddingError()
    return block[separator + 1 :]


def rsa_textbook_encrypt(public_key: rsa.RSAPublicKey, block: bytes) -> bytes:
    """Bare RSA: ``block^e mod n``, as many bytes as the modulus. No padding — never use alone."""
    key = _rsa_public_key(public_key)
    numbers = key.public_numbers()
    k = _modulus_length(key)
    block = _as_bytes(block, "block")
    m = int.from_bytes(block, "big")
    if len(block) > k or m >= numbers.n:
        raise LocalProtocolError("the block must be a number smaller than the modulus")
    return int_to_bytes(pow(m, numbers.e, numbers.n), k)


def rsa_textbook_decrypt(private_key: rsa.RSAPrivateKey, ciphertext: bytes) -> bytes:
    """Bare RSA: ``ciphertext^d mod n``, as many bytes as the modulus (leading 00 kept)."""
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise LocalProtocolError(f"expected an RSA private key, not {type(private_key).__name__}")
    numbers = private_key.private_numbers()
    n = numbers.public_numbers.n
    k = _modulus_length(private_key.public_key())
    ciphertext = _as_bytes(ciphertext, "ciphertext")
    c = int.from_bytes(ciphertext, "big")
    if len(ciphertext) != k or c >= n:
        raise DecryptError("an RSA ciphertext must be as long as the modulus and smaller than it")
    return int_to_bytes(pow(c, numbers.d, n), k)


# ============================================================================ finite-field DH


@dataclass(frozen=True)
class DHGroup:
    """A finite-field Diffie-Hellman group: prime ``p``, generator ``g``.

    ``q`` is the prime order of the subgroup ``g`` generates, when known (``(p-1)/2`` for the
    safe-prime groups). ``toy`` marks teaching groups that are far too small to be secure.
    ``exponent_bits``, when set, is the length of the short private exponents
    :func:`dh_generate_private` draws (RFC 7919 §5.2); None means the full range below q.
    """

    name: str
    p: int
    g: int
    q: int | None = None
    toy: bool = False
    exponent_bits: int | None = None

    @property
    def bits(self) -> int:
        return self.p.bit_length()

    @property
    def byte_length(self) -> int:
        return (self.p.bit_length() + 7) // 8

    def __repr__(self) -> str:
        label = " TOY" if self.toy else ""
        return f"DHGroup({self.name!r}, {self.bits}-bit{label}, g={self.g})"


def _safe_prime_group(name: str, p_hex: str, g: int, exponent_bits: int) -> DHGroup:
    """A group whose p is a safe prime, from p as the RFC prints it (hex in 32-bit words)."""
    p = int("".join(p_hex.split()), 16)
    return DHGroup(name, p, g, (p - 1) // 2, exponent_bits=exponent_bits)


#: RFC 7919 Appendix A.1: p = 2^2048 - 2^1984 + {[2^1918 * e] + 560316} * 2^64 - 1, g = 2.
FFDHE2048: Final = _safe_prime_group(
    "ffdhe2048",
    """
        FFFFFFFF FFFFFFFF ADF85458 A2BB4A9A AFDC5620 273D3CF1
        D8B9C583 CE2D3695 A9E13641 146433FB CC939DCE 249B3EF9
        7D2FE363 630C75D8 F681B202 AEC4617A D3DF1ED5 D5FD6561
        2433F51F 5F066ED0 85636555 3DED1AF3 B557135E 7F57C935
        984F0C70 E0E68B77 E2A689DA F3EFE872 1DF158A1 36ADE735
        30ACCA4F 483A797A BC0AB182 B324FB61 D108A94B B2C8E3FB
        B96ADAB7 60D7F468 1D4F42A3 DE394DF4 AE56EDE7 6372BB19
        0B07A7C8 EE0A6D70 9E02FCE1 CDF7E2EC C03404CD 28342F61
        9172FE9C E98583FF 8E4F1232 EEF28183 C3FE3B1B 4C6FAD73
        3BB5FCBC 2EC22005 C58EF183 7D1683B2 C6F34A26 C1B2EFFA
        886B4238 61285C97 FFFFFFFF FFFFFFFF
    """,
    2,
    225,  # RFC 7919 Appendix A.1: short exponents of at least 225 bits
)

#: RFC 7919 Appendix A.2: p = 2^3072 - 2^3008 + {[2^2942 * e] + 2625351} * 2^64 - 1, g = 2.
FFDHE3072: Final = _safe_prime_group(
    "ffdhe3072",
    """
        FFFFFFFF FFFFFFFF ADF85458 A2BB4A9A AFDC5620 273D3CF1
        D8B9C583 CE2D3695 A9E13641 146433FB CC939DCE 249B3EF9
        7D2FE363 630C75D8 F681B202 AEC4617A D3DF1ED5 D5FD6561
        2433F51F 5F066ED0 85636555 3DED1AF3 B557135E 7F57C935
        984F0C70 E0E68B77 E2A689DA F3EFE872 1DF158A1 36ADE735
        30ACCA4F 483A797A BC0AB182 B324FB61 D108A94B B2C8E3FB
        B96ADAB7 60D7F468 1D4F42A3 DE394DF4 AE56EDE7 6372BB19
        0B07A7C8 EE0A6D70 9E02FCE1 CDF7E2EC C03404CD 28342F61
        9172FE9C E98583FF 8E4F1232 EEF28183 C3FE3B1B 4C6FAD73
        3BB5FCBC 2EC22005 C58EF183 7D1683B2 C6F34A26 C1B2EFFA
        886B4238 611FCFDC DE355B3B 6519035B BC34F4DE F99C0238
        61B46FC9 D6E6C907 7AD91D26 91F7F7EE 598CB0FA C186D91C
        AEFE1309 85139270 B4130C93 BC437944 F4FD4452 E2D74DD3
        64F2E21E 71F54BFF 5CAE82AB 9C9DF69E E86D2BC5 22363A0D
        ABC52197 9B0DEADA 1DBF9A42 D5C4484E 0ABCD06B FA53DDEF
        3C1B20EE 3FD59D7C 25E41D2B 66C62E37 FFFFFFFF FFFFFFFF
    """,
    2,
    275,  # RFC 7919 Appendix A.2: short exponents of at least 275 bits
)

#: RFC 3526 §3, the 2048-bit MODP group (IKE group 14):
#: p = 2^2048 - 2^1984 - 1 + 2^64 * {[2^1918 pi] + 124476}, g = 2.
#: OpenSSL 3's ``s_server`` sends this group in ServerKeyExchange unless told otherwise.
MODP2048: Final = _safe_prime_group(
    "modp2048",
    """
        FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1
        29024E08 8A67CC74 020BBEA6 3B139B22 514A0879 8E3404DD
        EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245
        E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED
        EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D
        C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F
        83655D23 DCA3AD96 1C62F356 208552BB 9ED52907 7096966D
        670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B
        E39E772C 180E8603 9B2783A2 EC07A28F B5C55DF0 6F4C52C9
        DE2BCBF6 95581718 3995497C EA956AE5 15D22618 98FA0510
        15728E5A 8AACAA68 FFFFFFFF FFFFFFFF
    """,
    2,
    225,  # as ffdhe2048 (same size; 2 x 112-bit strength, as OpenSSL)
)

#: TOY group (insecure, for teaching only): the textbook example p = 23, g = 5
#: (5 generates all 22 nonzero residues). Alice a=6 → A=8, Bob b=15 → B=19, secret 2.
TOY_GROUP_23: Final = DHGroup("toy23", 23, 5, None, toy=True)

#: TOY group (insecure, for teaching only): the largest safe prime below 2^64 with
#: p ≡ 7 (mod 8), so that g = 2 generates the subgroup of prime order q = (p-1)/2.
#: Small enough that a learner can watch a discrete logarithm being found.
TOY_GROUP_64: Final = DHGroup("toy64", 0xFFFFFFFFFFFFDED7, 2, 0x7FFFFFFFFFFFEF6B, toy=True)

#: Every named group, by name.
DH_GROUPS: Final[dict[str, DHGroup]] = {
    group.name: group for group in (FFDHE2048, FFDHE3072, MODP2048, TOY_GROUP_23, TOY_GROUP_64)
}

#: RFC 7919 groups by their NamedGroup code point.
_FFDHE_BY_NAMED_GROUP: Final[dict[NamedGroup, DHGroup]] = {
    NamedGroup.FFDHE2048: FFDHE2048,
    NamedGroup.FFDHE3072: FFDHE3072,
}

#: OpenSSL refuses moduli above this size (OPENSSL_DH_MAX_MODULUS_BITS); so do we.
_MAX_DH_BITS: Final = 10_000
_MIN_DH_BITS: Final = 512


def group_from_params(p: int, g: int, *, toy: bool = False) -> DHGroup:
    """The DH group for the (dh_p, dh_g) a server sent in ServerKeyExchange (RFC 5246 §7.4.3).

    A known group is recognised by value and returned under its name. Otherwise the values
    are checked: p odd, at least 512 bits (unless ``toy``), at most 10000 bits, 1 < g < p-1.
    """
    if not isinstance(p, int) or not isinstance(g, int):
        raise LocalProtocolError("p and g must be integers")
    for group in DH_GROUPS.values():
        if group.p == p and group.g == g:
            return group
    if p < 5 or p % 2 == 0:
        raise IllegalParameter("the DH prime p must be odd (and at least 5)")
    if p.bit_length() > _MAX_DH_BITS:
        raise IllegalParameter(f"a {p.bit_length()}-bit DH prime is larger than {_MAX_DH_BITS} bits")
    if not toy and p.bit_length() < _MIN_DH_BITS:
        raise IllegalParameter(
            f"a {p.bit_length()}-bit DH prime is too small (at least {_MIN_DH_BITS} bits; toy=True for teaching)"
        )
    if not 1 < g < p - 1:
        raise IllegalParameter("the DH generator must satisfy 1 < g < p-1")
    return DHGroup(f"server-chosen-{p.bit_length()}", p, g, None, toy=toy)


def dh_group(named_group: NamedGroup | int) -> DHGroup:
    """The RFC 7919 group for a NamedGroup code point (ffdhe2048, ffdhe3072)."""
    try:
        return _FFDHE_BY_NAMED_GROUP[NamedGroup(named_group)]
    except (ValueError, KeyError):
        raise LocalProtocolError(f"no finite-field group for named group {named_group!r}") from None


def dh_generate_private(group: DHGroup, random_bytes: bytes | None = None) -> int:
    """A private exponent x with 2 <= x < q (or p-1 when q is unknown).

    For the named safe-prime groups (``group.exponent_bits`` set) x is a *short* exponent
    with 2^(n-1) <= x < 2^n, n = ``exponent_bits`` (225 for ffdhe2048). RFC 7919 §5.2:
    "Peers concerned with performance may also prefer to choose their secret exponent from
    a smaller range, doing fewer multiplications, while retaining the same level of overall
    security." and "each peer can choose to do 2*2*225 multiplications by choosing their
    secret exponent such that 2^224 < x < 2^225". OpenSSL 3 does the same for named groups
    (2 x the security strength). This makes each ``pow`` about 9 times cheaper than with a
    2048-bit exponent. Groups of unknown structure (q unknown) and the toy groups keep the
    full range: a short exponent is only safe when the subgroup order is a large prime.

    ``random_bytes`` (any length) is read as a big-endian number and folded into that range,
    which makes a notebook reproducible; without it the exponent comes from ``secrets``.
    """
    if not isinstance(group, DHGroup):
        raise LocalProtocolError(f"expected a DHGroup, not {type(group).__name__}")
    if random_bytes is not None:
        seed = _as_bytes(random_bytes, "random_bytes")
        if not seed:
            raise LocalProtocolError("random_bytes must not be empty")
    bits = group.exponent_bits
    if bits is not None and group.q is not None and not group.toy and bits < group.q.bit_length():
        top = 1 << (bits - 1)
        if random_bytes is None:
            return top + secrets.randbits(bits - 1)
        return top + int.from_bytes(seed, "big") % top
    limit = group.q if group.q is not None else group.p - 1
    if random_bytes is None:
        return 2 + secrets.randbelow(limit - 2)
    return 2 + int.from_bytes(seed, "big") % (limit - 2)


def dh_public(group: DHGroup, private: int) -> int:
    """``g^private mod p``: the value sent as dh_Ys (server) or dh_Yc (client)."""
    _check_private(group, private)
    return pow(group.g, private, group.p)


def _check_private(group: DHGroup, private: int) -> None:
    if not isinstance(group, DHGroup):
        raise LocalProtocolError(f"expected a DHGroup, not {type(group).__name__}")
    if not isinstance(private, int) or not 1 < private < group.p - 1:
        raise LocalProtocolError("a DH private exponent must satisfy 1 < x < p-1")


def dh_shared_secret(
    group: DHGroup, private: int, peer_public: int, *, check_subgroup: bool = False
) -> bytes:
    """The DHE premaster secret: ``peer_public^private mod p`` as big-endian bytes.

    RFC 5246 §8.1.2: "Leading bytes of Z that contain all zero bits are stripped before it
    is used as the pre_master_secret." (TLS 1.3 does the opposite and pads to len(p).)

    ``peer_public`` must satisfy 1 < Y < p-1 (RFC 7919 §5.1), else IllegalParameter: 0 and
    1 and p-1 would force the secret to a value anyone can guess. With ``check_subgroup``
    and a known q, ``Y^q mod p == 1`` is also required.

    Python's ``pow`` takes ~30 ms for a 2048-bit exponent here, ~3.5 ms for the 225-bit
    short exponents :func:`dh_generate_private` draws for the named groups (RFC 7919 §5.2);
    ``cryptography``'s DH cannot be seeded with our own exponent (reproducible notebooks),
    so ``pow`` is used and the tests compare it with ``cryptography``'s result.
    """
    _check_private(group, private)
    if not isinstance(peer_public, int) or isinstance(peer_public, bool):
        raise LocalProtocolError("the peer's DH public value must be an integer")
    if not 1 < peer_public < group.p - 1:
        raise IllegalParameter("the peer's DH public value must satisfy 1 < Y < p-1")
    if check_subgroup and group.q is not None and pow(peer_public, group.q, group.p) != 1:
        raise IllegalParameter("the peer's DH public value is not in the subgroup of order q")
    shared = pow(peer_public, private, group.p)
    return int_to_bytes(shared)  # minimal length: leading zero bytes stripped


# ============================================================================ ECDHE

ECDHEPrivateKey = x25519.X25519PrivateKey | x448.X448PrivateKey | ec.EllipticCurvePrivateKey

_NIST_CURVES: Final[dict[NamedGroup, type[ec.EllipticCurve]]] = {
    NamedGroup.SECP256R1: ec.SECP256R1,
    NamedGroup.SECP384R1: ec.SECP384R1,
    NamedGroup.SECP521R1: ec.SECP521R1,
}
#: Length of one field element (coordinate or private scalar) of each curve.
_COORDINATE_LENGTH: Final[dict[NamedGroup, int]] = {
    NamedGroup.SECP256R1: 32,
    NamedGroup.SECP384R1: 48,
    NamedGroup.SECP521R1: 66,
    NamedGroup.X25519: 32,
    NamedGroup.X448: 56,
}
#: Order n of the base point of each NIST curve (FIPS 186-4 D.1.2), for private scalars.
_CURVE_ORDER: Final[dict[NamedGroup, int]] = {
    NamedGroup.SECP256R1: 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    NamedGroup.SECP384R1: int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
    NamedGroup.SECP521R1: int(
        "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "A51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
        16,
    ),
}


def _ec_group(group: NamedGroup | int) -> NamedGroup:
    try:
        named = NamedGroup(group)
    except ValueError:
        raise LocalProtocolError(f"unknown named group {group!r}") from None
    if named not in _COORDINATE_LENGTH:
        raise LocalProtocolError(f"{named.name} is not an elliptic-curve group httpslab implements")
    return named


def ecdhe_point_length(group: NamedGroup | int) -> int:
    """Bytes of a public value on the wire: 32 (X25519), 56 (X448), 1 + 2 * coordinate (NIST)."""
    named = _ec_group(group)
    size = _COORDINATE_LENGTH[named]
    return 1 + 2 * size if named in _NIST_CURVES else size


def ecdhe_generate(group: NamedGroup | int, random_bytes: bytes | None = None) -> ECDHEPrivateKey:
    """An ephemeral private key for ``group``.

    ``random_bytes`` makes it reproducible: for X25519/X448 they *are* the private key
    (32/56 bytes; clamping happens inside X25519, RFC 7748 §5); for a NIST curve they are the
    big-endian scalar d, which must satisfy 1 <= d < n.
    """
    named = _ec_group(group)
    if random_bytes is not None:
        random_bytes = _as_bytes(random_bytes, "random_bytes")
        size = _COORDINATE_LENGTH[named]
        if len(random_bytes) != size:
            raise LocalProtocolError(f"a {named.name} private key is {size} bytes, got {len(random_bytes)}")
    if named == NamedGroup.X25519:
        if random_bytes is None:
            return x25519.X25519PrivateKey.generate()
        return x25519.X25519PrivateKey.from_private_bytes(random_bytes)
    if named == NamedGroup.X448:
        if random_bytes is None:
            return x448.X448PrivateKey.generate()
        return x448.X448PrivateKey.from_private_bytes(random_bytes)
    curve = _NIST_CURVES[named]()
    if random_bytes is None:
        return ec.generate_private_key(curve)
    scalar = int.from_bytes(random_bytes, "big")
    if not 1 <= scalar < _CURVE_ORDER[named]:
        raise LocalProtocolError(f"a {named.name} private scalar must satisfy 1 <= d < n")
    return ec.derive_private_key(scalar, curve)


def _group_of(private: object) -> NamedGroup:
    if isinstance(private, x25519.X25519PrivateKey):
        return NamedGroup.X25519
    if isinstance(private, x448.X448PrivateKey):
        return NamedGroup.X448
    if isinstance(private, ec.EllipticCurvePrivateKey):
        for named, curve in _NIST_CURVES.items():
            if isinstance(private.curve, curve):
                return named
    raise LocalProtocolError(f"not an ECDHE private key httpslab knows: {type(private).__name__}")


def ecdhe_public_bytes(private: ECDHEPrivateKey) -> bytes:
    """The public value as it goes on the wire (ServerECDHParams.public / ClientECDiffieHellmanPublic).

    X25519: 32 bytes; X448: 56 bytes; NIST curves: uncompressed ``04 || x || y`` (RFC 8422 §5.4.1).
    """
    named = _group_of(private)
    if named in (NamedGroup.X25519, NamedGroup.X448):
        return private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def ecdhe_shared_secret(group: NamedGroup | int, private: ECDHEPrivateKey, peer_point: bytes) -> bytes:
    """The ECDHE premaster secret (RFC 8422 §5.10): the shared point's x coordinate.

    ``peer_point`` is checked and anything wrong raises IllegalParameter: a wrong length, a
    compressed point or the point at infinity (RFC 8422 §5.4.1 allows only uncompressed),
    a point that is not on the curve, or an X25519/X448 result of all zeros (a small-order
    point, RFC 7748 §6.1).
    """
    named = _ec_group(group)
    if _group_of(private) != named:
        raise LocalProtocolError(f"the private key is not a {named.name} key")
    peer_point = _as_bytes(peer_point, "peer_point")
    expected = ecdhe_point_length(named)
    if len(peer_point) != expected:
        raise IllegalParameter(f"a {named.name} public value is {expected} bytes, got {len(peer_point)}")
    if named in (NamedGroup.X25519, NamedGroup.X448):
        try:
            if named == NamedGroup.X25519:
                shared = private.exchange(x25519.X25519PublicKey.from_public_bytes(peer_point))
            else:
                shared = private.exchange(x448.X448PublicKey.from_public_bytes(peer_point))
        except ValueError:
            # cryptography refuses the all-zero result itself; same verdict as our check below
            raise IllegalParameter(f"the peer's {named.name} value is a small-order point") from None
        if not any(shared):
            raise IllegalParameter(f"the peer's {named.name} value is a small-order point")
        return shared
    if peer_point[0] != 0x04:
        raise IllegalParameter("only uncompressed EC points (first byte 04) are allowed (RFC 8422 §5.4.1)")
    try:
        peer_key = ec.EllipticCurvePublicKey.from_encoded_point(_NIST_CURVES[named](), peer_point)
    except ValueError:
        raise IllegalParameter(f"the peer's point is not on {named.name}") from None
    try:
        return private.exchange(ec.ECDH(), peer_key)
    except ValueError:
        raise IllegalParameter(f"the peer's {named.name} point was refused") from None
