"""httpslab: learn HTTPS byte by byte, on real TLS handshakes.

The names below are the public surface; each lives in one module (see ``_EXPORTS``) and is
imported on first use, so ``import httpslab`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # errors
    "TLSError": "errors",
    "ProtocolError": "errors",
    "LocalProtocolError": "errors",
    "RemoteProtocolError": "errors",
    "DecodeError": "errors",
    "BadRecordMac": "errors",
    "RecordOverflow": "errors",
    "AlertReceived": "errors",
    "NotTLSError": "errors",
    "KeyLogError": "errors",
    "IllegalParameter": "errors",
    "UnexpectedMessage": "errors",
    "HandshakeFailure": "errors",
    "DecryptError": "errors",
    "BadCertificate": "errors",
    "InternalError": "errors",
    "CertificateError": "errors",
    "TransportError": "errors",
    "HandshakeTimeout": "errors",
    "RelayError": "errors",
    "OpenSSLPeerError": "errors",
    "PaddingError": "errors",
    "UsageError": "errors",
    "LaunchError": "errors",
    # enums
    "AlertDescription": "enums",
    "CipherSuite": "enums",
    "ContentType": "enums",
    "ExtensionType": "enums",
    "HandshakeType": "enums",
    "NamedGroup": "enums",
    "ProtocolVersion": "enums",
    "SignatureScheme": "enums",
    # wire, suites
    "Buffer": "wire",
    "SuiteInfo": "crypto.suites",
    "suite_info": "crypto.suites",
    # handshake messages (RFC 5246 §7.4), alerts, change_cipher_spec
    "ClientHello": "messages",
    "ServerHello": "messages",
    "Certificate": "messages",
    "ServerKeyExchange": "messages",
    "ServerDHParams": "messages",
    "ServerECDHParams": "messages",
    "CertificateRequest": "messages",
    "ServerHelloDone": "messages",
    "ClientKeyExchange": "messages",
    "CertificateVerify": "messages",
    "Finished": "messages",
    "NewSessionTicket": "messages",
    "HelloRequest": "messages",
    "Alert": "messages",
    "ChangeCipherSpec": "messages",
    "HandshakeReader": "messages",
    "decode_handshake": "messages",
    "encode_handshake": "messages",
    "decode_alert": "messages",
    "encode_alert": "messages",
    "field_spans": "messages",
    # record layer
    "Record": "record",
    "RecordProtection": "record",
    "RecordReader": "record",
    "SealedRecord": "record",
    "split_records": "record",
    "fragment_data": "record",
    # key schedule
    "prf": "crypto.keyschedule",
    "master_secret": "crypto.keyschedule",
    "extended_master_secret": "crypto.keyschedule",
    "key_block": "crypto.keyschedule",
    "KeyBlock": "crypto.keyschedule",
    "verify_data": "crypto.keyschedule",
    "transcript_hash": "crypto.keyschedule",
    "TranscriptHash": "crypto.keyschedule",
    # key exchange
    "make_rsa_premaster": "crypto.keyexchange",
    "rsa_encrypt_premaster": "crypto.keyexchange",
    "rsa_decrypt_premaster": "crypto.keyexchange",
    "DHGroup": "crypto.keyexchange",
    "group_from_params": "crypto.keyexchange",
    "dh_generate_private": "crypto.keyexchange",
    "dh_public": "crypto.keyexchange",
    "dh_shared_secret": "crypto.keyexchange",
    "ecdhe_generate": "crypto.keyexchange",
    "ecdhe_public_bytes": "crypto.keyexchange",
    "ecdhe_shared_secret": "crypto.keyexchange",
    # key logs and the recording relay
    "KeyLog": "keylog",
    "KeyLogEntry": "keylog",
    "RecordingRelay": "relay",
    # sans-I/O connections, transcript, blocking drivers
    "ClientConnection": "connection",
    "ServerConnection": "connection",
    "TLSConfig": "connection",
    "Credential": "connection",
    "Primitives": "connection",
    "HandshakeComplete": "connection",
    "ApplicationData": "connection",
    "ConnectionClosed": "connection",
    "Transcript": "transcript",
    "connect": "io",
    "TLSSession": "io",
    "TLSServer": "io",
    "load_trust_anchors": "io",
    "load_credential": "io",
    # capture
    "decrypt_capture": "capture",
    "DecryptedRecord": "capture",
    "CapturedSession": "capture",
    "analyze_capture": "capture",
}

__all__ = [*sorted(_EXPORTS), "__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'httpslab' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
