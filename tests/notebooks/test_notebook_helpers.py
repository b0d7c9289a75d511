"""Tests for the notebook helpers of notebooks 00/01/07/08: hex view, ladder, live sessions, widgets.

Headless: matplotlib's Agg backend, ipywidgets without a front end. The widgets are driven by
setting their controls as a learner would; their update functions are checked on their own.
Sessions are real (OpenSSL on 127.0.0.1), so the facts asserted come from real peers.
"""

from __future__ import annotations

import html
import itertools
import re
from pathlib import Path

import matplotlib
import pytest

from httpslab.capture import analyze_capture
from httpslab.crypto.suites import suite_info
from httpslab.enums import AlertDescription, CipherSuite, ContentType, ProtocolVersion
from httpslab.errors import LocalProtocolError, TLSError
from httpslab.keylog import KeyLog
from httpslab.messages import ClientHello, decode_handshake, encode_handshake, field_spans
from httpslab.notebook import handshake_widgets as hw
from httpslab.notebook.hexview import (
    HexView,
    hexview,
    parts_view,
    segments,
    segments_from_spans,
)
from httpslab.notebook.ladder import (
    ENCRYPTED_COLOUR,
    LadderStep,
    draw_ladder,
    ladder_steps,
    step_of,
)
from httpslab.notebook.live import (
    build_client_hello,
    connection_keys,
    https_get,
    seeded_random,
)
from httpslab.peers.openssl import RecordedSession, record_session
from httpslab.record import RecordProtection
from httpslab.transcript import Transcript

SUITE = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def recorded() -> RecordedSession:
    return record_session(SUITE)


@pytest.fixture(scope="module")
def captured(recorded: RecordedSession):  # type: ignore[no-untyped-def]
    return analyze_capture(recorded.client_to_server, recorded.server_to_client, recorded.keylog)


@pytest.fixture(scope="module")
def live():  # type: ignore[no-untyped-def]
    session = https_get(SUITE, seed=7)
    assert session.ok, session.error
    return session


@pytest.fixture
def client_hello() -> tuple[ClientHello, bytes]:
    hello, record = build_client_hello([SUITE, "TLS_RSA_WITH_AES_256_CBC_SHA256"], seed=3)
    return hello, record[5:]


# ------------------------------------------------------------------------------ hex view
def test_segments_label_every_byte_once_and_in_order(client_hello: tuple[ClientHello, bytes]) -> None:
    hello, raw = client_hello
    found = segments(hello, raw)
    assert found[0].start == 0 and found[-1].end == len(raw)
    for before, after in itertools.pairwise(found):
        assert before.end == after.start  # contiguous, no overlap
    assert b"".join(s.data for s in found) == raw
    assert all(s.label != "(unlabelled)" for s in found)


def test_segment_labels_are_the_codec_field_names(client_hello: tuple[ClientHello, bytes]) -> None:
    hello, raw = client_hello
    view = hexview(hello, raw)
    spans = {span.name: span for span in field_spans(hello)}
    random_span = spans["random"]
    assert all(view.label_of(i) == "random" for i in range(random_span.start, random_span.end))
    assert view.label_of(0) == "msg_type" and view.label_of(1) == "length"
    assert view.label_of(spans["cipher_suites"].start) == "cipher_suites"
    # the bytes of the extensions vector not covered by any extension are its length prefix
    extensions = spans["extensions"]
    assert view.label_of(extensions.start) == "extensions (length)"
    assert (
        int.from_bytes(raw[extensions.start : extensions.start + 2], "big")
        == extensions.end - extensions.start - 2
    )
    sni = next(s for s in view.segments if s.label == "extension SERVER_NAME · data")
    assert "localhost" in sni.description


