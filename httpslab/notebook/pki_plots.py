"""Pictures of a certificate chain and of its verification report (matplotlib).

``draw_chain(report)`` draws one box per certificate (subject, issuer, validity, key type),
the trust anchor on top and the leaf at the bottom, an arrow for each signature link, and
beside each box the checks made on that certificate. Failed checks, boxes and links are red.
The computation lives in :mod:`httpslab.pki`; this module only draws.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from httpslab.pki.facts import key_description
from httpslab.pki.render import describe
from httpslab.pki.verify import VerificationReport

from .panel import reused_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["FAILED_COLOUR", "PASSED_COLOUR", "draw_chain", "render_certificate"]

FAILED_COLOUR = "#d62728"
PASSED_COLOUR = "#2ca02c"
_NEUTRAL = "#444444"

_BOX_WIDTH = 4.2
_BOX_HEIGHT = 1.3
_GAP = 0.9


def _issuer_label(report: VerificationReport, depth: int) -> str:
    certificate = report.chain[depth]
    names = [attribute.value for attribute in certificate.issuer if attribute.oid.dotted_string == "2.5.4.3"]
    return str(names[0]) if names else certificate.issuer.rfc4514_string()


def draw_chain(report: VerificationReport, ax: Axes | None = None, *, compact: bool = False) -> Axes:
    """Draw ``report.chain`` with each certificate's checks; failures in red. Returns ``ax``.

    Artists carry ids: ``cert-<depth>`` for boxes, ``link-<depth>`` for the arrow from the
    issuer at depth+1 to the certificate at depth, ``check-<depth>-<n>`` for check labels.

    ``compact=True`` (the certificate widget, which prints the full checklist beside the
    picture) draws fewer words, because each glyph costs time on every redraw: each box shows
    the subject, role and validity (not issuer and key), the failed checks are listed by name
    in red as before, and the passed ones of a certificate become one green line
    ``✓ N checks passed`` (gid ``check-<depth>-passed``).
    """
    import matplotlib.pyplot as plt

    count = max(len(report.chain), 1)
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 1.9 * (count + 1)))
    ax.set_axis_off()

    chain_checks: dict[int | None, list[Any]] = {}
    for check in report.checks:
        chain_checks.setdefault(check.depth, []).append(check)

    for depth, certificate in enumerate(report.chain):
        _draw_certificate(ax, report, depth, certificate, chain_checks.get(depth, []), compact)
    _draw_signature_links(ax, report)
    if not report.path_complete and report.chain:
        _draw_missing_anchor(ax, report)
    _draw_chain_checks(ax, chain_checks.get(None, []), compact)

    rows = count + (0 if report.path_complete else 1)
    ax.set_xlim(-0.3, _BOX_WIDTH + (3.0 if compact else 5.5))
    ax.set_ylim(-1.0, _top_of(rows) + 0.2)
    error = report.error
    title = "VALID" if report.ok else f"REJECTED at '{error.name}'" if error else "REJECTED"
    # a fixed y (where matplotlib puts it anyway) skips measuring the axes for each draw
    ax.set_title(title, color=PASSED_COLOUR if report.ok else FAILED_COLOUR, fontsize=12, loc="left", y=1.0)
    return ax


def _top_of(depth: int) -> float:
    return depth * (_BOX_HEIGHT + _GAP)


def _draw_certificate(
    ax: Axes, report: VerificationReport, depth: int, certificate: Any, checks_here: list[Any], compact: bool
) -> None:
    """One certificate's box and the labels of its checks."""
    from matplotlib.patches import FancyBboxPatch

    failed = any(not check.passed for check in checks_here)
    y = _top_of(depth)
    is_anchor = report.path_complete and depth == len(report.chain) - 1
    box = FancyBboxPatch(
        (0, y),
        _BOX_WIDTH,
        _BOX_HEIGHT,
        boxstyle="round,pad=0.05",
        facecolor="#fdecea" if failed else ("#eef6ee" if is_anchor else "white"),
        edgecolor=FAILED_COLOUR if failed else PASSED_COLOUR,
        linewidth=2,
        gid=f"cert-{depth}",
    )
    ax.add_patch(box)
    role = "trust anchor" if is_anchor else ("leaf" if depth == 0 else "intermediate")
    validity = (
        f"valid {certificate.not_valid_before_utc:%Y-%m-%d} → {certificate.not_valid_after_utc:%Y-%m-%d}"
    )
    if compact:
        lines = [f"{describe(certificate)}  [{role}]", validity]
    else:
        lines = [
            f"{describe(certificate)}  [{role}]",
            f"issuer: {_issuer_label(report, depth)}",
            validity,
            f"key: {key_description(certificate)}",
        ]
    ax.text(
        0.15,
        y + _BOX_HEIGHT / 2,
        "\n".join(lines),
        va="center",
        ha="left",
        fontsize=8.5,
        family="monospace",
    )
    row, step = 0, (0.3 if compact else 0.22)
    for index, check in enumerate(checks_here):
        if compact and check.passed:
            continue
        ax.text(
            _BOX_WIDTH + 0.4,
            y + _BOX_HEIGHT - 0.15 - row * step,
            f"{'✓' if check.passed else '✗'} {check.name}",
            va="top",
            ha="left",
            fontsize=8,
            color=PASSED_COLOUR if check.passed else FAILED_COLOUR,
            gid=f"check-{depth}-{index}",
        )
        row += 1
    passed = sum(check.passed for check in checks_here)
    if compact and passed:
        ax.text(
            _BOX_WIDTH + 0.4,
            y + _BOX_HEIGHT - 0.15 - row * step,
            f"✓ {passed} check{'s' if passed > 1 else ''} passed",
            va="top",
            ha="left",
            fontsize=8,
            color=PASSED_COLOUR,
            gid=f"check-{depth}-passed",
        )


