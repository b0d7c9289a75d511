"""What each TLS 1.2 cipher suite means.

A suite name such as ``TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`` packs four choices: the key
exchange (ECDHE), the authentication of the server (RSA signatures), the record protection
(AES-128 in GCM mode) and the hash used by the PRF (SHA-256). RFC 5246 §6.1 and Appendix C
define the parameters; RFC 5288 (AES-GCM), RFC 5289 (ECDHE with SHA-2) and RFC 7905
(ChaCha20-Poly1305) add the AEAD suites; RFC 3268 and RFC 8422 §6 the DHE and ECDHE suites
with HMAC-SHA1.

The 25 suites, in :data:`SUITES` order (a server's default preference: OpenSSL 3.0's
``DEFAULT`` list keeps the same relative order of these groups):

==============================================  ==========  ===================================
suites                                          status      why
==============================================  ==========  ===================================
ECDHE / DHE with AES-GCM or ChaCha20-Poly1305   current     AEAD, forward secret
ECDHE / DHE with AES-CBC, HMAC-SHA256/384       old         MAC-then-encrypt (unless RFC 7366)
ECDHE / DHE ``..._CBC_SHA`` (6 suites)          **legacy**  HMAC-SHA1, MAC-then-encrypt
RSA key exchange with AES-GCM                   old         no forward secrecy
RSA key exchange with AES-CBC, HMAC-SHA256      old         no forward secrecy, MAC-then-encrypt
``TLS_RSA_WITH_AES_128/256_CBC_SHA``            **legacy**  all of the above
==============================================  ==========  ===================================

**Legacy** (:attr:`SuiteInfo.legacy`): the eight ``..._CBC_SHA`` suites. RFC 5246 §9 still
makes ``TLS_RSA_WITH_AES_128_CBC_SHA`` mandatory to implement and OpenSSL 3.0's default list
has all eight, so a server offers them (probing clients use them); a client offers them only
when asked (:data:`DEFAULT_CLIENT_SUITES` leaves them out). The reason is the record layer:
TLS 1.2 CBC suites MAC the plaintext, then pad and encrypt (RFC 5246 §6.2.3.2), so a receiver
must decrypt and check the padding before it can check the MAC. Any difference an attacker
can see between "bad padding" and "bad MAC" is a padding oracle that decrypts records byte by
byte (Vaudenay, EUROCRYPT 2002); TLS answers both with bad_record_mac (RFC 5246 §7.2.2), and
yet the time the MAC takes still depends on the padding length (Lucky Thirteen, AlFardan and
Paterson, 2013). Encrypt-then-MAC (RFC 7366) checks the MAC first and closes that door; the
PRF of these suites stays SHA-256 in TLS 1.2 (RFC 5246 §5), only the record MAC is HMAC-SHA1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..enums import CipherSuite
from ..errors import LocalProtocolError

__all__ = [
    "DEFAULT_CLIENT_SUITES",
    "DEFAULT_SERVER_SUITES",
    "SUITES",
    "SuiteInfo",
    "openssl_cipher_string",
    "parse_suite_name",
    "suite_info",
]

KeyExchange = Literal["RSA", "DHE", "ECDHE"]
Authentication = Literal["RSA", "ECDSA"]
BulkCipher = Literal["AES_128_GCM", "AES_256_GCM", "CHACHA20_POLY1305", "AES_128_CBC", "AES_256_CBC"]


@dataclass(frozen=True)
class SuiteInfo:
    """The parameters of one cipher suite (RFC 5246 §6.1 SecurityParameters)."""

    suite: CipherSuite
    openssl_name: str
    key_exchange: KeyExchange
    authentication: Authentication
    cipher: BulkCipher
    enc_key_length: int
    #: implicit part of the nonce taken from the key block (RFC 5288 §3: 4; RFC 7905: 12)
    fixed_iv_length: int
    #: bytes of explicit nonce / IV sent in each record (GCM: 8; ChaCha20: 0; CBC: 16)
    record_iv_length: int
    #: HMAC key and output length for CBC suites; 0 for AEAD suites
    mac_length: int
    #: hash for the HMAC of CBC suites (None for AEAD)
    mac_hash: str | None
    #: hash used by the PRF (RFC 5246 §5; RFC 5288 §3 / RFC 5289 §3 for SHA-384 suites)
    prf_hash: str

    @property
    def name(self) -> str:
        """The IANA name, e.g. ``TLS_RSA_WITH_AES_128_GCM_SHA256``."""
        return self.suite.name

    @property
    def is_aead(self) -> bool:
        return self.mac_length == 0

    @property
    def tag_length(self) -> int:
        """Authentication tag length of AEAD suites (16 for all of them), 0 for CBC."""
        return 16 if self.is_aead else 0

    @property
    def key_block_length(self) -> int:
        """Bytes of key block needed: two MAC keys, two encryption keys, two fixed IVs."""
        return 2 * (self.mac_length + self.enc_key_length + self.fixed_iv_length)

    @property
    def legacy(self) -> bool:
        """True for the HMAC-SHA1 CBC suites: offered by a server, by a client only when asked."""
        return self.mac_hash == "sha1"

    @property
    def forward_secret(self) -> bool:
        """True for (EC)DHE suites: the session keys do not depend on the server's long-term key."""
        return self.key_exchange != "RSA"


