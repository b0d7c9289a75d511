"""TLS registries as IntEnums, one per IANA registry.

Values come from the IANA "Transport Layer Security (TLS) Parameters" registries and the
RFCs that define them (RFC 5246 for TLS 1.2, RFC 8446 for TLS 1.3, RFC 8422 for ECC,
RFC 7919 for FFDHE groups, RFC 7627 for extended master secret, RFC 7366 for
encrypt-then-MAC, RFC 5746 for renegotiation_info).
"""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "AlertDescription",
    "AlertLevel",
    "CertificateType",
    "CipherSuite",
    "ClientCertificateType",
    "CompressionMethod",
    "ContentType",
    "ECCurveType",
    "ECPointFormat",
    "ExtensionType",
    "HandshakeType",
    "NameType",
    "NamedGroup",
    "ProtocolVersion",
    "SignatureScheme",
]


class ProtocolVersion(IntEnum):
    """ProtocolVersion, RFC 5246 §6.2.1 and RFC 8446 §4.2.1 ({major, minor} as a uint16)."""

    SSL3 = 0x0300
    TLS1_0 = 0x0301
    TLS1_1 = 0x0302
    TLS1_2 = 0x0303
    TLS1_3 = 0x0304


class ContentType(IntEnum):
    """ContentType of a record, RFC 5246 §6.2.1 (and RFC 6520 heartbeat)."""

    CHANGE_CIPHER_SPEC = 20
    ALERT = 21
    HANDSHAKE = 22
    APPLICATION_DATA = 23
    HEARTBEAT = 24


class HandshakeType(IntEnum):
    """HandshakeType, RFC 5246 §7.4 and RFC 8446 §4 (IANA TLS HandshakeType registry)."""

    HELLO_REQUEST = 0
    CLIENT_HELLO = 1
    SERVER_HELLO = 2
    HELLO_VERIFY_REQUEST = 3
    NEW_SESSION_TICKET = 4
    END_OF_EARLY_DATA = 5
    ENCRYPTED_EXTENSIONS = 8
    CERTIFICATE = 11
    SERVER_KEY_EXCHANGE = 12
    CERTIFICATE_REQUEST = 13
    SERVER_HELLO_DONE = 14
    CERTIFICATE_VERIFY = 15
    CLIENT_KEY_EXCHANGE = 16
    FINISHED = 20
    CERTIFICATE_STATUS = 22
    KEY_UPDATE = 24
    MESSAGE_HASH = 254


class AlertLevel(IntEnum):
    """AlertLevel, RFC 5246 §7.2."""

    WARNING = 1
    FATAL = 2


class AlertDescription(IntEnum):
    """AlertDescription, RFC 5246 §7.2 and RFC 8446 §6 (IANA TLS Alerts registry)."""

    CLOSE_NOTIFY = 0
    UNEXPECTED_MESSAGE = 10
    BAD_RECORD_MAC = 20
    DECRYPTION_FAILED = 21
    RECORD_OVERFLOW = 22
    DECOMPRESSION_FAILURE = 30
    HANDSHAKE_FAILURE = 40
    NO_CERTIFICATE = 41
    BAD_CERTIFICATE = 42
    UNSUPPORTED_CERTIFICATE = 43
    CERTIFICATE_REVOKED = 44
    CERTIFICATE_EXPIRED = 45
    CERTIFICATE_UNKNOWN = 46
    ILLEGAL_PARAMETER = 47
    UNKNOWN_CA = 48
    ACCESS_DENIED = 49
    DECODE_ERROR = 50
    DECRYPT_ERROR = 51
    EXPORT_RESTRICTION = 60
    PROTOCOL_VERSION = 70
    INSUFFICIENT_SECURITY = 71
    INTERNAL_ERROR = 80
    INAPPROPRIATE_FALLBACK = 86
    USER_CANCELED = 90
    NO_RENEGOTIATION = 100
    MISSING_EXTENSION = 109
    UNSUPPORTED_EXTENSION = 110
    CERTIFICATE_UNOBTAINABLE = 111
    UNRECOGNIZED_NAME = 112
    BAD_CERTIFICATE_STATUS_RESPONSE = 113
    BAD_CERTIFICATE_HASH_VALUE = 114
    UNKNOWN_PSK_IDENTITY = 115
    CERTIFICATE_REQUIRED = 116
    NO_APPLICATION_PROTOCOL = 120


