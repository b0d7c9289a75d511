"""The message ladder: a TLS 1.2 connection drawn as arrows between a client and a server lane.

The picture of RFC 5246 §7.3 (Figure 1), drawn from what really crossed the wire: a
:class:`~httpslab.transcript.Transcript` (httpslab's own client or server) or a
:class:`~httpslab.capture.CapturedSession` (a recording opened with a key log). One arrow per
handshake message, ChangeCipherSpec, alert or application-data record, in wire order; the
ones that travelled encrypted are drawn dashed in the "encrypted" colour.

:func:`ladder_steps` gives the list the plot draws (``LadderStep``), so a notebook can assert
on it; :func:`draw_ladder` draws it with matplotlib on ``ax`` (or a new figure) and returns
the Axes. Each step is also tagged with which of the seven steps of an HTTPS connection
(:data:`SEVEN_STEPS`) it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..enums import AlertDescription, ContentType
from ..errors import LocalProtocolError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "CLEAR_COLOUR",
    "ENCRYPTED_COLOUR",
    "SEVEN_STEPS",
    "LadderStep",
    "draw_ladder",
    "ladder_steps",
    "step_of",
]

CLEAR_COLOUR = "#1f77b4"
ENCRYPTED_COLOUR = "#d62728"
ALERT_COLOUR = "#ff7f0e"

#: the seven steps of an HTTPS connection, as notebook 00 tells them
SEVEN_STEPS: tuple[str, ...] = (
    "1 client connects (TCP), says hello",
    "2 TLS handshake: hellos agree on version and suite",
    "3 certificate check",
    "4 asymmetric exchange of the premaster secret",
    "5 switch to symmetric encryption (Finished)",
    "6 encrypted application data (HTTP)",
    "7 closing; keys discarded",
)

_STEP_BY_NAME = {
    "ClientHello": 1,
    "ServerHello": 2,
    "Certificate": 3,
    "CertificateRequest": 3,
    "CertificateVerify": 3,
    "ServerKeyExchange": 4,
    "ServerHelloDone": 4,
    "ClientKeyExchange": 4,
    "ChangeCipherSpec": 5,
    "Finished": 5,
    "NewSessionTicket": 5,
}


def step_of(name: str) -> int:
    """Which of :data:`SEVEN_STEPS` (1..7) a message called ``name`` belongs to."""
    if name in _STEP_BY_NAME:
        return _STEP_BY_NAME[name]
    if name.startswith("application data"):
        return 6
    if name.startswith("Alert"):
        return 7 if "close_notify" in name else 2
    return 2


@dataclass(frozen=True)
class LadderStep:
    """One arrow of the ladder."""

    sender: str  # "client" or "server"
    name: str
    encrypted: bool
    size: int
    note: str = ""

    @property
    def step(self) -> int:
        return step_of(self.name)

    @property
    def is_alert(self) -> bool:
        return self.name.startswith("Alert")


def _alert_name(description: Any) -> str:
    try:
        return AlertDescription(int(description)).name.lower()
    except ValueError:
        return str(int(description))


def _from_transcript(transcript: Any) -> list[LadderStep]:
    steps = []
    for entry in transcript.messages():
        name = entry.name
        if entry.kind == "application_data":
            name = f"application data ({len(entry.raw)} bytes)"
        elif entry.kind == "alert" and not name.startswith("Alert"):
            name = f"Alert {name}"
        steps.append(LadderStep(entry.sender, name, bool(entry.encrypted), len(entry.raw), entry.note))
    return steps


def _from_capture(captured: Any) -> list[LadderStep]:
    steps = []
    for record in captured.records:
        if record.content_type == ContentType.HANDSHAKE:
            for message in record.messages:
                steps.append(
                    LadderStep(record.sender, type(message).__name__, record.encrypted, len(record.plaintext))
                )
        elif record.content_type == ContentType.CHANGE_CIPHER_SPEC:
            steps.append(LadderStep(record.sender, "ChangeCipherSpec", record.encrypted, 1))
        elif record.content_type == ContentType.ALERT:
            alert = record.messages[0] if record.messages else None
            label = f"Alert {_alert_name(alert.description)}" if alert is not None else "Alert"
            steps.append(LadderStep(record.sender, label, record.encrypted, 2))
        elif record.content_type == ContentType.APPLICATION_DATA:
            steps.append(
                LadderStep(
                    record.sender,
                    f"application data ({len(record.plaintext)} bytes)",
                    record.encrypted,
                    len(record.plaintext),
                )
            )
    return steps


def ladder_steps(source: Any) -> list[LadderStep]:
    """The arrows to draw, from a Transcript, a CapturedSession or a list of LadderStep."""
    if isinstance(source, list | tuple) and all(isinstance(s, LadderStep) for s in source):
        return list(source)
    if hasattr(source, "messages") and hasattr(source, "entries"):
        return _from_transcript(source)
    if hasattr(source, "records") and hasattr(source, "handshake"):
        return _from_capture(source)
    raise LocalProtocolError(f"draw a Transcript or a CapturedSession, not a {type(source).__name__}")


def draw_ladder(
    source: Any,
    ax: Axes | None = None,
    *,
    title: str | None = None,
    show_steps: bool = True,
    show_notes: bool = True,
) -> Axes:
    """Draw the message ladder of ``source``; returns the Axes.

    Client lane on the left, server lane on the right, time flowing down. Encrypted
    messages are dashed and red; alerts are orange. With ``show_steps`` the left margin
    numbers each arrow with its step among :data:`SEVEN_STEPS`. Artists carry gids
    ``arrow-<n>`` and ``label-<n>`` (n = position in :func:`ladder_steps`).
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    steps = ladder_steps(source)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.36 * len(steps) + 1.2), dpi=80)
    left, right = 0.0, 1.0
    bottom = len(steps) + 0.3
    ax.set_xlim(-0.32, 1.12)
    ax.set_ylim(bottom, -1.0)
    ax.set_axis_off()
    for x, lane in ((left, "client"), (right, "server")):
        ax.plot([x, x], [-0.4, bottom], color="#555555", linewidth=1.5)
        ax.text(x, -0.6, lane, ha="center", va="bottom", fontsize=11, fontweight="bold")
    previous_step = 0
    for index, step in enumerate(steps):
        y = index + 0.5
        start, end = (left, right) if step.sender == "client" else (right, left)
        if step.is_alert:
            colour = ALERT_COLOUR
        else:
            colour = ENCRYPTED_COLOUR if step.encrypted else CLEAR_COLOUR
        arrow = ax.annotate(
            "",
            xy=(end, y),
            xytext=(start, y),
            arrowprops={
                "arrowstyle": "-|>",
                "color": colour,
                "linestyle": "--" if step.encrypted else "-",
                "linewidth": 1.4,
                "shrinkA": 0,
                "shrinkB": 0,
            },
        )
        arrow.set_gid(f"arrow-{index}")
        label = step.name + (" [encrypted]" if step.encrypted else "")
        if show_notes and step.note and len(step.note) < 48:
            label += f"  ({step.note})"
        text = ax.text(0.5, y - 0.08, label, ha="center", va="bottom", fontsize=8, color=colour)
        text.set_gid(f"label-{index}")
        if show_steps and step.step != previous_step:
            ax.text(-0.3, y, f"step {step.step}", ha="left", va="center", fontsize=8, color="#555555")
            previous_step = step.step
    ax.legend(
        handles=[
            Line2D([], [], color=CLEAR_COLOUR, label="in clear"),
            Line2D([], [], color=ENCRYPTED_COLOUR, linestyle="--", label="encrypted"),
            Line2D([], [], color=ALERT_COLOUR, label="alert"),
        ],
        loc="lower center",
        bbox_to_anchor=(0.5, -0.02),
        ncol=3,
        fontsize=8,
        frameon=False,
    )
    if title:
        ax.set_title(title, fontsize=10)
    return ax