def _s(
    suite: CipherSuite, openssl_name: str, kx: KeyExchange, auth: Authentication, cipher: BulkCipher
) -> SuiteInfo:
    name = suite.name
    prf_hash = "sha384" if name.endswith("SHA384") else "sha256"
    if cipher.endswith("GCM"):
        key = 16 if cipher == "AES_128_GCM" else 32
        return SuiteInfo(suite, openssl_name, kx, auth, cipher, key, 4, 8, 0, None, prf_hash)
    if cipher == "CHACHA20_POLY1305":
        return SuiteInfo(suite, openssl_name, kx, auth, cipher, 32, 12, 0, 0, None, prf_hash)
    key = 16 if cipher == "AES_128_CBC" else 32
    mac_hash = "sha384" if name.endswith("SHA384") else "sha256" if name.endswith("SHA256") else "sha1"
    mac_length = {"sha1": 20, "sha256": 32, "sha384": 48}[mac_hash]
    # RFC 5246 §6.3: CBC suites take no IV from the key block in TLS 1.2 (explicit IVs).
    return SuiteInfo(suite, openssl_name, kx, auth, cipher, key, 0, 16, mac_length, mac_hash, prf_hash)


_C = CipherSuite
#: Every suite httpslab implements, in the order a server prefers them (and a client offers
#: the non-legacy ones): the CBC-SHA suites sit where OpenSSL 3.0's DEFAULT list has them,
#: after the SHA-2 CBC suites of their key exchange.
SUITES: dict[CipherSuite, SuiteInfo] = {
    info.suite: info
    for info in [
        _s(
            _C.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "ECDHE",
            "ECDSA",
            "AES_128_GCM",
        ),
        _s(
            _C.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            "ECDHE-RSA-AES128-GCM-SHA256",
            "ECDHE",
            "RSA",
            "AES_128_GCM",
        ),
        _s(
            _C.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            "ECDHE-ECDSA-AES256-GCM-SHA384",
            "ECDHE",
            "ECDSA",
            "AES_256_GCM",
        ),
        _s(
            _C.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            "ECDHE-RSA-AES256-GCM-SHA384",
            "ECDHE",
            "RSA",
            "AES_256_GCM",
        ),
        _s(
            _C.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            "ECDHE-ECDSA-CHACHA20-POLY1305",
            "ECDHE",
            "ECDSA",
            "CHACHA20_POLY1305",
        ),
        _s(
            _C.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            "ECDHE-RSA-CHACHA20-POLY1305",
            "ECDHE",
            "RSA",
            "CHACHA20_POLY1305",
        ),
        _s(_C.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256, "DHE-RSA-AES128-GCM-SHA256", "DHE", "RSA", "AES_128_GCM"),
        _s(_C.TLS_DHE_RSA_WITH_AES_256_GCM_SHA384, "DHE-RSA-AES256-GCM-SHA384", "DHE", "RSA", "AES_256_GCM"),
        _s(
            _C.TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            "DHE-RSA-CHACHA20-POLY1305",
            "DHE",
            "RSA",
            "CHACHA20_POLY1305",
        ),
        _s(
            _C.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
            "ECDHE-ECDSA-AES128-SHA256",
            "ECDHE",
            "ECDSA",
            "AES_128_CBC",
        ),
        _s(
            _C.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, "ECDHE-RSA-AES128-SHA256", "ECDHE", "RSA", "AES_128_CBC"
        ),
        _s(
            _C.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384, "ECDHE-RSA-AES256-SHA384", "ECDHE", "RSA", "AES_256_CBC"
        ),
        _s(_C.TLS_DHE_RSA_WITH_AES_128_CBC_SHA256, "DHE-RSA-AES128-SHA256", "DHE", "RSA", "AES_128_CBC"),
        _s(
            _C.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, "ECDHE-ECDSA-AES256-SHA", "ECDHE", "ECDSA", "AES_256_CBC"
        ),
        _s(_C.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, "ECDHE-RSA-AES256-SHA", "ECDHE", "RSA", "AES_256_CBC"),
        _s(_C.TLS_DHE_RSA_WITH_AES_256_CBC_SHA, "DHE-RSA-AES256-SHA", "DHE", "RSA", "AES_256_CBC"),
        _s(
            _C.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, "ECDHE-ECDSA-AES128-SHA", "ECDHE", "ECDSA", "AES_128_CBC"
        ),
        _s(_C.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, "ECDHE-RSA-AES128-SHA", "ECDHE", "RSA", "AES_128_CBC"),
        _s(_C.TLS_DHE_RSA_WITH_AES_128_CBC_SHA, "DHE-RSA-AES128-SHA", "DHE", "RSA", "AES_128_CBC"),
        _s(_C.TLS_RSA_WITH_AES_128_GCM_SHA256, "AES128-GCM-SHA256", "RSA", "RSA", "AES_128_GCM"),
        _s(_C.TLS_RSA_WITH_AES_256_GCM_SHA384, "AES256-GCM-SHA384", "RSA", "RSA", "AES_256_GCM"),
        _s(_C.TLS_RSA_WITH_AES_128_CBC_SHA256, "AES128-SHA256", "RSA", "RSA", "AES_128_CBC"),
        _s(_C.TLS_RSA_WITH_AES_256_CBC_SHA256, "AES256-SHA256", "RSA", "RSA", "AES_256_CBC"),
        _s(_C.TLS_RSA_WITH_AES_256_CBC_SHA, "AES256-SHA", "RSA", "RSA", "AES_256_CBC"),
        _s(_C.TLS_RSA_WITH_AES_128_CBC_SHA, "AES128-SHA", "RSA", "RSA", "AES_128_CBC"),
    ]
}
#: What a client offers unless told otherwise: every suite but the legacy HMAC-SHA1 ones.
DEFAULT_CLIENT_SUITES: tuple[CipherSuite, ...] = tuple(s for s, info in SUITES.items() if not info.legacy)
#: What a server accepts unless told otherwise, in preference order: all of them.
DEFAULT_SERVER_SUITES: tuple[CipherSuite, ...] = tuple(SUITES)

