"""The TLS 1.2 record layer (RFC 5246 §6.2): framing and protection.

- :mod:`.framing`: record headers, :func:`split_records` and :class:`RecordReader` for a byte
  stream, fragment limits (§6.2.1);
- :mod:`.protection`: :class:`RecordProtection`, one per direction, for AES-GCM (RFC 5288),
  ChaCha20-Poly1305 (RFC 7905) and AES-CBC + HMAC (§6.2.3.2, RFC 7366).
"""

from __future__ import annotations

from .framing import (
    MAX_CIPHERTEXT_LENGTH,
    MAX_PLAINTEXT_LENGTH,
    RECORD_CONTENT_TYPES,
    RECORD_HEADER_LENGTH,
    Record,
    RecordReader,
    check_plaintext,
    check_record_header,
    describe_not_tls,
    fragment_data,
    pull_record,
    push_record,
    split_records,
)
from .protection import AeadOpen, AeadSeal, RecordProtection, SealedRecord

__all__ = [
    "MAX_CIPHERTEXT_LENGTH",
    "MAX_PLAINTEXT_LENGTH",
    "RECORD_CONTENT_TYPES",
    "RECORD_HEADER_LENGTH",
    "AeadOpen",
    "AeadSeal",
    "Record",
    "RecordProtection",
    "RecordReader",
    "SealedRecord",
    "check_plaintext",
    "check_record_header",
    "describe_not_tls",
    "fragment_data",
    "pull_record",
    "push_record",
    "split_records",
]
