"""The certificate widget of notebook 02: scenario and host in, checklist and chain picture out.

The check is :func:`httpslab.teaching.certificate_check` (RFC 5280 / RFC 9525, by
:mod:`httpslab.pki`), the picture :func:`httpslab.notebook.pki_plots.render_certificate`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..teaching import certificate_check
from .panel import build_panel, load_ipywidgets
from .pki_plots import render_certificate

if TYPE_CHECKING:
    import ipywidgets
    from matplotlib.figure import Figure

    from ..pki.verify import VerificationReport

__all__ = ["certificate_widget"]


def certificate_widget(scenario_name: str = "valid", host: str = "127.0.0.1") -> ipywidgets.VBox:
    """Scenario dropdown + host name/IP text → the verification checklist and the chain picture."""
    from ..errors import CertificateError
    from ..pki import SCENARIOS

    widgets = load_ipywidgets()
    controls = {
        "scenario": widgets.Dropdown(options=list(SCENARIOS), value=scenario_name, description="scenario"),
        "host": widgets.Text(value=host, description="host / IP", continuous_update=False),
    }

    def compute() -> VerificationReport | CertificateError:
        try:
            return certificate_check(controls["scenario"].value, controls["host"].value)
        except CertificateError as exc:
            return exc

    def describe(result: Any) -> str:
        if isinstance(result, CertificateError):
            return f"cannot check: {result}"
        return f"{result.summary()}\n\n{result.as_text()}"

    def render(result: Any, *, figure: Figure | None = None) -> Figure | None:
        if isinstance(result, CertificateError):
            return None
        return render_certificate(result, figure=figure)

    return build_panel("certificates", controls, compute, describe, render)
