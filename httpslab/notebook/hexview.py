"""Annotated hex views: every byte of a TLS message labelled with the field it belongs to.

The labels come from the codec itself: :func:`httpslab.messages.field_spans` says where each
field of an encoded handshake message sits (RFC 5246 §7.4 structs, header included), and
``describe()`` gives each field's value in words. :func:`segments` cuts the bytes into
consecutive pieces, each owned by its innermost field, so that every byte has exactly one
label (bytes of an outer field that no inner field covers are its length prefix).

:class:`HexView` renders as HTML in Jupyter (one colour per field, a hover title on every
byte range, a legend) and as plain text elsewhere (``print(view)`` or ``str(view)``).
:func:`parts_view` does the same for any list of ``(label, bytes)`` pairs, e.g.
:meth:`httpslab.record.SealedRecord.parts`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import LocalProtocolError
from ..messages import encode_handshake, field_spans

__all__ = [
    "GROUP_SEPARATOR",
    "PALETTE",
    "HexSegment",
    "HexView",
    "hexview",
    "parts_view",
    "segments",
    "segments_from_spans",
]

#: "extension SERVER_NAME · length": the parts of one field share its colour and legend row
GROUP_SEPARATOR = " · "

#: pale colours, readable behind black text; one per field, reused in order
PALETTE: tuple[str, ...] = (
    "#fde2a7",
    "#c8e6c9",
    "#bbdefb",
    "#f8bbd0",
    "#d1c4e9",
    "#ffccbc",
    "#b2ebf2",
    "#e6ee9c",
    "#d7ccc8",
    "#cfd8dc",
    "#ffe0b2",
    "#dcedc8",
)


@dataclass(frozen=True)
class HexSegment:
    """``data = raw[start:end]`` belongs to the field ``label``; ``description`` is its value."""

    label: str
    start: int
    end: int
    data: bytes
    description: str = ""
    color: str = PALETTE[0]

    @property
    def length(self) -> int:
        return self.end - self.start


def segments_from_spans(
    raw: bytes,
    spans: Sequence[tuple[str, int, int]],
    descriptions: dict[str, str] | None = None,
) -> list[HexSegment]:
    """Cut ``raw`` into consecutive segments, each byte labelled by its innermost span.

    ``spans`` are ``(name, start, end)`` ranges that may nest. A byte of an outer span that
    no inner span covers gets ``"<outer> (length)"`` when the outer span has inner spans
    (in TLS those bytes are the vector's length prefix) and the outer name otherwise; a
    byte that no span covers gets ``"(unlabelled)"``.
    """
    raw = bytes(raw)
    descriptions = descriptions or {}
    checked: list[tuple[str, int, int]] = []
    for name, start, end in spans:
        if not 0 <= start <= end <= len(raw):
            raise LocalProtocolError(f"span {name!r} [{start}, {end}) is outside the {len(raw)} bytes")
        checked.append((name, start, end))
    has_children = {
        index
        for index, (_, start, end) in enumerate(checked)
        if any(
            (s, e) != (start, end) and start <= s and e <= end and e > s
            for j, (_, s, e) in enumerate(checked)
            if j != index
        )
    }

    def owner(position: int) -> str:
        best: tuple[int, int] | None = None  # (length, index)
        for index, (_, start, end) in enumerate(checked):
            if start <= position < end and (best is None or end - start <= best[0]):
                best = (end - start, index)
        if best is None:
            return "(unlabelled)"
        name = checked[best[1]][0]
        return f"{name} (length)" if best[1] in has_children else name

    pieces: list[tuple[str, int, int]] = []
    for position in range(len(raw)):
        label = owner(position)
        if pieces and pieces[-1][0] == label and pieces[-1][2] == position:
            pieces[-1] = (label, pieces[-1][1], position + 1)
        else:
            pieces.append((label, position, position + 1))

    colors: dict[str, str] = {}
    out = []
    for label, start, end in pieces:
        base = label.removesuffix(" (length)")
        color = colors.setdefault(_group(label), PALETTE[len(colors) % len(PALETTE)])
        description = descriptions.get(label, descriptions.get(base, ""))
        if label.endswith(" (length)") and not description:
            description = f"length of {base}: {int.from_bytes(raw[start:end], 'big')} bytes"
        out.append(HexSegment(label, start, end, raw[start:end], description, color))
    return out


def _group(label: str) -> str:
    """The legend row of a label: ``"extension SERVER_NAME · type"`` → ``"extension SERVER_NAME"``."""
    return label.split(GROUP_SEPARATOR)[0]


def _descriptions(message: Any) -> dict[str, str]:
    rows: dict[str, str] = {}
    describe = getattr(message, "describe", None)
    if describe is None:
        return rows
    for key, value in describe():
        stripped = key.strip()
        if key.startswith("  "):
            # an extension row: "  SERVER_NAME (0x0000)" -> the span "extension SERVER_NAME"
            rows[f"extension {stripped.split(' ')[0]}"] = value
        else:
            rows[stripped] = value
    return rows


def segments(message: Any, raw: bytes | None = None) -> list[HexSegment]:
    """Label every byte of a handshake message (``raw`` defaults to its encoding).

    ``raw`` must be the bytes the message was decoded from (4-byte header included);
    because httpslab's decoding is exact, the spans of the re-encoded message fit them.
    """
    encoded = encode_handshake(message)
    if raw is None:
        raw = encoded
    elif bytes(raw) != encoded:
        raise LocalProtocolError(
            f"the {type(message).__name__} does not re-encode to the {len(raw)} bytes given"
        )
    spans = [(span.name, span.start, span.end) for span in field_spans(message)]
    spans = [s for s in spans if s[0] != "body"]  # "body" would only hide the fields inside it
    descriptions = _descriptions(message)
    descriptions.setdefault("msg_type", f"{type(message).__name__} ({raw[0]})")
    descriptions.setdefault("length", f"{int.from_bytes(raw[1:4], 'big')} bytes follow")
    for name, start, end in list(spans):
        # RFC 5246 §7.4.1.4: Extension = type (2 bytes) || opaque data<0..2^16-1>;
        # §7.4.2: ASN.1Cert = opaque<1..2^24-1>. Label the length prefixes too.
        if name.startswith("extension ") and end - start >= 4:
            parts = [("type", start, start + 2), ("length", start + 2, start + 4), ("data", start + 4, end)]
        elif name.startswith("certificate[") and end - start >= 3:
            parts = [("length", start, start + 3), ("DER", start + 3, end)]
        else:
            continue
        for part, part_start, part_end in parts:
            if part_end > part_start:
                spans.append((f"{name}{GROUP_SEPARATOR}{part}", part_start, part_end))
                if part == "length":
                    length = int.from_bytes(raw[part_start:part_end], "big")
                    descriptions[f"{name}{GROUP_SEPARATOR}{part}"] = f"{length} bytes follow"
        descriptions[f"{name}{GROUP_SEPARATOR}data"] = descriptions.get(name, "")
        descriptions[f"{name}{GROUP_SEPARATOR}DER"] = descriptions.get(name, "an X.509 certificate (DER)")
        descriptions[f"{name}{GROUP_SEPARATOR}type"] = name.removeprefix("extension ")
    return segments_from_spans(raw, spans, descriptions)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class HexView:
    """An annotated hex dump: HTML in Jupyter (``_repr_html_``), plain text otherwise."""

    def __init__(
        self,
        segments: Sequence[HexSegment],
        *,
        title: str = "",
        bytes_per_row: int = 16,
        max_bytes: int | None = None,
    ) -> None:
        if bytes_per_row < 1:
            raise LocalProtocolError("bytes_per_row must be at least 1")
        self.segments = list(segments)
        self.title = title
        self.bytes_per_row = bytes_per_row
        self.max_bytes = max_bytes

    @property
    def total(self) -> int:
        return self.segments[-1].end if self.segments else 0

    @property
    def shown(self) -> int:
        return self.total if self.max_bytes is None else min(self.total, self.max_bytes)

    def label_of(self, offset: int) -> str:
        """The label of the byte at ``offset``."""
        for segment in self.segments:
            if segment.start <= offset < segment.end:
                return segment.label
        raise LocalProtocolError(f"offset {offset} is outside the {self.total} bytes")

    # -- text -------------------------------------------------------------------------
    def text(self, hex_width: int = 16) -> str:
        """One line per segment: offsets, label, the first bytes in hex, the value."""
        label_width = max((len(s.label) for s in self.segments), default=5)
        lines = [self.title] if self.title else []
        for segment in self.segments:
            if segment.start >= self.shown:
                lines.append(f"… {self.total - self.shown} more bytes not shown")
                break
            data = segment.data[:hex_width].hex(" ")
            if segment.length > hex_width:
                data += f" … ({segment.length} bytes)"
            line = f"{segment.start:04x}-{segment.end - 1:04x}  {segment.label:<{label_width}}  {data}"
            if segment.description:
                line += f"   # {_shorten(segment.description, 70)}"
            lines.append(line)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    # -- html --------------------------------------------------------------------------
    def _title_attr(self, segment: HexSegment) -> str:
        text = f"{segment.label}: bytes {segment.start}–{segment.end - 1} ({segment.length} bytes)"
        if segment.description:
            text += f"\n{_shorten(segment.description, 300)}"
        return html.escape(text, quote=True)

    def _repr_html_(self) -> str:
        rows = []
        shown = self.shown
        for row_start in range(0, shown, self.bytes_per_row):
            row_end = min(row_start + self.bytes_per_row, shown)
            cells = []
            for segment in self.segments:
                start, end = max(segment.start, row_start), min(segment.end, row_end)
                if start >= end:
                    continue
                hex_text = segment.data[start - segment.start : end - segment.start].hex(" ")
                cells.append(
                    f'<span class="hx-seg" data-field="{html.escape(segment.label, quote=True)}" '
                    f'title="{self._title_attr(segment)}" '
                    f'style="background:{segment.color};padding:0 1px">{hex_text}</span>'
                )
            rows.append(f'<div><span style="color:#888">{row_start:04x}</span>  {" ".join(cells)}</div>')
        if shown < self.total:
            rows.append(f'<div style="color:#888">… {self.total - shown} more bytes not shown</div>')
        legend_rows = []
        totals: dict[str, int] = {}
        texts: dict[str, str] = {}
        for segment in self.segments:
            group = _group(segment.label)
            totals[group] = totals.get(group, 0) + segment.length
            if segment.label in (group, f"{group}{GROUP_SEPARATOR}data", f"{group}{GROUP_SEPARATOR}DER"):
                texts.setdefault(group, segment.description)
        seen: set[str] = set()
        for segment in self.segments:
            group = _group(segment.label)
            if group in seen or segment.start >= shown:
                continue
            seen.add(group)
            legend_rows.append(
                f'<tr><td><span style="background:{segment.color};padding:0 8px">&nbsp;</span></td>'
                f"<td><code>{html.escape(group)}</code></td>"
                f"<td>{totals[group]}</td>"
                f"<td>{html.escape(_shorten(texts.get(group, segment.description), 120))}</td></tr>"
            )
        title = f"<b>{html.escape(self.title)}</b>" if self.title else ""
        return (
            f'<div class="httpslab-hexview">{title}'
            f'<div style="font-family:monospace;white-space:pre;line-height:1.5">{"".join(rows)}</div>'
            '<table style="font-size:90%"><tr><th></th><th>field</th><th>bytes</th><th>value</th></tr>'
            f"{''.join(legend_rows)}</table></div>"
        )


def hexview(
    message: Any,
    raw: bytes | None = None,
    *,
    title: str | None = None,
    bytes_per_row: int = 16,
    max_bytes: int | None = None,
) -> HexView:
    """An annotated hex view of one handshake message (see :func:`segments`)."""
    found = segments(message, raw)
    if title is None:
        title = f"{type(message).__name__}: {found[-1].end if found else 0} bytes"
    return HexView(found, title=title, bytes_per_row=bytes_per_row, max_bytes=max_bytes)


def parts_view(
    parts: Sequence[tuple[str, bytes]],
    descriptions: dict[str, str] | None = None,
    *,
    title: str = "",
    bytes_per_row: int = 16,
    max_bytes: int | None = None,
) -> HexView:
    """A hex view of consecutive ``(label, bytes)`` parts (a record's header, nonce, ...)."""
    spans = []
    offset = 0
    for label, data in parts:
        spans.append((label, offset, offset + len(data)))
        offset += len(data)
    raw = b"".join(data for _, data in parts)
    return HexView(
        segments_from_spans(raw, spans, descriptions),
        title=title,
        bytes_per_row=bytes_per_row,
        max_bytes=max_bytes,
    )
