"""Widgets for notebooks 00, 01, 07 and 08: thin ipywidgets over pure "update" functions.

Each widget is an ``ipywidgets.VBox`` (made by a ``*_widget`` function) that exposes its controls and its output area as
attributes (so tests and browser tests can find them) and carries a CSS class
``httpslab-<name>``. The work is done by an update function that returns data and can be
called, tested and benchmarked without a browser:

- :func:`connection_update` (00): one real HTTPS GET with the chosen suite
  (:func:`httpslab.notebook.live.https_get`);
- :func:`hello_update` (01): one ClientHello with the chosen suites and version against a real
  ``openssl s_server`` with a fixed suite list (RFC 5246 §7.4.1.2-3): the suite it picks or
  its alert;
- :func:`finished_update` (07, no network): flip one byte of one handshake message of a
  captured session and recompute the transcript hash and verify_data (RFC 5246 §7.4.9);
- :func:`mutual_tls_update` (07): a server that requires a client certificate, with or
  without one (RFC 5246 §7.4.4, §7.4.6, §7.4.8);
- :func:`record_update` (08, no network): one record of a captured session, as the
  eavesdropper saw it and as the key log opens it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..capture import CapturedSession
from ..crypto.keyschedule import transcript_hash, verify_data
from ..crypto.suites import parse_suite_name
from ..enums import ContentType, HandshakeType
from ..errors import LocalProtocolError
from .live import VERSIONS, HelloProbe, LiveSession, hello_probe, https_get
from .panel import load_ipywidgets, saved_figure_png

__all__ = [
    "DEMO_SUITES",
    "SERVER_SUITES",
    "FinishedResult",
    "RecordView",
    "connection_update",
    "connection_widget",
    "finished_update",
    "finished_widget",
    "hello_update",
    "hello_widget",
    "mutual_tls_update",
    "mutual_tls_widget",
    "record_update",
    "record_widget",
]

#: suites the notebook widgets offer (IANA names), one per key exchange and cipher family
DEMO_SUITES: tuple[str, ...] = (
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
)

#: the fixed suite list of notebook 01's openssl s_server (OpenSSL names, in its order)
SERVER_SUITES: tuple[str, ...] = (
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA256",
)


# =============================================================================== 00: connect
def connection_update(suite: str, seed: int = 2024) -> LiveSession:
    """One HTTPS GET with ``suite`` (network: loopback, real OpenSSL server)."""
    return https_get(suite, seed=seed)


def connection_widget(suites: Sequence[str] = DEMO_SUITES, seed: int = 2024) -> Any:
    widgets = load_ipywidgets()
    from .ladder import draw_ladder

    suite = widgets.Dropdown(options=list(suites), value=suites[0], description="cipher suite")
    suite.layout.width = "560px"
    suite.style.description_width = "initial"
    status = widgets.HTML()
    output = widgets.Image(format="png")
    box = widgets.VBox([suite, status, output])
    box.add_class("httpslab-connection")
    box.suite = suite
    box.status = status
    box.output = output
    box.result = None

    def run(_change: Any = None) -> LiveSession:
        result = connection_update(suite.value, seed)
        box.result = result
        if result.ok:
            first_line = result.response.split(b"\r\n")[0].decode("ascii", "replace")
            status.value = (
                f"negotiated <b>{result.transcript.secrets.cipher_suite.name}</b>; "
                f"{len(result.client_to_server) + len(result.server_to_client)} bytes crossed the wire; "
                f"the answer starts <code>{first_line}</code>"
            )
        else:
            status.value = f"the handshake failed: {result.error}"
        ax = draw_ladder(result.transcript, title=suite.value)
        output.value = saved_figure_png(ax.figure)
        return result

    box.run = run
    suite.observe(run, names="value")
    run()
    return box


# =========================================================================== 01: hellos
def hello_update(
    suites: Sequence[str],
    versions: Sequence[str],
    server_suites: Sequence[str] = SERVER_SUITES,
) -> HelloProbe:
    """Offer ``suites`` at the highest of ``versions`` to ``openssl s_server -cipher <server_suites>``.

    Network (loopback): starts the server, sends one ClientHello, reads the answer, stops
    the server. Raises LocalProtocolError when nothing is offered (RFC 5246 §7.4.1.2 needs
    at least one suite; a TLS 1.2 hello names one version, the highest it supports).
    """
    from ..crypto.suites import suite_info
    from ..peers.openssl import openssl_s_server

    if not suites:
        raise LocalProtocolError("tick at least one cipher suite: a ClientHello must offer one")
    if not versions:
        raise LocalProtocolError("tick at least one protocol version")
    unknown = [v for v in versions if v not in VERSIONS]
    if unknown:
        raise LocalProtocolError(f"unknown version(s) {unknown}; choose from {list(VERSIONS)}")
    highest = max(VERSIONS[v] for v in versions)
    cipher_string = ":".join(suite_info(parse_suite_name(s)).openssl_name for s in server_suites)
    with openssl_s_server(None, extra_args=["-cipher", cipher_string]) as server:
        return hello_probe(server.port, suites, highest)


def hello_widget(
    offered: Sequence[str] = DEMO_SUITES,
    server_suites: Sequence[str] = SERVER_SUITES,
    initial: Sequence[str] = (
        "TLS_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    ),
) -> Any:
    widgets = load_ipywidgets()
    suites = widgets.SelectMultiple(
        options=list(offered), value=tuple(initial), rows=len(offered), description="client suites"
    )
    suites.layout.width = "560px"
    suites.style.description_width = "initial"
    versions = widgets.SelectMultiple(
        options=list(VERSIONS), value=("TLS 1.2",), rows=len(VERSIONS), description="client versions"
    )
    versions.style.description_width = "initial"
    outcome = widgets.HTML()
    box = widgets.VBox([suites, versions, outcome])
    box.add_class("httpslab-hello")
    box.suites = suites
    box.versions = versions
    box.outcome = outcome
    box.result = None
    box.server_suites = tuple(server_suites)

    def run(_change: Any = None) -> HelloProbe | None:
        try:
            result = hello_update(suites.value, versions.value, server_suites)
        except LocalProtocolError as exc:
            box.result = None
            outcome.value = f"<i>{exc}</i>"
            return None
        box.result = result
        colour = "green" if result.chosen_suite is not None else "#d62728"
        messages = ", ".join(result.server_messages) or "(no handshake message)"
        outcome.value = (
            f'<span style="color:{colour}"><b>{result.outcome}</b></span><br>'
            f"server's answer: {messages} — {len(result.server_bytes)} bytes"
        )
        return result

    box.run = run
    suites.observe(run, names="value")
    versions.observe(run, names="value")
    run()
    return box


# ====================================================================== 07: Finished
@dataclass(frozen=True)
class FinishedResult:
    """The client's verify_data, from the real transcript and from a changed one."""

    message_name: str
    offset: int
    transcript_length: int
    original_hash: bytes
    changed_hash: bytes
    received_verify_data: bytes
    original_verify_data: bytes
    changed_verify_data: bytes

    @property
    def still_matches(self) -> bool:
        return self.changed_verify_data == self.received_verify_data