def test_extensions_and_certificates_are_split_into_their_parts(
    client_hello: tuple[ClientHello, bytes], captured
) -> None:  # type: ignore[no-untyped-def]
    hello, raw = client_hello
    by_label = {s.label: s for s in segments(hello, raw)}
    for extension in hello.extensions:
        name = f"extension {extension.type.name}"
        kind, length = by_label[f"{name} · type"], by_label[f"{name} · length"]
        assert int.from_bytes(kind.data, "big") == extension.type
        data = by_label.get(f"{name} · data")
        assert int.from_bytes(length.data, "big") == (data.length if data else 0)
        assert kind.color == length.color  # one colour per extension
    certificate = next(e for e in captured.handshake if type(e.message).__name__ == "Certificate")
    parts = {s.label: s for s in segments(certificate.message, certificate.raw)}
    der = parts["certificate[0] · DER"]
    assert der.data == certificate.message.certificate_list[0]
    assert int.from_bytes(parts["certificate[0] · length"].data, "big") == der.length


def test_hexview_html_has_titles_colours_and_a_legend(client_hello: tuple[ClientHello, bytes]) -> None:
    hello, raw = client_hello
    view = hexview(hello, raw)
    page = view._repr_html_()
    groups = {s.label.split(" · ")[0] for s in view.segments}
    # one hover title per segment piece, naming its exact part; one legend row per field
    assert page.count('title="') >= len(view.segments)
    for segment in view.segments:
        assert f'title="{html.escape(segment.label)}: bytes {segment.start}–' in page
    for group in groups:
        assert page.count(f"<code>{html.escape(group)}</code>") == 1
    # the hex shown is exactly the message
    shown = "".join(re.findall(r'class="hx-seg"[^>]*>([0-9a-f ]+)</span>', page)).replace(" ", "")
    assert bytes.fromhex(shown) == raw
    assert 'class="httpslab-hexview"' in page


def test_hexview_text_fallback_lists_every_segment(client_hello: tuple[ClientHello, bytes]) -> None:
    hello, raw = client_hello
    view = hexview(hello, raw)
    text = str(view)
    for segment in view.segments:
        assert f"{segment.start:04x}-{segment.end - 1:04x}  {segment.label}" in text


def test_hexview_refuses_bytes_that_are_not_the_message(client_hello: tuple[ClientHello, bytes]) -> None:
    hello, raw = client_hello
    changed = bytearray(raw)
    changed[-1] ^= 1
    with pytest.raises(LocalProtocolError):
        segments(hello, bytes(changed))


def test_hexview_max_bytes_truncates(client_hello: tuple[ClientHello, bytes]) -> None:
    hello, raw = client_hello
    view = hexview(hello, raw, max_bytes=20)
    assert view.shown == 20 and view.total == len(raw)
    assert f"{len(raw) - 20} more bytes not shown" in view._repr_html_()
    assert "more bytes not shown" in view.text()


def test_segments_from_spans_nesting_and_gaps() -> None:
    raw = bytes(range(10))
    found = segments_from_spans(raw, [("outer", 0, 8), ("inner", 2, 5)])
    assert [(s.label, s.start, s.end) for s in found] == [
        ("outer (length)", 0, 2),
        ("inner", 2, 5),
        ("outer (length)", 5, 8),
        ("(unlabelled)", 8, 10),
    ]
    with pytest.raises(LocalProtocolError):
        segments_from_spans(raw, [("too long", 0, 11)])


def test_parts_view_of_a_sealed_record() -> None:
    info = suite_info(CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)
    protection = RecordProtection(info, bytes(16), bytes(4))
    sealed = protection.seal_detailed(ContentType.APPLICATION_DATA, 0x0303, b"hello")
    view = parts_view(sealed.parts(), title="record")
    assert isinstance(view, HexView)
    assert [s.label for s in view.segments] == [label for label, _ in sealed.parts()]
    assert b"".join(s.data for s in view.segments) == sealed.record


def test_hexview_of_real_messages(captured) -> None:  # type: ignore[no-untyped-def]
    for entry in captured.handshake:
        view = hexview(entry.message, entry.raw)
        assert view.total == len(entry.raw)


# ------------------------------------------------------------------------------ ladder
def _fake_transcript() -> Transcript:
    transcript = Transcript()
    transcript.add("client", "record", "handshake record", b"\x16\x03\x03\x00\x01\x01")
    transcript.add("client", "handshake", "ClientHello", b"\x01\x00\x00\x00")
    transcript.add("server", "handshake", "ServerHello", b"\x02\x00\x00\x00")
    transcript.add("client", "application_data", "application data", b"GET /", encrypted=True)
    transcript.add("server", "alert", "Alert close_notify", b"\x01\x00", encrypted=True)
    return transcript


