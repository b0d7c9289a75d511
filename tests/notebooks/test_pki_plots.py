"""httpslab.notebook.pki_plots draws a chain headless, failures in red."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_rgba

from httpslab.notebook.pki_plots import FAILED_COLOUR, PASSED_COLOUR, draw_chain
from httpslab.pki import scenario


def _by_gid(ax, prefix: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    artists = [*ax.patches, *ax.texts]
    return {artist.get_gid(): artist for artist in artists if (artist.get_gid() or "").startswith(prefix)}


@pytest.fixture(autouse=True)
def _close_figures():  # type: ignore[no-untyped-def]
    yield
    plt.close("all")


def test_valid_chain_is_all_green() -> None:
    report = scenario("valid", "ecdsa").verify()
    ax = draw_chain(report)
    boxes = _by_gid(ax, "cert-")
    links = _by_gid(ax, "link-")
    assert len(boxes) == len(report.chain) == 3
    assert len(links) == 2
    for artist in [*boxes.values(), *links.values()]:
        assert artist.get_edgecolor() == to_rgba(PASSED_COLOUR)  # type: ignore[attr-defined]


def test_tampered_signature_link_is_red() -> None:
    report = scenario("tampered_signature", "rsa").verify()
    fig, ax = plt.subplots()
    assert draw_chain(report, ax=ax) is ax
    links = _by_gid(ax, "link-")
    assert links["link-0"].get_edgecolor() == to_rgba(FAILED_COLOUR)  # type: ignore[attr-defined]
    assert links["link-1"].get_edgecolor() == to_rgba(PASSED_COLOUR)  # type: ignore[attr-defined]
    assert _by_gid(ax, "cert-")["cert-0"].get_edgecolor() == to_rgba(FAILED_COLOUR)  # type: ignore[attr-defined]
    failed_labels = [t for t in _by_gid(ax, "check-").values() if t.get_color() == FAILED_COLOUR]  # type: ignore[attr-defined]
    assert any("signature" in t.get_text() for t in failed_labels)  # type: ignore[attr-defined]
    fig.canvas.draw()


def test_missing_intermediate_draws_the_missing_anchor() -> None:
    ax = draw_chain(scenario("missing_intermediate", "ecdsa").verify())
    assert "missing-anchor" in _by_gid(ax, "missing")
    ax.figure.canvas.draw()


def test_compact_chain_names_only_failed_checks_and_counts_the_rest() -> None:
    report = scenario("missing_intermediate", "rsa").verify()
    full = _by_gid(draw_chain(report), "check-")
    compact = _by_gid(draw_chain(report, compact=True), "check-")
    failed_full = sorted(t.get_text() for t in full.values() if t.get_color() == FAILED_COLOUR)  # type: ignore[attr-defined]
    failed_compact = sorted(t.get_text() for t in compact.values() if t.get_color() == FAILED_COLOUR)  # type: ignore[attr-defined]
    assert failed_compact == failed_full and "✗ path" in failed_compact
    passed_leaf = sum(check.passed for check in report.checks if check.depth == 0)
    assert compact["check-0-passed"].get_text() == f"✓ {passed_leaf} checks passed"  # type: ignore[attr-defined]
    assert len(compact) < len(full)