class CompressionMethod(IntEnum):
    """CompressionMethod, RFC 5246 §7.4.1.2 (only null is ever used)."""

    NULL = 0
    DEFLATE = 1


class CipherSuite(IntEnum):
    """Cipher suite code points (IANA TLS Cipher Suites registry).

    TLS 1.2 suites from RFC 5246 (and RFC 3268 for DHE with AES), RFC 8422 §6 (ECDHE with
    HMAC-SHA1), RFC 5288 (AES-GCM), RFC 5289 (ECDHE with SHA-2),
    RFC 7905 (ChaCha20-Poly1305); TLS 1.3 suites from RFC 8446 §B.4; the signalling
    value from RFC 5746 §3.3.
    """

    TLS_RSA_WITH_AES_128_CBC_SHA = 0x002F
    TLS_DHE_RSA_WITH_AES_128_CBC_SHA = 0x0033
    TLS_RSA_WITH_AES_256_CBC_SHA = 0x0035
    TLS_DHE_RSA_WITH_AES_256_CBC_SHA = 0x0039
    TLS_RSA_WITH_AES_128_CBC_SHA256 = 0x003C
    TLS_RSA_WITH_AES_256_CBC_SHA256 = 0x003D
    TLS_DHE_RSA_WITH_AES_128_CBC_SHA256 = 0x0067
    TLS_RSA_WITH_AES_128_GCM_SHA256 = 0x009C
    TLS_RSA_WITH_AES_256_GCM_SHA384 = 0x009D
    TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 = 0x009E
    TLS_DHE_RSA_WITH_AES_256_GCM_SHA384 = 0x009F
    TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00FF
    TLS_AES_128_GCM_SHA256 = 0x1301
    TLS_AES_256_GCM_SHA384 = 0x1302
    TLS_CHACHA20_POLY1305_SHA256 = 0x1303
    TLS_FALLBACK_SCSV = 0x5600
    TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA = 0xC009
    TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA = 0xC00A
    TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA = 0xC013
    TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA = 0xC014
    TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 = 0xC023
    TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384 = 0xC024
    TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256 = 0xC027
    TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384 = 0xC028
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xC02B
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = 0xC02C
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 = 0xC02F
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 = 0xC030
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCA8
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCA9
    TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCAA


class ExtensionType(IntEnum):
    """ExtensionType (IANA TLS ExtensionType Values registry).

    server_name RFC 6066 §3; supported_groups RFC 8422 §5.1.1 / RFC 7919;
    ec_point_formats RFC 8422 §5.1.2; signature_algorithms RFC 5246 §7.4.1.4.1;
    encrypt_then_mac RFC 7366; extended_master_secret RFC 7627; session_ticket RFC 5077;
    renegotiation_info RFC 5746; the TLS 1.3 ones RFC 8446 §4.2.
    """

    SERVER_NAME = 0
    MAX_FRAGMENT_LENGTH = 1
    STATUS_REQUEST = 5
    SUPPORTED_GROUPS = 10
    EC_POINT_FORMATS = 11
    SIGNATURE_ALGORITHMS = 13
    USE_SRTP = 14
    HEARTBEAT = 15
    APPLICATION_LAYER_PROTOCOL_NEGOTIATION = 16
    SIGNED_CERTIFICATE_TIMESTAMP = 18
    CLIENT_CERTIFICATE_TYPE = 19
    SERVER_CERTIFICATE_TYPE = 20
    PADDING = 21
    ENCRYPT_THEN_MAC = 22
    EXTENDED_MASTER_SECRET = 23
    COMPRESS_CERTIFICATE = 27
    RECORD_SIZE_LIMIT = 28
    SESSION_TICKET = 35
    PRE_SHARED_KEY = 41
    EARLY_DATA = 42
    SUPPORTED_VERSIONS = 43
    COOKIE = 44
    PSK_KEY_EXCHANGE_MODES = 45
    CERTIFICATE_AUTHORITIES = 47
    OID_FILTERS = 48
    POST_HANDSHAKE_AUTH = 49
    SIGNATURE_ALGORITHMS_CERT = 50
    KEY_SHARE = 51
    RENEGOTIATION_INFO = 0xFF01


