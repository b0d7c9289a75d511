"""Tests for httpslab.crypto.signatures: TLS 1.2 ``digitally-signed`` values (RFC 5246 §4.7)."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from httpslab.crypto.signatures import SCHEMES, choose_scheme, key_kind, sign, verify_signature
from httpslab.enums import SignatureScheme
from httpslab.errors import DecryptError, IllegalParameter, InternalError

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


@pytest.mark.parametrize("scheme", list(SCHEMES), ids=lambda s: s.name)
def test_sign_then_verify(scheme: SignatureScheme) -> None:
    key = RSA_KEY if SCHEMES[scheme][0] == "RSA" else EC_KEY
    signature = sign(key, scheme, b"signed content")
    verify_signature(key.public_key(), scheme, signature, b"signed content", "test")


def test_a_bad_signature_is_decrypt_error_translated_from_cryptography() -> None:
    signature = sign(RSA_KEY, SignatureScheme.RSA_PSS_RSAE_SHA256, b"content")
    with pytest.raises(DecryptError, match="does not verify") as info:
        verify_signature(
            RSA_KEY.public_key(), SignatureScheme.RSA_PSS_RSAE_SHA256, signature, b"other", "test"
        )
    assert isinstance(info.value.__cause__, InvalidSignature)


def test_a_malformed_ecdsa_signature_is_decrypt_error() -> None:
    with pytest.raises(DecryptError):
        verify_signature(EC_KEY.public_key(), SignatureScheme.ECDSA_SECP256R1_SHA256, b"\x00", b"x", "test")


def test_a_scheme_that_does_not_fit_the_key_is_illegal_parameter() -> None:
    signature = sign(EC_KEY, SignatureScheme.ECDSA_SECP256R1_SHA256, b"x")
    with pytest.raises(IllegalParameter):
        verify_signature(
            RSA_KEY.public_key(), SignatureScheme.ECDSA_SECP256R1_SHA256, signature, b"x", "test"
        )
    with pytest.raises(IllegalParameter):
        verify_signature(RSA_KEY.public_key(), 0xFEFE, signature, b"x", "test")
    with pytest.raises(InternalError):
        sign(RSA_KEY, SignatureScheme.ECDSA_SECP256R1_SHA256, b"x")


def test_choose_scheme() -> None:
    ours = (SignatureScheme.ECDSA_SECP384R1_SHA384, SignatureScheme.ECDSA_SECP256R1_SHA256)
    offered = [SignatureScheme.ECDSA_SECP256R1_SHA256, SignatureScheme.ECDSA_SECP384R1_SHA384]
    assert choose_scheme(EC_KEY, offered, ours) is SignatureScheme.ECDSA_SECP256R1_SHA256  # fits P-256
    assert choose_scheme(RSA_KEY, offered, ours) is None
    assert key_kind(RSA_KEY.public_key()) == "RSA" and key_kind(object()) is None