def _client_finished_transcript(captured: CapturedSession) -> list[tuple[str, bytes]]:
    """(name, raw) of each handshake message the client's Finished covers (RFC 5246 §7.4.9)."""
    covered: list[tuple[str, bytes]] = []
    for entry in captured.handshake:
        if entry.msg_type == HandshakeType.FINISHED and entry.sender == "client":
            return covered
        covered.append((f"{entry.sender} {type(entry.message).__name__}", entry.raw))
    raise LocalProtocolError("the capture has no client Finished")


def finished_update(captured: CapturedSession, message_index: int, offset: int) -> FinishedResult:
    """Flip the bits of byte ``offset`` of message ``message_index``; recompute verify_data.

    No network: the master secret and the messages come from the capture.
    """
    covered = _client_finished_transcript(captured)
    if not 0 <= message_index < len(covered):
        raise LocalProtocolError(f"message_index must be in 0..{len(covered) - 1}")
    name, raw = covered[message_index]
    if not 0 <= offset < len(raw):
        raise LocalProtocolError(f"offset must be in 0..{len(raw) - 1} for {name}")
    changed = bytearray(raw)
    changed[offset] ^= 0xFF
    prf_hash = captured.suite.prf_hash
    original = b"".join(r for _, r in covered)
    altered = b"".join(bytes(changed) if i == message_index else r for i, (_, r) in enumerate(covered))
    original_hash = transcript_hash(original, prf_hash)
    changed_hash = transcript_hash(altered, prf_hash)
    return FinishedResult(
        message_name=name,
        offset=offset,
        transcript_length=len(original),
        original_hash=original_hash,
        changed_hash=changed_hash,
        received_verify_data=captured.finished["client"][0],
        original_verify_data=verify_data(captured.master_secret, "client", original_hash, prf_hash),
        changed_verify_data=verify_data(captured.master_secret, "client", changed_hash, prf_hash),
    )


def finished_widget(captured: CapturedSession) -> Any:
    widgets = load_ipywidgets()
    covered = _client_finished_transcript(captured)
    message = widgets.Dropdown(
        options=[(f"{i}: {name} ({len(raw)} bytes)", i) for i, (name, raw) in enumerate(covered)],
        value=0,
        description="message",
    )
    offset = widgets.IntSlider(value=6, min=0, max=len(covered[0][1]) - 1, description="byte to flip")
    offset.style.description_width = "initial"
    output = widgets.HTML()
    box = widgets.VBox([message, offset, output])
    box.add_class("httpslab-finished")
    box.message = message
    box.offset = offset
    box.output = output
    box.result = None

    def run(_change: Any = None) -> FinishedResult:
        offset.max = len(covered[message.value][1]) - 1
        result = finished_update(captured, message.value, min(offset.value, offset.max))
        box.result = result
        verdict = (
            "still matches (impossible!)" if result.still_matches else "no longer matches: Finished fails"
        )
        output.value = (
            "<pre>"
            f"flipped byte {result.offset} of {result.message_name}\n"
            f"transcript hash, real:     {result.original_hash.hex()}\n"
            f"transcript hash, changed:  {result.changed_hash.hex()}\n"
            f"verify_data received:      {result.received_verify_data.hex()}\n"
            f"verify_data, real:         {result.original_verify_data.hex()}\n"
            f"verify_data, changed:      {result.changed_verify_data.hex()}  → {verdict}"
            "</pre>"
        )
        return result

    box.run = run
    message.observe(run, names="value")
    offset.observe(run, names="value")
    run()
    return box