class NameType(IntEnum):
    """NameType of a server_name entry, RFC 6066 §3."""

    HOST_NAME = 0


class NamedGroup(IntEnum):
    """NamedGroup (IANA TLS Supported Groups registry): RFC 8422 §5.1.1, RFC 7919 §2."""

    SECP256R1 = 0x0017
    SECP384R1 = 0x0018
    SECP521R1 = 0x0019
    X25519 = 0x001D
    X448 = 0x001E
    FFDHE2048 = 0x0100
    FFDHE3072 = 0x0101
    FFDHE4096 = 0x0102
    FFDHE6144 = 0x0103
    FFDHE8192 = 0x0104


class ECPointFormat(IntEnum):
    """ECPointFormat, RFC 8422 §5.1.2."""

    UNCOMPRESSED = 0
    ANSIX962_COMPRESSED_PRIME = 1
    ANSIX962_COMPRESSED_CHAR2 = 2


class ECCurveType(IntEnum):
    """ECCurveType in ServerECDHParams, RFC 8422 §5.4 (only named_curve is allowed)."""

    EXPLICIT_PRIME = 1
    EXPLICIT_CHAR2 = 2
    NAMED_CURVE = 3


class SignatureScheme(IntEnum):
    """SignatureScheme, RFC 8446 §4.2.3.

    In TLS 1.2 the same two bytes are the SignatureAndHashAlgorithm pair of
    RFC 5246 §7.4.1.4.1 (hash byte, then signature byte).
    """

    RSA_PKCS1_SHA1 = 0x0201
    ECDSA_SHA1 = 0x0203
    RSA_PKCS1_SHA224 = 0x0301
    DSA_SHA224 = 0x0302
    ECDSA_SHA224 = 0x0303
    RSA_PKCS1_SHA256 = 0x0401
    ECDSA_SECP256R1_SHA256 = 0x0403
    RSA_PKCS1_SHA384 = 0x0501
    ECDSA_SECP384R1_SHA384 = 0x0503
    RSA_PKCS1_SHA512 = 0x0601
    ECDSA_SECP521R1_SHA512 = 0x0603
    RSA_PSS_RSAE_SHA256 = 0x0804
    RSA_PSS_RSAE_SHA384 = 0x0805
    RSA_PSS_RSAE_SHA512 = 0x0806
    ED25519 = 0x0807
    ED448 = 0x0808
    RSA_PSS_PSS_SHA256 = 0x0809
    RSA_PSS_PSS_SHA384 = 0x080A
    RSA_PSS_PSS_SHA512 = 0x080B


class ClientCertificateType(IntEnum):
    """ClientCertificateType in CertificateRequest, RFC 5246 §7.4.4 and RFC 8422 §5.5."""

    RSA_SIGN = 1
    DSS_SIGN = 2
    RSA_FIXED_DH = 3
    DSS_FIXED_DH = 4
    ECDSA_SIGN = 64
    RSA_FIXED_ECDH = 65
    ECDSA_FIXED_ECDH = 66


# Kept as an alias: RFC 5246 calls it ClientCertificateType; some texts say CertificateType.
CertificateType = ClientCertificateType