_BY_NAME: dict[str, CipherSuite] = {}
for _info in SUITES.values():
    _BY_NAME[_info.name] = _info.suite
    _BY_NAME[_info.openssl_name] = _info.suite


def suite_info(suite: CipherSuite | int) -> SuiteInfo:
    """The parameters of ``suite``; LocalProtocolError if httpslab does not implement it."""
    try:
        return SUITES[CipherSuite(suite)]
    except (ValueError, KeyError):
        raise LocalProtocolError(f"cipher suite 0x{int(suite):04x} is not one httpslab implements") from None


def parse_suite_name(name: str | CipherSuite) -> CipherSuite:
    """Accept an IANA name (``TLS_..._SHA256``), an OpenSSL name (``ECDHE-RSA-...``) or a CipherSuite."""
    if isinstance(name, CipherSuite):
        suite_info(name)
        return name
    try:
        return _BY_NAME[name.strip()]
    except KeyError:
        known = ", ".join(info.openssl_name for info in SUITES.values())
        raise LocalProtocolError(f"unknown cipher suite name {name!r}; known: {known}") from None


def openssl_cipher_string(suites: list[CipherSuite] | None = None) -> str:
    """The OpenSSL cipher string (for ``SSLContext.set_ciphers``) naming ``suites`` (default: all)."""
    chosen = suites if suites is not None else list(SUITES)
    return ":".join(suite_info(s).openssl_name for s in chosen)