def mutual_tls_update(send_certificate: bool, suite: str = DEMO_SUITES[0]) -> LiveSession:
    """A server that requires a client certificate; the client has one or not (network)."""
    return https_get(suite, require_client_cert=True, client_cert=send_certificate)


def mutual_tls_widget() -> Any:
    widgets = load_ipywidgets()
    send = widgets.Checkbox(value=True, description="send client certificate")
    send.style.description_width = "initial"
    output = widgets.HTML()
    box = widgets.VBox([send, output])
    box.add_class("httpslab-mutual-tls")
    box.send_certificate = send
    box.output = output
    box.result = None

    def run(_change: Any = None) -> LiveSession:
        result = mutual_tls_update(send.value)
        box.result = result
        certificate = result.transcript.find("Certificate", sender="client")
        count = len(certificate.decoded.certificate_list)
        if result.ok:
            text = (
                f"client Certificate with {count} certificate(s) → handshake complete; HTTP answer received"
            )
        else:
            alert = result.alert
            name = f"{alert.name.lower()} ({int(alert)})" if alert is not None else "none"
            text = (
                f"client Certificate with {count} certificate(s) → the server's alert: <b>{name}</b>"
                f"<br>OpenSSL on the server said: <code>{result.server_error}</code>"
            )
        output.value = text
        return result

    box.run = run
    send.observe(run, names="value")
    run()
    return box


# ========================================================================= 08: records
@dataclass(frozen=True)
class RecordView:
    """One record of a capture: the eavesdropper's bytes and what the key log opens."""

    position: int
    sender: str
    content_type: str
    encrypted: bool
    sequence_number: int | None
    wire: bytes
    plaintext: bytes
    summary: str


def record_update(captured: CapturedSession, position: int) -> RecordView:
    """The record at ``position`` in the capture's order (no network)."""
    if not 0 <= position < len(captured.records):
        raise LocalProtocolError(f"position must be in 0..{len(captured.records) - 1}")
    record = captured.records[position]
    try:
        content = ContentType(record.content_type).name.lower()
    except ValueError:
        content = str(int(record.content_type))
    if record.content_type == ContentType.APPLICATION_DATA:
        summary = record.plaintext.decode("utf-8", "replace")
    else:
        summary = ", ".join(_message_text(m) for m in record.messages) or "(part of a message)"
    return RecordView(
        position=position,
        sender=record.sender,
        content_type=content,
        encrypted=record.encrypted,
        sequence_number=record.sequence_number,
        wire=record.raw,
        plaintext=record.plaintext,
        summary=summary,
    )


def _message_text(message: Any) -> str:
    name = type(message).__name__
    description = getattr(message, "description", None)
    if name == "Alert" and description is not None:
        return f"Alert {getattr(description, 'name', str(description)).lower()}"
    return name


def record_widget(captured: CapturedSession) -> Any:
    import html

    widgets = load_ipywidgets()
    options = []
    for position, record in enumerate(captured.records):
        view = record_update(captured, position)
        lock = " (encrypted)" if record.encrypted else ""
        options.append((f"{position}: {record.sender} {view.content_type}{lock}", position))
    picker = widgets.Dropdown(options=options, value=0, description="record")
    picker.layout.width = "480px"
    output = widgets.HTML()
    box = widgets.VBox([picker, output])
    box.add_class("httpslab-record-picker")
    box.picker = picker
    box.output = output
    box.result = None

    def run(_change: Any = None) -> RecordView:
        view = record_update(captured, picker.value)
        box.result = view
        wire = view.wire[:80].hex(" ") + (" …" if len(view.wire) > 80 else "")
        opened = view.plaintext[:80].hex(" ") + (" …" if len(view.plaintext) > 80 else "")
        sequence = "—" if view.sequence_number is None else str(view.sequence_number)
        output.value = (
            "<pre>"
            f"{view.sender} → {'server' if view.sender == 'client' else 'client'}, {view.content_type}, "
            f"sequence number {sequence}\n"
            f"on the wire ({len(view.wire)} bytes): {wire}\n"
            f"opened ({len(view.plaintext)} bytes):     {opened}\n"
            f"meaning: {html.escape(view.summary[:300])}"
            "</pre>"
        )
        return view

    box.run = run
    picker.observe(run, names="value")
    run()
    return box