def test_ladder_steps_from_a_transcript_skip_records() -> None:
    steps = ladder_steps(_fake_transcript())
    assert [(s.sender, s.name, s.encrypted) for s in steps] == [
        ("client", "ClientHello", False),
        ("server", "ServerHello", False),
        ("client", "application data (5 bytes)", True),
        ("server", "Alert close_notify", True),
    ]
    assert [s.step for s in steps] == [1, 2, 6, 7]


def test_step_of_names() -> None:
    assert step_of("Certificate") == 3
    assert step_of("ClientKeyExchange") == 4
    assert step_of("Finished") == 5
    assert step_of("Alert handshake_failure") == 2
    assert step_of("Alert close_notify") == 7


def test_draw_ladder_draws_one_arrow_per_step_with_encrypted_dashed() -> None:
    import matplotlib.pyplot as plt

    steps = ladder_steps(_fake_transcript())
    ax = draw_ladder(steps, title="t")
    arrows = {
        child.get_gid(): child for child in ax.get_children() if (child.get_gid() or "").startswith("arrow-")
    }
    assert len(arrows) == len(steps)
    application = arrows["arrow-2"].arrow_patch
    assert application.get_linestyle() == "--"
    assert matplotlib.colors.to_hex(application.get_edgecolor()) == ENCRYPTED_COLOUR
    assert arrows["arrow-0"].arrow_patch.get_linestyle() == "-"
    # client arrows point right (to the server lane at x=1), server arrows left
    assert arrows["arrow-0"].xy[0] == 1.0 and arrows["arrow-1"].xy[0] == 0.0
    plt.close(ax.figure)


def test_draw_ladder_on_a_given_axes() -> None:
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots()
    assert draw_ladder([LadderStep("client", "ClientHello", False, 4)], ax=ax) is ax
    plt.close(figure)


def test_ladder_refuses_other_objects() -> None:
    with pytest.raises(LocalProtocolError):
        ladder_steps("not a transcript")


