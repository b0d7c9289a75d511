"""TLS 1.2 ``digitally-signed`` values: sign, verify, choose a scheme (RFC 5246 §4.7, §7.4.1.4.1).

Signature scheme code points are those of RFC 8446 §4.2.3 (RSA-PSS with rsae keys, PKCS#1 v1.5,
ECDSA). A failed verification is :class:`~httpslab.errors.DecryptError` (decrypt_error),
translated from ``cryptography`` by :func:`~httpslab.errors.translate_crypto_errors`.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from ..enums import SignatureScheme
from ..errors import DecryptError, IllegalParameter, InternalError, translate_crypto_errors

__all__ = [
    "DEFAULT_PEER_SCHEMES",
    "SCHEMES",
    "PrivateKey",
    "choose_scheme",
    "key_kind",
    "sign",
    "verify_signature",
]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

#: scheme -> (key type, padding kind, hash); RFC 5246 §7.4.1.4.1 and RFC 8446 §4.2.3 code points
SCHEMES: dict[SignatureScheme, tuple[str, str, type[hashes.HashAlgorithm]]] = {
    SignatureScheme.RSA_PKCS1_SHA1: ("RSA", "pkcs1", hashes.SHA1),
    SignatureScheme.RSA_PKCS1_SHA256: ("RSA", "pkcs1", hashes.SHA256),
    SignatureScheme.RSA_PKCS1_SHA384: ("RSA", "pkcs1", hashes.SHA384),
    SignatureScheme.RSA_PKCS1_SHA512: ("RSA", "pkcs1", hashes.SHA512),
    SignatureScheme.RSA_PSS_RSAE_SHA256: ("RSA", "pss", hashes.SHA256),
    SignatureScheme.RSA_PSS_RSAE_SHA384: ("RSA", "pss", hashes.SHA384),
    SignatureScheme.RSA_PSS_RSAE_SHA512: ("RSA", "pss", hashes.SHA512),
    SignatureScheme.ECDSA_SHA1: ("ECDSA", "ecdsa", hashes.SHA1),
    SignatureScheme.ECDSA_SHA224: ("ECDSA", "ecdsa", hashes.SHA224),
    SignatureScheme.ECDSA_SECP256R1_SHA256: ("ECDSA", "ecdsa", hashes.SHA256),
    SignatureScheme.ECDSA_SECP384R1_SHA384: ("ECDSA", "ecdsa", hashes.SHA384),
    SignatureScheme.ECDSA_SECP521R1_SHA512: ("ECDSA", "ecdsa", hashes.SHA512),
}
#: RFC 5246 §7.4.1.4.1: without signature_algorithms, assume {sha1, rsa} / {sha1, ecdsa}
DEFAULT_PEER_SCHEMES = (SignatureScheme.RSA_PKCS1_SHA1, SignatureScheme.ECDSA_SHA1)


def key_kind(key: object) -> str | None:
    """``"RSA"``, ``"ECDSA"``, or None for any other key (public or private)."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return "ECDSA"
    return None


def _padding(kind: str, hash_type: type[hashes.HashAlgorithm]) -> padding.AsymmetricPadding:
    if kind == "pss":
        # RFC 8446 §4.2.3: "The length of the Salt MUST be equal to the length of the digest"
        return padding.PSS(mgf=padding.MGF1(hash_type()), salt_length=hash_type.digest_size)
    return padding.PKCS1v15()


def sign(private_key: PrivateKey, scheme: SignatureScheme, data: bytes) -> bytes:
    """A TLS 1.2 ``digitally-signed`` value over ``data`` with ``scheme`` (the signer hashes)."""
    key_type, kind, hash_type = SCHEMES[scheme]
    if key_kind(private_key) != key_type:
        raise InternalError(f"{scheme.name} needs an {key_type} key")
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(data, _padding(kind, hash_type), hash_type())
    return private_key.sign(data, ec.ECDSA(hash_type()))


def verify_signature(
    public_key: object, scheme: SignatureScheme | int, signature: bytes, data: bytes, what: str
) -> None:
    """Check a ``digitally-signed`` value; DecryptError (decrypt_error) if it does not verify."""
    if scheme not in SCHEMES:
        raise IllegalParameter(
            f"the {what} uses signature scheme {scheme!r}, which httpslab does not implement"
        )
    key_type, kind, hash_type = SCHEMES[SignatureScheme(scheme)]
    if key_kind(public_key) != key_type:
        raise IllegalParameter(
            f"the {what} is signed with {SignatureScheme(scheme).name}, which does not fit the certificate's key"
        )
    # RFC 5246 §7.2.2 decrypt_error: "unable to correctly verify a signature"
    failure = f"the signature on the {what} does not verify with the certificate's key"
    try:
        with translate_crypto_errors(DecryptError, failure):
            if isinstance(public_key, rsa.RSAPublicKey):
                public_key.verify(signature, data, _padding(kind, hash_type), hash_type())
            else:
                assert isinstance(public_key, ec.EllipticCurvePublicKey)
                public_key.verify(signature, data, ec.ECDSA(hash_type()))
    except ValueError as exc:  # a malformed signature value (not DER, wrong length)
        raise DecryptError(failure) from exc


def choose_scheme(
    key: PrivateKey, offered: Sequence[SignatureScheme | int], ours: Sequence[SignatureScheme]
) -> SignatureScheme | None:
    """Our first scheme that the peer offered and that fits ``key`` (RFC 5246 §7.4.1.4.1).

    For an ECDSA key a scheme whose hash fits the curve (P-256 with SHA-256, ...) comes first:
    TLS 1.2 does not tie the two together, but TLS 1.3 code points name both.
    """
    kind = key_kind(key)
    candidates = [s for s in (*ours, *DEFAULT_PEER_SCHEMES) if s in offered and SCHEMES[s][0] == kind]
    if kind == "ECDSA" and isinstance(key, ec.EllipticCurvePrivateKey):
        fitting = {256: hashes.SHA256, 384: hashes.SHA384, 521: hashes.SHA512}.get(key.curve.key_size)
        candidates.sort(key=lambda s: SCHEMES[s][2] is not fitting)
    return candidates[0] if candidates else None
