"""The panel every widget is built from: controls, a text area and one picture redrawn in place.

A widget is an ``ipywidgets.VBox`` made by :func:`build_panel` around a compute function (the
core's), a text function and a render function (the plots'); every change of a control is one
update. Pictures are drawn into one reused Figure and encoded to PNG straight from the Agg
canvas (:func:`figure_png`); ``benchmarks/bench_widgets.py`` measures that path.
"""

from __future__ import annotations

import functools
import html
import io
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import ipywidgets
    from matplotlib.figure import Figure

__all__ = [
    "WIDGET_DPI",
    "WIDGET_RC",
    "Panel",
    "build_panel",
    "figure_png",
    "load_ipywidgets",
    "pre_html",
    "reused_figure",
    "reused_picture",
    "saved_figure_png",
]

_P = TypeVar("_P")


def load_ipywidgets() -> Any:
    import ipywidgets

    return ipywidgets


@functools.cache
def _panel_class() -> type:
    widgets = load_ipywidgets()

    class _Panel(widgets.VBox):  # type: ignore[misc, name-defined]
        """A VBox with ``controls``, ``text``, ``output``, ``result`` and ``refresh()``."""

    return _Panel


class Panel:
    """Namespace for the attributes every widget panel carries (documentation only).

    ``controls``: dict name -> control widget; ``text``: an ``ipywidgets.HTML`` with the
    computed text; ``output``: an ``ipywidgets.Image`` showing the picture (None for a widget
    without one; hidden when the input has no picture); ``png``: the last picture's PNG bytes
    (None when none); ``picture``: the Figure and canvas reused for every update;
    ``result``: the last result of the update function; ``refresh()``: recompute now.
    """


def pre_html(text: str) -> str:
    return f"<pre style='font-size:11px; line-height:1.25'>{html.escape(text)}</pre>"


#: resolution of the widgets' pictures (the stored notebook images use 80–100 dpi)
WIDGET_DPI = 72


#: a picture function: draw ``result`` into ``figure`` (reusing it) and return it, or None
Render = Callable[..., "Figure | None"]


class _PictureView:
    """The picture of one widget: one Figure drawn again in place, shown as PNG in an Image.

    The Figure and its Agg canvas are made once per widget; each update hands the figure to
    the render function (which changes the data of its artists in place, or removes them and
    draws again when the layout changes) and encodes PNG straight from the Agg canvas (no
    pyplot, no ``bbox_inches="tight"``, which would draw the figure twice). The bytes go to an
    ``ipywidgets.Image``, which is what the browser shows.
    """

    def __init__(self, render: Render) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        widgets = load_ipywidgets()
        self.render = render
        self.figure = Figure(dpi=WIDGET_DPI)
        self.canvas = FigureCanvasAgg(self.figure)
        self.image = widgets.Image(format="png")

    def update(self, result: Any) -> bytes | None:
        """Redraw for ``result``; the PNG shown (None, and the image hidden, when no picture)."""
        figure = self.render(result, figure=self.figure)
        if figure is None:
            self.image.layout.display = "none"
            return None
        png = figure_png(figure)
        self.image.value = png
        self.image.layout.display = None
        return png


#: matplotlib settings for drawing the widgets' pictures: glyphs are rasterised without
#: hinting, which halves the cost of text (most of a redraw) for a slightly softer look
WIDGET_RC = {"text.hinting": "no_hinting"}


def figure_png(figure: Figure) -> bytes:
    """``figure`` drawn once by Agg (with :data:`WIDGET_RC`) and encoded as PNG.

    A fast zlib level is used: the images are small either way.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = figure.canvas if isinstance(figure.canvas, FigureCanvasAgg) else FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    with matplotlib.rc_context(WIDGET_RC):
        canvas.print_png(buffer, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def saved_figure_png(figure: Any, dpi: int = 80) -> bytes:
    """The figure as PNG bytes through ``savefig`` (tight bounding box), then closed.

    Widgets show pictures through an Image widget rather than an Output area: an update then
    sends no display message, so it behaves the same in a browser, under nbval and in tests.
    """
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def build_panel(
    name: str,
    controls: dict[str, Any],
    compute: Callable[[], Any],
    describe: Callable[[Any], str],
    render: Render | None,
    *,
    unwatched: Sequence[str] = (),
) -> ipywidgets.VBox:
    """The panel around ``controls``; every change of a control's value is one ``refresh``.

    Controls named in ``unwatched`` are observed by the caller instead (e.g. one that resets
    other controls first, then calls ``panel.refresh()`` itself: still one update).
    """
    widgets = load_ipywidgets()
    text = widgets.HTML()
    picture = _PictureView(render) if render is not None else None
    children = [widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap")), text]
    if picture is not None:
        children.append(picture.image)
    panel = _panel_class()(children)
    panel.add_class(f"httpslab-{name}")
    panel.controls = controls
    panel.text = text
    panel.picture = picture
    panel.output = picture.image if picture is not None else None
    panel.result = None
    panel.png = None

    def refresh(*_: object) -> None:
        result = compute()
        panel.result = result
        text.value = pre_html(describe(result))
        if picture is not None:
            panel.png = picture.update(result)

    panel.refresh = refresh
    for control_name, control in controls.items():
        if hasattr(control, "value") and control_name not in unwatched:
            control.observe(refresh, names="value")
    refresh()
    return panel


def reused_figure(figsize: tuple[float, float], figure: Figure | None = None) -> tuple[Figure, Any]:
    """A Figure of ``figsize`` with one Axes: a new one, or ``figure`` reused.

    A reused figure keeps its Axes (and their settings); the artists drawn last time are
    removed, which is much cheaper than clearing the Axes (that rebuilds the ticks).
    """
    if figure is None:
        from matplotlib.figure import Figure

        figure = Figure(figsize=figsize, dpi=WIDGET_DPI)
        return figure, figure.add_subplot()
    if tuple(figure.get_size_inches()) != figsize:
        figure.set_size_inches(figsize)
    if not figure.axes:
        return figure, figure.add_subplot()
    ax = figure.axes[0]
    for artist in [*ax.patches, *ax.texts, *ax.collections, *ax.lines]:
        artist.remove()
    return figure, ax


#: the in-place picture object drawn into each reused widget figure
_PICTURES: weakref.WeakKeyDictionary[Figure, Any] = weakref.WeakKeyDictionary()


def reused_picture(figsize: tuple[float, float], figure: Figure | None, kind: type[_P]) -> tuple[Figure, _P]:
    """``figure`` (or a new one) holding a ``kind`` picture (e.g. ToyDHPicture), made once."""
    if figure is None:
        figure, ax = reused_figure(figsize)
        return figure, kind(ax)  # type: ignore[call-arg]
    picture = _PICTURES.get(figure)
    if not isinstance(picture, kind):
        figure.clear()
        picture = kind(figure.add_subplot())  # type: ignore[call-arg]
        _PICTURES[figure] = picture
    if tuple(figure.get_size_inches()) != figsize:
        figure.set_size_inches(figsize)
    return figure, picture
