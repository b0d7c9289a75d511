"""Text descriptions of messages and byte spans of their fields, for annotated hex views."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from enum import IntEnum
from typing import Any, NamedTuple

from ..enums import CipherSuite, ExtensionType, NamedGroup, ProtocolVersion, SignatureScheme
from ..wire import Buffer

# ---------------------------------------------------------------------------------------
# field spans (byte offsets of fields, for annotated hex views)
# ---------------------------------------------------------------------------------------


class FieldSpan(NamedTuple):
    """Where a field sits in an encoded message: ``raw[start:end]``."""

    name: str
    start: int
    end: int


class _SpanRecorder(Buffer):
    """A writing Buffer that also records where each named field went."""

    def __init__(self) -> None:
        super().__init__()
        self.spans: list[FieldSpan] = []


#: what :func:`_span` returns when nothing records spans (the hot path: no generator per field)
_NO_SPAN: AbstractContextManager[None] = nullcontext()


def _span(buf: Buffer, name: str) -> AbstractContextManager[None]:
    if not isinstance(buf, _SpanRecorder):
        return _NO_SPAN
    return _recorded_span(buf, name)


@contextmanager
def _recorded_span(buf: _SpanRecorder, name: str) -> Iterator[None]:
    start = len(buf.data)
    yield
    buf.spans.append(FieldSpan(name, start, len(buf.data)))


# ---------------------------------------------------------------------------------------
# describe(): short (field, text) pairs for teaching
# ---------------------------------------------------------------------------------------


_UINT16_ENUMS = (CipherSuite, SignatureScheme, NamedGroup, ExtensionType, ProtocolVersion)


def _text(value: Any) -> str:
    if isinstance(value, IntEnum):
        width = 4 if isinstance(value, _UINT16_ENUMS) else 2
        return f"{value.name} (0x{int(value):0{width}x})"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value} (0x{value:x})"
    if isinstance(value, bytes | bytearray):
        if not value:
            return "(empty)"
        if len(value) <= 32:
            return f"{value.hex()} ({len(value)} bytes)"
        return f"{value[:16].hex()}…{value[-4:].hex()} ({len(value)} bytes)"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_text(item) for item in value) + "]"
    if value is None:
        return "(absent)"
    if hasattr(value, "summary"):
        return str(value.summary())
    return str(value)


def describe(obj: Any) -> list[tuple[str, str]]:
    """(field name, value text) pairs for any message or extension dataclass."""
    if hasattr(obj, "describe"):
        return obj.describe()  # type: ignore[no-any-return]
    return [(f.name, _text(getattr(obj, f.name))) for f in dataclasses.fields(obj)]


class _Describable:
    """Gives a dataclass ``describe()``: short (field name, value text) pairs for teaching."""

    def describe(self) -> list[tuple[str, str]]:
        rows = [(f.name, _text(getattr(self, f.name))) for f in dataclasses.fields(self)]  # type: ignore[arg-type]
        return rows or [("body", "(empty)")]