def _draw_signature_links(ax: Axes, report: VerificationReport) -> None:
    """Arrows from each issuer (above) down to the certificate it signed."""
    from matplotlib.patches import FancyArrowPatch

    signatures = {check.depth: check for check in report.checks if check.name == "signature"}
    for depth in range(len(report.chain) - 1):
        check = signatures.get(depth)
        colour = _NEUTRAL if check is None else (PASSED_COLOUR if check.passed else FAILED_COLOUR)
        arrow = FancyArrowPatch(
            (_BOX_WIDTH / 2, _top_of(depth + 1) - 0.05),
            (_BOX_WIDTH / 2, _top_of(depth) + _BOX_HEIGHT + 0.08),
            arrowstyle="-|>",
            mutation_scale=15,
            color=colour,
            linewidth=2,
            gid=f"link-{depth}",
        )
        ax.add_patch(arrow)
        ax.text(
            _BOX_WIDTH / 2 + 0.1, _top_of(depth) + _BOX_HEIGHT + _GAP / 2, "signs", fontsize=8, color=colour
        )


def _draw_missing_anchor(ax: Axes, report: VerificationReport) -> None:
    """The missing link to a trust anchor, dashed."""
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    y = _top_of(len(report.chain))
    ax.add_patch(
        FancyBboxPatch(
            (0, y),
            _BOX_WIDTH,
            _BOX_HEIGHT * 0.6,
            boxstyle="round,pad=0.05",
            facecolor="white",
            edgecolor=FAILED_COLOUR,
            linestyle="--",
            linewidth=2,
            gid="missing-anchor",
        )
    )
    ax.text(
        0.15,
        y + _BOX_HEIGHT * 0.3,
        "? no trust anchor reached",
        va="center",
        fontsize=9,
        color=FAILED_COLOUR,
    )
    ax.add_patch(
        FancyArrowPatch(
            (_BOX_WIDTH / 2, y - 0.05),
            (_BOX_WIDTH / 2, _top_of(len(report.chain) - 1) + _BOX_HEIGHT + 0.08),
            arrowstyle="-|>",
            mutation_scale=15,
            color=FAILED_COLOUR,
            linestyle="--",
            gid=f"link-{len(report.chain) - 1}",
        )
    )


def _draw_chain_checks(ax: Axes, whole_chain: list[Any], compact: bool) -> None:
    """The checks about the whole chain (no depth), under the boxes."""
    if compact:
        whole_chain = [check for check in whole_chain if not check.passed]
    for index, check in enumerate(whole_chain):
        ax.text(
            index * 1.6,
            -0.5,
            f"{'✓' if check.passed else '✗'} {check.name}",
            fontsize=8.5,
            va="top",
            color=PASSED_COLOUR if check.passed else FAILED_COLOUR,
            gid=f"check-chain-{index}",
        )


def render_certificate(
    report: VerificationReport, *, figure: Figure | None = None, compact: bool = True
) -> Figure:
    """The chain picture of ``report`` (:func:`httpslab.notebook.pki_plots.draw_chain`) as a Figure.

    ``compact`` (the widget's view, which prints the whole checklist above the picture):
    passed checks summed up per certificate, failed ones named in red.
    """
    rows = max(len(report.chain), 1) + 1
    if compact:
        figure, ax = reused_figure((7.5, 1.1 * rows), figure)
        figure.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.92)
    else:
        figure, ax = reused_figure((10, 1.5 * rows), figure)
    draw_chain(report, ax=ax, compact=compact)
    return figure
