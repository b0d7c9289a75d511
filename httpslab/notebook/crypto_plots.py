"""Pictures for notebooks 03–06: avalanche, key schedule, record byte map, toy Diffie–Hellman.

Every function takes ``ax=None`` (a new small figure is made when it is None), draws with
matplotlib (the Agg backend is enough) and returns the Axes. Nothing here computes
cryptography: the numbers come from :mod:`httpslab.crypto.keyschedule`, :mod:`httpslab.record` and
:mod:`httpslab.crypto.keyexchange` through :mod:`httpslab.teaching`.

- :func:`draw_avalanche` — bits changed per derived key after a small input change (RFC 5246 §5
  PRF: a good PRF changes about half of the output bits);
- :func:`draw_key_schedule` — premaster → master secret → key block → record keys
  (RFC 5246 §6.3, §8.1; RFC 7627 §4);
- :func:`draw_record_map` — a record's bytes as labelled coloured segments, from
  :meth:`httpslab.record.SealedRecord.parts` (RFC 5246 §6.2, RFC 5288 §3, RFC 7366 §3);
- :func:`draw_cbc_comparison` — MAC-then-encrypt and encrypt-then-MAC records side by side;
- :func:`draw_toy_dh` — the powers of g in a toy group, with both public values marked.

:class:`AvalanchePicture` and :class:`ToyDHPicture` are the same pictures kept alive, so that a
widget can change the data of existing artists and render once instead of building a figure
per update (matplotlib's cost is mostly text: every glyph is rasterised on every draw). Titles
are placed at a fixed ``y=1.0``: where matplotlib would put them anyway (no ticks on top), but
without measuring every tick label on each draw to decide.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .panel import reused_figure, reused_picture

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..record import SealedRecord
    from ..teaching import KeyDerivationResult, RecordResult, ToyDH

__all__ = [
    "PART_COLOURS",
    "AvalanchePicture",
    "ToyDHPicture",
    "draw_avalanche",
    "draw_cbc_comparison",
    "draw_key_schedule",
    "draw_record_map",
    "draw_toy_dh",
    "render_key_derivation",
    "render_record",
    "render_toy_dh",
]

#: one colour per record part label (anything else is grey)
PART_COLOURS: dict[str, str] = {
    "header": "#9e9e9e",
    "explicit nonce": "#ffcc80",
    "IV": "#ffcc80",
    "ciphertext": "#90caf9",
    "tag": "#ef9a9a",
    "MAC": "#ce93d8",
    "plaintext": "#a5d6a7",
    "padding": "#fff59d",
}
_OTHER_COLOUR = "#e0e0e0"


def _new_axes(figsize: tuple[float, float]) -> Axes:
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, dpi=80)
    return ax


def draw_avalanche(
    changes: Sequence[tuple[str, int, int]], ax: Axes | None = None, title: str | None = None
) -> Axes:
    """Horizontal bars: for each ``(name, bits_changed, total_bits)`` the share of bits that flipped.

    A dashed line marks 50 %, what an ideal pseudo-random function gives on average.
    Bars carry gids ``avalanche-<name>``. (:class:`AvalanchePicture` redraws it in place.)
    """
    if ax is None:
        ax = _new_axes((7, 0.45 * max(len(changes), 1) + 1.2))
    AvalanchePicture(ax).update(changes, title)
    return ax


class AvalanchePicture:
    """:func:`draw_avalanche` kept alive: ``update`` changes the bars' widths, colours and labels.

    A widget makes one per figure; an update with the same key names moves the existing bars
    and rewrites their labels instead of building the Axes again.
    """

    def __init__(self, ax: Axes) -> None:
        self.ax = ax
        self.names: list[str] | None = None
        self.bars: list[Any] = []
        self.labels: list[Any] = []
        ax.axvline(50, color="#d62728", linestyle="--", linewidth=1)
        ax.set_xlim(0, 115)
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.set_xlabel("bits changed (%)")

    def update(self, changes: Sequence[tuple[str, int, int]], title: str | None = None) -> Axes:
        ax = self.ax
        names = [name for name, _, _ in changes]
        if names != self.names:
            for artist in [*self.bars, *self.labels]:
                artist.remove()
            positions = list(range(len(changes)))[::-1]
            self.bars = [
                ax.barh(y, 0, gid=f"avalanche-{name}")[0] for y, name in zip(positions, names, strict=True)
            ]
            self.labels = [ax.text(0, y, "", va="center", fontsize=8) for y in positions]
            ax.set_yticks(positions, names, fontsize=8)
            span = len(changes) - 0.2  # bars of height 0.8, 5 % margins as autoscaling gives
            ax.set_ylim(-0.4 - 0.05 * span, len(changes) - 0.6 + 0.05 * span)
            self.names = names
        for bar, label, (_, changed, total) in zip(self.bars, self.labels, changes, strict=True):
            share = 100.0 * changed / total if total else 0.0
            bar.set_width(share)
            bar.set_facecolor("#1f77b4" if changed else "#bdbdbd")
            label.set_x(min(share, 100) + 1)
            label.set_text(f"{changed}/{total} bits")
        ax.set_title(title or "Avalanche: share of output bits that changed", fontsize=10, y=1.0)
        return ax


def draw_key_schedule(
    key_block_parts: Sequence[tuple[str, int]] = (),
    *,
    extended_master_secret: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """The TLS 1.2 key schedule as a graph: inputs, PRF calls, and the key block's pieces.

    ``key_block_parts`` is ``[(name, length), ...]`` (e.g. from
    :func:`httpslab.teaching.key_block_layout`); pieces of length 0 are left
    out. Boxes carry gids ``node-<name>``.
    """
    from matplotlib.patches import FancyArrowPatch

    if ax is None:
        ax = _new_axes((9, 3.8))
    ax.set_axis_off()
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 6)

    def box(x: float, y: float, text: str, name: str, colour: str) -> None:
        ax.text(
            x, y, text, ha="center", va="center", fontsize=8, gid=f"node-{name}",
            bbox={"boxstyle": "round,pad=0.35", "facecolor": colour, "edgecolor": "#555555"},
        )  # fmt: skip

    def arrow(start: tuple[float, float], end: tuple[float, float]) -> None:
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="->", mutation_scale=10, color="#555555"))

    box(1.2, 5.2, "premaster secret\n(from RSA / DHE / ECDHE)", "premaster", "#fff3e0")
    if extended_master_secret:
        box(1.2, 3.8, "session_hash =\nHash(ClientHello … ClientKeyExchange)", "session_hash", "#e3f2fd")
        label = 'PRF(premaster, "extended master secret",\n      session_hash)'
    else:
        box(1.2, 3.8, "client_random + server_random", "randoms", "#e3f2fd")
        label = 'PRF(premaster, "master secret",\n      client_random + server_random)'
    box(4.6, 4.5, label, "prf-master", "#f5f5f5")
    box(4.6, 3.0, "master secret (48 bytes)", "master", "#ffe0b2")
    box(4.6, 1.6, 'PRF(master, "key expansion",\n      server_random + client_random)', "prf-keys", "#f5f5f5")
    arrow((2.3, 5.0), (3.4, 4.7))
    arrow((2.3, 3.9), (3.4, 4.3))
    arrow((4.6, 4.1), (4.6, 3.25))
    arrow((4.6, 2.75), (4.6, 2.0))
    parts = [(name, length) for name, length in key_block_parts if length]
    if parts:
        step = 5.6 / len(parts)
        for index, (name, length) in enumerate(parts):
            y = 5.6 - (index + 0.5) * step
            box(8.6, y, f"{name} ({length} B)", name, "#e8f5e9")
            arrow((6.2, 1.6), (7.2, y))
    ax.set_title("TLS 1.2 key schedule (RFC 5246 §6.3, §8.1; RFC 7627 §4)", fontsize=10)
    return ax


def draw_record_map(
    parts: Sequence[tuple[str, bytes]],
    ax: Axes | None = None,
    *,
    title: str | None = None,
    highlight: int | None = None,
    min_width: float = 6.0,
) -> Axes:
    """A record drawn as one row of labelled segments, one per ``(label, bytes)`` part.

    Widths follow the byte counts (with ``min_width`` so a 5-byte header stays readable);
    each segment is labelled with its name, length and first bytes in hex. ``highlight`` is
    a byte offset in the whole record to mark in red (e.g. a flipped bit). Segments carry
    gids ``part-<label>``.
    """
    from matplotlib.patches import Rectangle

    if ax is None:
        ax = _new_axes((10, 1.6))
    ax.set_axis_off()
    widths = [max(float(len(data)), min_width) for _, data in parts]
    total = sum(widths) or 1.0
    x = 0.0
    offset = 0
    for (label, data), width in zip(parts, widths, strict=True):
        ax.add_patch(
            Rectangle(
                (x, 0), width, 1, facecolor=PART_COLOURS.get(label, _OTHER_COLOUR), edgecolor="black",
                gid=f"part-{label}",
            )
        )  # fmt: skip
        preview = data[:4].hex(" ") + (" …" if len(data) > 4 else "")
        ax.text(x + width / 2, 0.62, f"{label}\n{len(data)} B", ha="center", va="center", fontsize=8)
        ax.text(x + width / 2, 0.18, preview, ha="center", va="center", fontsize=6, family="monospace")
        if highlight is not None and offset <= highlight < offset + len(data):
            hx = x + (highlight - offset) * width / max(len(data), 1)
            ax.add_patch(
                Rectangle((hx, 0), max(width / max(len(data), 1), 0.6), 1, color="#d62728", alpha=0.8)
            )
        x += width
        offset += len(data)
    ax.set_xlim(-0.5, total + 0.5)
    ax.set_ylim(-0.1, 1.1)
    ax.set_title(title or f"record: {offset} bytes on the wire", fontsize=9, y=1.0)
    return ax


def draw_toy_dh(p: int, g: int, a: int, b: int, ax: Axes | None = None, *, limit: int = 400) -> Axes:
    """The powers ``g^x mod p`` for x = 1 … min(p-1, limit), with A = g^a and B = g^b marked.

    The scatter looks like noise: that is why, for a large p, going back from A to a
    (the discrete logarithm) is hard. Works for toy groups only (p below a few thousand is
    best). Markers carry gids ``alice`` and ``bob``, their labels ``alice-label`` and ``bob-label``. (:class:`ToyDHPicture` redraws it in place.)
    """
    if ax is None:
        ax = _new_axes((6, 3.2))
    ToyDHPicture(ax).update(p, g, a, b, limit=limit)
    return ax


class ToyDHPicture:
    """:func:`draw_toy_dh` kept alive: ``update`` moves the points and markers, rewrites labels."""

    def __init__(self, ax: Axes) -> None:
        self.ax = ax
        # one Line2D of markers: Agg stamps one marker image per point, much faster than a
        # 400-point scatter collection
        (self.powers,) = ax.plot(
            [], [], linestyle="none", marker="o", markersize=2.6, markeredgewidth=0.6,
            color="#9e9e9e", label="g^x mod p",
        )  # fmt: skip
        self.alice = ax.scatter([], [], s=60, color="#1f77b4", gid="alice", zorder=3)
        self.bob = ax.scatter([], [], s=60, color="#ff7f0e", gid="bob", zorder=3)
        ax.set_xlabel("exponent x")
        ax.set_ylabel("g^x mod p")
        ax.locator_params(nbins=5)  # about five ticks per axis are enough to read the scatter
        # labels beside the markers rather than a legend (a legend is re-laid out on every draw)
        self.alice_label, self.bob_label = (
            ax.annotate(
                "",
                (0, 0),
                xytext=(7, 4),
                textcoords="offset points",
                fontsize=8,
                color=colour,
                fontweight="bold",
                gid=f"{who}-label",
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": colour, "alpha": 0.85},
            )
            for who, colour in (("alice", "#1f77b4"), ("bob", "#ff7f0e"))
        )

    def update(self, p: int, g: int, a: int, b: int, *, limit: int = 400) -> Axes:
        import numpy as np

        ax = self.ax
        count = min(p - 1, limit)
        points = np.array([(x, pow(g, x, p)) for x in range(1, count + 1)], dtype=float).reshape(-1, 2)
        self.powers.set_data(points[:, 0], points[:, 1])
        for marker, label, who, name, exponent in (
            (self.alice, self.alice_label, "Alice", "A", a),
            (self.bob, self.bob_label, "Bob", "B", b),
        ):
            shown = 1 <= exponent <= count
            value = pow(g, exponent, p)
            marker.set_visible(shown)
            label.set_visible(shown)
            marker.set_offsets([(exponent, value)] if shown else np.empty((0, 2)))
            # the label sits beside its marker, on the side with more room
            left = exponent > count / 2
            label.xy = (exponent, value)
            label.set_text(f"{who}: {name} = g^{exponent} = {value}")
            label.set_horizontalalignment("right" if left else "left")
            label.set_position((-7 if left else 7, 4))
        ax.ignore_existing_data_limits = True
        ax.update_datalim(points if len(points) else [(0, 0), (1, 1)])
        ax.autoscale_view()
        ax.set_title(f"powers of g = {g} modulo p = {p}", fontsize=10, y=1.0)
        return ax


def draw_cbc_comparison(
    mac_then_encrypt: SealedRecord, encrypt_then_mac: SealedRecord, axes: Sequence[Axes] | None = None
) -> Sequence[Axes]:
    """Four rows: each CBC record as it travels, and what its ciphertext hides (RFC 5246 §6.2.3.2, RFC 7366).

    MAC-then-encrypt hides plaintext || MAC || padding inside the ciphertext; encrypt-then-MAC
    encrypts plaintext || padding and sends the MAC, computed over IV and ciphertext, in clear.
    ``axes`` are four Axes to draw into (a new figure when None).
    """
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(4, 1, figsize=(10, 5.2), dpi=80)
    mte, etm = mac_then_encrypt, encrypt_then_mac
    draw_record_map(mte.parts(), ax=axes[0], title="MAC-then-encrypt: the record on the wire")
    draw_record_map(
        [("plaintext", mte.plaintext), ("MAC", mte.mac), ("padding", mte.padding)],
        ax=axes[1], title="… its ciphertext decrypts to plaintext || MAC || padding (MAC checked last)",
    )  # fmt: skip
    draw_record_map(
        etm.parts(), ax=axes[2], title="encrypt-then-MAC: the record on the wire (MAC over IV + ciphertext)"
    )
    draw_record_map(
        [("plaintext", etm.plaintext), ("padding", etm.padding)],
        ax=axes[3], title="… its ciphertext decrypts to plaintext || padding (only after the MAC was checked)",
    )  # fmt: skip
    return axes


# ------------------------------------------------------------------------------ widget pictures
def render_toy_dh(result: ToyDH, *, figure: Figure | None = None) -> Figure | None:
    """The powers of g with A and B marked (:func:`~httpslab.notebook.crypto_plots.draw_toy_dh`)."""
    if result.error:
        return None
    figure, picture = reused_picture((6, 3), figure, ToyDHPicture)
    figure.subplots_adjust(left=0.12, right=0.97, top=0.9, bottom=0.17)  # room for the x label
    picture.update(result.p, result.g, result.a, result.b)
    return figure


def render_key_derivation(result: KeyDerivationResult, *, figure: Figure | None = None) -> Figure | None:
    """The avalanche bars of ``result`` (:func:`~httpslab.notebook.crypto_plots.draw_avalanche`)."""
    if result.error:
        return None
    figure, picture = reused_picture((7, 3.2), figure, AvalanchePicture)
    figure.subplots_adjust(left=0.28, right=0.97, top=0.9, bottom=0.16)
    picture.update(result.changes)
    return figure


def render_record(result: RecordResult, *, figure: Figure | None = None) -> Figure | None:
    """The byte map of the sealed record, the flipped bit in red."""
    if result.sealed is None:
        return None
    figure, ax = reused_figure((10, 1.5), figure)
    highlight = None if result.flipped_bit is None else 5 + result.flipped_bit // 8
    verdict = "rejected: bad_record_mac" if result.rejection is not None else "accepted"
    draw_record_map(result.sealed.parts(), ax=ax, highlight=highlight, title=f"record ({verdict})")
    return figure
