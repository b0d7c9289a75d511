"""The cipher suite table agrees with the RFCs and with OpenSSL's own idea of each suite."""

from __future__ import annotations

import ssl

import pytest

from httpslab.crypto.suites import SUITES, openssl_cipher_string, parse_suite_name, suite_info
from httpslab.enums import CipherSuite
from httpslab.errors import LocalProtocolError

# The suites the foundation issue names explicitly.
REQUIRED = [
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
]


@pytest.mark.parametrize("name", REQUIRED)
def test_required_suites_are_implemented(name: str) -> None:
    assert CipherSuite[name] in SUITES


def _openssl_view() -> dict[int, dict[str, object]]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.set_ciphers(openssl_cipher_string())
    return {c["id"] & 0xFFFF: c for c in ctx.get_ciphers()}


@pytest.mark.parametrize("suite", list(SUITES), ids=lambda s: s.name)
def test_table_matches_openssl(suite: CipherSuite) -> None:
    """OpenSSL knows each suite under the same code point, name and key exchange."""
    info = suite_info(suite)
    view = _openssl_view()
    assert int(suite) in view, f"OpenSSL does not offer {info.openssl_name}"
    entry = view[int(suite)]
    assert entry["name"] == info.openssl_name
    # OpenSSL names the oldest version a suite works in: the CBC-SHA suites predate TLS 1.2
    oldest = ("SSLv3" if info.key_exchange != "ECDHE" else "TLSv1.0") if info.legacy else "TLSv1.2"
    assert entry["protocol"] == oldest
    assert entry["digest"] == info.mac_hash
    assert entry["aead"] is info.is_aead
    kx = {"RSA": "kx-rsa", "DHE": "kx-dhe", "ECDHE": "kx-ecdhe"}[info.key_exchange]
    assert entry["kea"] == kx
    assert entry["auth"] == {"RSA": "auth-rsa", "ECDSA": "auth-ecdsa"}[info.authentication]
    assert entry["strength_bits"] == 8 * info.enc_key_length


@pytest.mark.parametrize("suite", list(SUITES), ids=lambda s: s.name)
def test_key_block_layout(suite: CipherSuite) -> None:
    info = suite_info(suite)
    if info.cipher.endswith("GCM"):
        # RFC 5288 §3: 4-byte salt from the key block, 8-byte explicit nonce per record
        assert (info.fixed_iv_length, info.record_iv_length, info.mac_length) == (4, 8, 0)
    elif info.cipher == "CHACHA20_POLY1305":
        # RFC 7905 §2: 12-byte IV from the key block, nothing explicit
        assert (info.fixed_iv_length, info.record_iv_length, info.enc_key_length) == (12, 0, 32)
    else:
        # RFC 5246 §6.3: CBC takes MAC keys and keys, no IV, from the key block
        assert info.fixed_iv_length == 0 and info.record_iv_length == 16
        assert info.mac_length == {"sha1": 20, "sha256": 32, "sha384": 48}[info.mac_hash or ""]
    assert info.key_block_length == 2 * (info.mac_length + info.enc_key_length + info.fixed_iv_length)
    assert info.prf_hash == ("sha384" if info.name.endswith("SHA384") else "sha256")


def test_names_parse_in_both_spellings() -> None:
    suite = CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    assert parse_suite_name("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") is suite
    assert parse_suite_name("ECDHE-RSA-AES128-GCM-SHA256") is suite
    assert parse_suite_name(suite) is suite


def test_unknown_names_and_codes_are_clear_errors() -> None:
    with pytest.raises(LocalProtocolError, match="unknown cipher suite name"):
        parse_suite_name("RC4-MD5")
    with pytest.raises(LocalProtocolError, match="0x1301"):
        suite_info(0x1301)
    with pytest.raises(LocalProtocolError, match="0xfefe"):
        suite_info(0xFEFE)
