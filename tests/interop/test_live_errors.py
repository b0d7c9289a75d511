"""``https_get`` (notebook helper) returns every client failure in ``LiveSession.error``.

A socket error — the recording relay refusing the connection, the server resetting it —
must not crash a notebook cell with a raw OSError traceback: it comes back as a
TransportError (a TLSError) that says what failed and to run the cell again, like the
TLS errors that notebook 07's ``refused = https_get(...)`` cell relies on.
"""

from __future__ import annotations

import socket

import pytest

from httpslab.errors import AlertReceived, TLSError, TransportError
from httpslab.io import TLSSession
from httpslab.notebook import live
from httpslab.relay import RecordingRelay

pytestmark = pytest.mark.interop


class _RelayThatStopsListening(RecordingRelay):
    """A relay whose listener is gone by the time the client connects (a real refusal)."""

    def start(self) -> RecordingRelay:
        super().start()
        self.close()  # the accept loop ends and the listener is closed: the port refuses
        return self


def test_a_refused_relay_connection_is_a_transport_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "RecordingRelay", _RelayThatStopsListening)
    result = live.https_get(timeout=1.0)  # must not raise
    assert isinstance(result.error, TransportError)
    assert isinstance(result.error.__cause__, ConnectionRefusedError)
    message = str(result.error)
    assert "connecting to the recording relay at 127.0.0.1:" in message
    assert "run the cell again" in message
    assert not result.ok
    assert result.response == b"" and result.keylog_text == ""


def test_a_reset_during_the_session_is_a_transport_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def reset(self: TLSSession, data: bytes) -> None:
        raise ConnectionResetError(104, "Connection reset by peer")

    monkeypatch.setattr(TLSSession, "send", reset)
    result = live.https_get(timeout=2.0)  # must not raise
    assert isinstance(result.error, TransportError)
    assert isinstance(result.error.__cause__, ConnectionResetError)
    assert "broke" in str(result.error) and "run the cell again" in str(result.error)
    assert result.keylog_text.startswith("CLIENT_RANDOM ")  # the handshake itself had finished
    assert result.session is not None and result.session.closed


def test_a_real_broken_pipe_during_the_session_is_a_transport_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # the socket really fails: TLSSession.send raises TransportError (cause BrokenPipeError)
    # and https_get reports it as it reported the raw OSError, with "run the cell again"
    send = TLSSession.send

    def send_on_a_closed_socket(self: TLSSession, data: bytes) -> None:
        self.socket.shutdown(socket.SHUT_WR)
        send(self, data)

    monkeypatch.setattr(TLSSession, "send", send_on_a_closed_socket)
    result = live.https_get(timeout=2.0)  # must not raise
    assert type(result.error) is TransportError
    assert isinstance(result.error.__cause__, BrokenPipeError)
    message = str(result.error)
    assert "broke (BrokenPipeError: sending to the peer failed: Broken pipe)" in message
    assert "run the cell again" in message
    assert result.session is not None and result.session.closed


def test_tls_errors_still_come_back_as_they_are() -> None:
    # what notebook 07's "refused" cell relies on: the server's real alert, no exception
    refused = live.https_get(require_client_cert=True, client_cert=False)
    assert isinstance(refused.error, TLSError) and not isinstance(refused.error, TransportError)
    assert isinstance(refused.error, AlertReceived)
    assert refused.alert is not None and refused.alert.name == "HANDSHAKE_FAILURE"
    assert refused.transcript.find("Certificate", sender="client").decoded.certificate_list == ()


def test_hello_probe_to_a_closed_port_is_a_transport_error() -> None:
    with socket.socket() as probe:  # a port nothing listens on (bound a moment ago, released)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(
        TransportError, match=rf"^connecting to 127\.0\.0\.1:{port} failed: Connection refused$"
    ) as info:
        live.hello_probe(port, ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"])
    assert isinstance(info.value.__cause__, ConnectionRefusedError)