def test_ladder_note_counts_the_offered_suites_in_singular_and_plural(live) -> None:  # type: ignore[no-untyped-def]
    one = next(s for s in ladder_steps(live.transcript) if s.name == "ClientHello")
    assert one.note == "1 cipher suite offered"
    three = https_get(
        [SUITE, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256"], seed=7
    )
    assert three.ok, three.error
    many = next(s for s in ladder_steps(three.transcript) if s.name == "ClientHello")
    assert many.note == "3 cipher suites offered"


def test_ladder_from_a_capture_matches_the_records(captured) -> None:  # type: ignore[no-untyped-def]
    steps = ladder_steps(captured)
    names = [s.name for s in steps]
    assert names[:2] == ["ClientHello", "ServerHello"]
    assert names.count("Finished") == 2 and names.count("Alert close_notify") == 2
    assert all(s.encrypted for s in steps if s.name.startswith("application data"))


# ------------------------------------------------------------------------------ live sessions
def test_seeded_random_repeats() -> None:
    assert seeded_random(5)(32) == seeded_random(5)(32)
    assert seeded_random(5)(32) != seeded_random(6)(32)


def test_build_client_hello_sets_version_and_suites() -> None:
    hello, record = build_client_hello(["TLS_RSA_WITH_AES_128_GCM_SHA256"], ProtocolVersion.TLS1_1, seed=1)
    assert hello.legacy_version == ProtocolVersion.TLS1_1
    assert hello.cipher_suites[0] == CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256
    assert record[0] == ContentType.HANDSHAKE and decode_handshake(record[5:]) == hello
    assert encode_handshake(hello) == record[5:]
    assert build_client_hello(["TLS_RSA_WITH_AES_128_GCM_SHA256"], seed=1)[0].random == hello.random


@pytest.mark.interop
def test_https_get_both_views_agree(live) -> None:  # type: ignore[no-untyped-def]
    assert live.response.startswith(b"HTTP/1.1 200 OK")
    captured = analyze_capture(live.client_to_server, live.server_to_client, KeyLog.parse(live.keylog_text))
    assert captured.application_data("client") == live.request
    assert captured.application_data("server") == live.response
    assert live.request not in live.client_to_server
    assert live.transcript.secrets.client_random == seeded_random(7)(32)
    assert all(live.keys_while_open.values())
    assert not any(connection_keys(live.session.connection).values())
    assert live.alert is None


@pytest.mark.interop
def test_https_get_reports_the_real_alert_without_client_certificate() -> None:
    session = https_get(SUITE, require_client_cert=True, client_cert=False)
    assert not session.ok and isinstance(session.error, TLSError)
    assert session.alert == AlertDescription.HANDSHAKE_FAILURE
    assert "PEER_DID_NOT_RETURN_A_CERTIFICATE" in (session.server_error or "")


# ------------------------------------------------------------------------------ update functions
@pytest.mark.interop
def test_hello_update_picks_by_client_order_or_alerts() -> None:
    chosen = hw.hello_update(
        ["TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"], ["TLS 1.2"]
    )
    assert chosen.chosen_suite == CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
    assert chosen.server_messages[-1] == "SERVER_HELLO_DONE"
    refused = hw.hello_update(["TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"], ["TLS 1.2"])
    assert refused.chosen_suite is None and refused.alert == AlertDescription.HANDSHAKE_FAILURE
    old = hw.hello_update(["TLS_RSA_WITH_AES_256_CBC_SHA256"], ["TLS 1.0"])
    assert old.alert == AlertDescription.PROTOCOL_VERSION


def test_hello_update_needs_a_suite_and_a_version() -> None:
    with pytest.raises(LocalProtocolError):
        hw.hello_update([], ["TLS 1.2"])
    with pytest.raises(LocalProtocolError):
        hw.hello_update([SUITE], [])
    with pytest.raises(LocalProtocolError):
        hw.hello_update([SUITE], ["SSL 2.0"])


def test_finished_update_detects_any_flipped_byte(captured) -> None:  # type: ignore[no-untyped-def]
    unchanged = hw.finished_update(captured, 0, 0)
    assert unchanged.original_verify_data == unchanged.received_verify_data
    for index, entry in enumerate(captured.handshake[:3]):
        result = hw.finished_update(captured, index, len(entry.raw) - 1)
        assert not result.still_matches
        assert result.changed_hash != result.original_hash
    with pytest.raises(LocalProtocolError):
        hw.finished_update(captured, 99, 0)
    with pytest.raises(LocalProtocolError):
        hw.finished_update(captured, 0, 10_000)


def test_record_update_shows_wire_and_plaintext(captured) -> None:  # type: ignore[no-untyped-def]
    views = [hw.record_update(captured, i) for i in range(len(captured.records))]
    first = views[0]
    assert not first.encrypted and first.wire[5:] == first.plaintext and first.summary == "ClientHello"
    data = [v for v in views if v.content_type == "application_data"]
    assert data and all(v.encrypted and v.plaintext not in v.wire for v in data)
    assert data[0].summary.startswith("GET /")
    closing = [v for v in views if v.content_type == "alert"]
    assert {v.summary for v in closing} == {"Alert close_notify"}
    with pytest.raises(LocalProtocolError):
        hw.record_update(captured, len(captured.records))


# ------------------------------------------------------------------------------ widgets
def test_finished_widget_follows_its_controls(captured) -> None:  # type: ignore[no-untyped-def]
    widget = hw.finished_widget(captured)
    assert "httpslab-finished" in widget._dom_classes
    assert widget.message.description and widget.offset.description
    widget.message.value = 1
    assert widget.result.message_name.endswith("ServerHello")
    assert widget.offset.max == len(captured.handshake[1].raw) - 1
    widget.offset.value = 10
    assert widget.result.offset == 10 and "no longer matches" in widget.output.value


def test_record_widget_follows_its_picker(captured) -> None:  # type: ignore[no-untyped-def]
    widget = hw.record_widget(captured)
    assert "httpslab-record-picker" in widget._dom_classes
    last = len(captured.records) - 1
    widget.picker.value = last
    assert widget.result.position == last and "close_notify" in widget.output.value


@pytest.mark.interop
def test_hello_widget_recomputes_on_change() -> None:
    widget = hw.hello_widget()
    assert "httpslab-hello" in widget._dom_classes
    widget.suites.value = ("TLS_RSA_WITH_AES_256_CBC_SHA256",)
    assert widget.result.chosen_suite == CipherSuite.TLS_RSA_WITH_AES_256_CBC_SHA256
    widget.versions.value = ("TLS 1.1",)
    assert widget.result.alert == AlertDescription.PROTOCOL_VERSION
    assert "protocol_version" in widget.outcome.value
    widget.suites.value = ()
    assert widget.result is None and "at least one" in widget.outcome.value


@pytest.mark.interop
def test_connection_widget_redraws_for_the_chosen_suite() -> None:
    widget = hw.connection_widget(suites=(SUITE, "TLS_RSA_WITH_AES_128_GCM_SHA256"))
    assert "httpslab-connection" in widget._dom_classes
    first_picture = bytes(widget.output.value)
    assert first_picture.startswith(b"\x89PNG")
    widget.suite.value = "TLS_RSA_WITH_AES_128_GCM_SHA256"
    assert widget.result.transcript.secrets.cipher_suite == CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256
    assert "ServerKeyExchange" not in [s.name for s in ladder_steps(widget.result.transcript)]
    assert bytes(widget.output.value) != first_picture


@pytest.mark.interop
def test_mutual_tls_widget_toggles_between_success_and_alert() -> None:
    widget = hw.mutual_tls_widget()
    assert "httpslab-mutual-tls" in widget._dom_classes
    assert widget.result.ok
    widget.send_certificate.value = False
    assert widget.result.alert == AlertDescription.HANDSHAKE_FAILURE
    assert "handshake_failure" in widget.output.value


# ------------------------------------------------------------------------------ notebook hygiene
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
MY_NOTEBOOKS = [
    "00_https_at_a_glance.ipynb",
    "01_hello_messages.ipynb",
    "07_finished_and_mutual_tls.ipynb",
    "08_closing_and_capture.ipynb",
]


@pytest.mark.parametrize("name", MY_NOTEBOOKS)
def test_notebook_follows_the_shared_conventions(name: str) -> None:
    """Guarded first cell, widget cells marked for nbval, asserts, small stored outputs."""
    import nbformat

    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    first = code_cells[0].source
    assert "except ModuleNotFoundError" in first and 'pip install -e ".[notebook]"' in first
    for cell in code_cells:
        assert "TODO" not in cell.source
        assert cell.execution_count is not None, "execute the notebook and store its outputs"
        shows_widget = any(
            "application/vnd.jupyter.widget-view+json" in output.get("data", {}) for output in cell.outputs
        )
        if shows_widget:
            assert cell.source.splitlines()[0] == "# NBVAL_IGNORE_OUTPUT"
        for output in cell.outputs:
            png = output.get("data", {}).get("image/png", "")
            assert len(png) * 3 // 4 < 100_000, "stored PNG over 100 KB"
            assert output.get("output_type") != "error"
    assert sum("assert " in cell.source for cell in code_cells) >= 4
    assert "widgets" not in notebook.metadata  # no stored widget state (it holds images)
    assert notebook.cells[0].cell_type == "markdown" and "After this notebook" in notebook.cells[0].source
    assert "## Summary" in notebook.cells[-1].source and "## Try this" in notebook.cells[-1].source


def test_setup_notebook_sets_a_modest_resolution() -> None:
    from httpslab.notebook._setup import setup_notebook

    setup_notebook(dpi=72)
    assert matplotlib.rcParams["figure.dpi"] == 72 and matplotlib.rcParams["savefig.dpi"] == 72
    setup_notebook()
    assert matplotlib.rcParams["figure.dpi"] == 80
