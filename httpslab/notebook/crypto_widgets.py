"""Widgets and small helpers for notebooks 02–06 (certificates, RSA, DH, keys, records).

Each widget is split in two, so that it can be tested and benchmarked without a browser:

- a pure **update function** that takes plain values and returns a result dataclass (and
  never raises for bad learner input: the result's ``error`` says what is wrong);
- a thin **widget builder** (``*_widget()``) returning a :class:`Panel` — an
  ``ipywidgets.VBox`` whose ``controls`` (dict), ``text`` (HTML), ``output`` (an
  ``ipywidgets.Image`` showing the picture as PNG), last ``result`` and last ``png`` are
  attributes, with the CSS class ``httpslab-<name>``.

Every change of a control is one call of the panel's ``refresh()``: the update function, the
text, and — for the widgets with a picture — the picture redrawn **in place** in a Figure made
once per widget (data and labels of existing artists changed where the picture's layout stays
the same) and encoded to PNG straight from the Agg canvas. ``benchmarks/bench_widgets.py``
measures exactly that path (target: under 100 ms per update, issue 5).

The cryptography is the library's: :mod:`httpslab.pki` (RFC 5280 / RFC 9525 checks),
:mod:`httpslab.keyexchange` (RFC 5246 §7.4.7.1, §8.1.2), :mod:`httpslab.keyschedule`
(RFC 5246 §5, §6.3, §8.1; RFC 7627), :mod:`httpslab.record` (RFC 5246 §6.2.3, RFC 5288,
RFC 7905, RFC 7366). The toy RSA and toy DH widgets use Python integers on purpose: their
numbers are small enough to follow by hand, and are labelled insecure.

Helpers for real sessions: :class:`StreamTamper` (a relay tamper hook that flips one bit at a
located byte and keeps both streams, so the real alert a peer sent can be read back),
and :func:`connect_to_demo_server` (Python ``ssl`` clients against ``openssl s_server`` serving
the demo chain).
"""

from __future__ import annotations

import functools
import html
import io
import ipaddress
import tempfile
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ..capture import cleartext_alerts
from ..enums import CipherSuite, ContentType, HandshakeType
from ..errors import TLSError, TransportError
from ..keyexchange import dh_public, dh_shared_secret, group_from_params
from ..keyschedule import key_block, master_secret
from ..messages import Alert, HandshakeReader
from ..record import RECORD_HEADER_LENGTH, Record, RecordProtection, SealedRecord, split_records
from ..suites import SuiteInfo, suite_info

if TYPE_CHECKING:
    import ipywidgets
    from matplotlib.figure import Figure

    from ..pki.verify import VerificationReport

__all__ = [
    "DEMO_CLIENT_RANDOM",
    "DEMO_PREMASTER",
    "DEMO_RECORD_KEY",
    "DEMO_RECORD_NONCE",
    "DEMO_SERVER_RANDOM",
    "RECORD_SUITES",
    "WIDGET_DPI",
    "WIDGET_RC",
    "ConnectionOutcome",
    "KeyDerivationResult",
    "Panel",
    "RecordResult",
    "StreamTamper",
    "ToyDH",
    "ToyMITM",
    "ToyRSA",
    "avalanche",
    "bit_difference",
    "certificate_check",
    "certificate_widget",
    "connect_to_demo_server",
    "default_record_inputs",
    "derive_keys",
    "figure_png",
    "flip_bit",
    "is_prime",
    "key_block_layout",
    "key_derivation_update",
    "key_derivation_widget",
    "record_update",
    "record_widget",
    "render_certificate",
    "render_key_derivation",
    "render_record",
    "render_toy_dh",
    "seal_demo_record",
    "toy_dh",
    "toy_dh_mitm",
    "toy_dh_widget",
    "toy_rsa",
    "toy_rsa_widget",
]

_P = TypeVar("_P")

# ------------------------------------------------------------------------------ demo values
#: Fixed demo inputs (NOT random: a learner's run matches the stored outputs).
DEMO_CLIENT_RANDOM = bytes(range(0x00, 0x20))
DEMO_SERVER_RANDOM = bytes(range(0x20, 0x40))
DEMO_PREMASTER = b"\x03\x03" + bytes(range(0x40, 0x6E))
DEMO_RECORD_KEY = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
DEMO_RECORD_NONCE = bytes.fromhex("a0a1a2a3b0b1b2b3b4b5b6b7")
DEMO_MAC_KEY = bytes(range(0x80, 0xA0))

#: the record-protection choices of the record widget: label -> (suite, encrypt_then_mac)
RECORD_SUITES: dict[str, tuple[CipherSuite, bool]] = {
    "AES-128-GCM": (CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, False),
    "ChaCha20-Poly1305": (CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, False),
    "AES-128-CBC + HMAC-SHA256, MAC-then-encrypt": (CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, False),
    "AES-128-CBC + HMAC-SHA256, encrypt-then-MAC": (CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, True),
}


# ------------------------------------------------------------------------------ panel
def _ipywidgets() -> Any:
    import ipywidgets

    return ipywidgets


@functools.cache
def _panel_class() -> type:
    widgets = _ipywidgets()

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


def _pre(text: str) -> str:
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

        widgets = _ipywidgets()
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


def _build_panel(
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
    widgets = _ipywidgets()
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
        text.value = _pre(describe(result))
        if picture is not None:
            panel.png = picture.update(result)

    panel.refresh = refresh
    for control_name, control in controls.items():
        if hasattr(control, "value") and control_name not in unwatched:
            control.observe(refresh, names="value")
    refresh()
    return panel


def _figure(figsize: tuple[float, float], figure: Figure | None = None) -> tuple[Figure, Any]:
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


def _picture(figsize: tuple[float, float], figure: Figure | None, kind: type[_P]) -> tuple[Figure, _P]:
    """``figure`` (or a new one) holding a ``kind`` picture (e.g. ToyDHPicture), made once."""
    if figure is None:
        figure, ax = _figure(figsize)
        return figure, kind(ax)  # type: ignore[call-arg]
    picture = _PICTURES.get(figure)
    if not isinstance(picture, kind):
        figure.clear()
        picture = kind(figure.add_subplot())  # type: ignore[call-arg]
        _PICTURES[figure] = picture
    if tuple(figure.get_size_inches()) != figsize:
        figure.set_size_inches(figsize)
    return figure, picture


# ------------------------------------------------------------------------------ bits
def flip_bit(data: bytes, bit: int) -> bytes:
    """``data`` with bit number ``bit`` inverted (bit 0 is the most significant bit of byte 0)."""
    if not 0 <= bit < 8 * len(data):
        raise TLSError(f"bit {bit} is outside a {len(data)}-byte value (0 … {8 * len(data) - 1})")
    index, shift = divmod(bit, 8)
    return data[:index] + bytes([data[index] ^ (0x80 >> shift)]) + data[index + 1 :]


def bit_difference(first: bytes, second: bytes) -> int:
    """How many bits differ between two values of the same length."""
    if len(first) != len(second):
        raise TLSError(f"cannot compare {len(first)} bytes with {len(second)} bytes bit by bit")
    return (int.from_bytes(first, "big") ^ int.from_bytes(second, "big")).bit_count()


def is_prime(n: int) -> bool:
    """Deterministic Miller–Rabin for n < 3.3 · 10^24 (bases 2 … 41); enough for toy numbers."""
    if n < 2:
        return False
    small = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)
    for prime in small:
        if n % prime == 0:
            return n == prime
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for base in small:
        x = pow(base, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


# ============================================================================== 02 certificates
def certificate_check(scenario_name: str, host: str = "", key_type: str = "rsa") -> VerificationReport:
    """Verify the demo scenario ``scenario_name`` as a client that asked for ``host``.

    ``host`` is a DNS name or an IP address (checked against the iPAddress subjectAltNames);
    empty means the scenario's own target. Raises :class:`~httpslab.errors.CertificateError`
    for an unknown scenario or key type.
    """
    from ..pki import scenario, verify_chain

    case = scenario(scenario_name, key_type)  # type: ignore[arg-type]
    host = host.strip()
    server_name, ip_address = case.server_name, case.ip_address
    if host:
        try:
            ipaddress.ip_address(host.strip("[]"))
            server_name, ip_address = None, host.strip("[]")
        except ValueError:
            server_name, ip_address = host, None
    return verify_chain(
        case.leaf,
        case.intermediates,
        case.trust_anchors,
        server_name=server_name,
        ip_address=ip_address,
        at=case.at,
        purpose=case.purpose,
    )


def render_certificate(
    report: VerificationReport, *, figure: Figure | None = None, compact: bool = True
) -> Figure:
    """The chain picture of ``report`` (:func:`httpslab.notebook.pki_plots.draw_chain`) as a Figure.

    ``compact`` (the widget's view, which prints the whole checklist above the picture):
    passed checks summed up per certificate, failed ones named in red.
    """
    from .pki_plots import draw_chain

    rows = max(len(report.chain), 1) + 1
    if compact:
        figure, ax = _figure((7.5, 1.1 * rows), figure)
        figure.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.92)
    else:
        figure, ax = _figure((10, 1.5 * rows), figure)
    draw_chain(report, ax=ax, compact=compact)
    return figure


def certificate_widget(scenario_name: str = "valid", host: str = "127.0.0.1") -> ipywidgets.VBox:
    """Scenario dropdown + host name/IP text → the verification checklist and the chain picture."""
    from ..errors import CertificateError
    from ..pki import SCENARIOS

    widgets = _ipywidgets()
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

    return _build_panel("certificates", controls, compute, describe, render)


@dataclass(frozen=True)
class ConnectionOutcome:
    """One real ``ssl`` connection attempt to the demo server: did the client accept it?"""

    server_hostname: str
    ok: bool
    #: OpenSSL's verification message when the client refused the certificate
    error: str | None
    #: the subjectAltName entries the client saw (empty when it refused)
    subject_alt_names: tuple[tuple[str, str], ...]
    #: how many certificates the server sent in its Certificate message (read off the wire)
    certificates_on_wire: int
    #: the alert the client sent when it refused, read off the wire (None if it accepted)
    client_alert: Alert | None = None


def connect_to_demo_server(server_hostnames: Sequence[str], key_type: str = "rsa") -> list[ConnectionOutcome]:
    """Start ``openssl s_server`` with the demo chain and connect once per name, for real.

    Each client is Python ``ssl`` (OpenSSL) trusting only the demo root, with
    ``check_hostname`` on and ``server_hostname`` set to the name or IP address given; it
    always connects to 127.0.0.1 through a recording relay, so the Certificate message the
    server sent can be counted on the wire.

    A refused certificate is an outcome (``ok`` False, OpenSSL's reason in ``error``). A
    socket that fails raises :class:`~httpslab.errors.TransportError`: one that cannot be
    opened or bound, a relay that cannot be reached, and a connection that is reset or ends
    with no alert during the handshake (OpenSSL's ``SSLEOFError``: the TCP stream broke,
    nothing at the TLS level refused anything). A handshake that fails for a TLS reason (an
    alert, a protocol error) raises :class:`~httpslab.peers.openssl.OpenSSLPeerError`. Both
    are TLSErrors.
    """
    from ..pki import demo_pki

    pki = demo_pki(key_type)  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory(prefix="httpslab-demo-chain-") as directory:
        return _connect_with_files(pki.write_pem_files(directory), server_hostnames)


def _connect_with_files(files: Any, server_hostnames: Sequence[str]) -> list[ConnectionOutcome]:
    import contextlib
    import ssl

    from ..capture import cleartext_handshake_messages
    from ..errors import OpenSSLPeerError
    from ..io import bound_socket, started_relay
    from ..messages import Certificate, decode_handshake
    from ..peers.openssl import openssl_s_server
    from ..relay import RecordingRelay

    outcomes: list[ConnectionOutcome] = []
    with openssl_s_server(
        cert_file=files.server_cert_file,
        key_file=files.server_key_file,
        chain_file=files.intermediate_file,
        ca_file=files.ca_file,
    ) as server:
        for name in server_hostnames:
            context = ssl.create_default_context(cafile=str(server.ca_file))
            context.maximum_version = ssl.TLSVersion.TLSv1_2
            error: str | None = None
            alt_names: tuple[tuple[str, str], ...] = ()
            # the relay serves our client's address only (a stray connection to its port from
            # another process is hung up on instead of being recorded as this handshake)
            with bound_socket("the client's socket") as raw:
                relay = started_relay(RecordingRelay(server.address, only_from=raw.getsockname()[:2]))
                with contextlib.closing(relay):
                    relay_host, relay_port = relay.address
                    try:
                        raw.settimeout(10)
                        raw.connect(relay.address)
                    except OSError as exc:
                        raise TransportError(
                            f"connecting to the recording relay at {relay_host}:{relay_port} failed "
                            f"({type(exc).__name__}: {exc}); run the cell again"
                        ) from exc
                    try:
                        with context.wrap_socket(raw, server_hostname=name) as tls:
                            certificate = tls.getpeercert() or {}
                            alt_names = tuple(certificate.get("subjectAltName", ()))  # type: ignore[arg-type]
                    except ssl.SSLCertVerificationError as exc:  # the outcome this function shows
                        error = exc.verify_message or str(exc)
                    except (ssl.SSLEOFError, ssl.SSLSyscallError) as exc:
                        # the TCP stream ended or broke with no alert (what a reset is too, as a
                        # ConnectionResetError below): nothing at the TLS level refused anything
                        raise TransportError(
                            f"the connection to openssl s_server (through the recording relay) ended "
                            f"during the handshake ({type(exc).__name__}: {exc}); run the cell again"
                        ) from exc
                    except ssl.SSLError as exc:
                        raise OpenSSLPeerError(
                            f"the handshake with openssl s_server as {name!r} failed: {exc}"
                        ) from exc
                    except OSError as exc:
                        raise TransportError(
                            f"the connection to openssl s_server (through the recording relay) broke "
                            f"({type(exc).__name__}: {exc}); run the cell again"
                        ) from exc
                    try:
                        relay.wait_closed(10)
                    except TimeoutError as exc:
                        raise TransportError(
                            f"the connection through the recording relay did not end ({exc}); run the cell again"
                        ) from exc
                    server_flight = relay.server_to_client
                    client_stream = relay.client_to_server
            count = 0
            for kind, body in cleartext_handshake_messages(server_flight):
                if kind == HandshakeType.CERTIFICATE:
                    raw_message = bytes([kind]) + len(body).to_bytes(3, "big") + body
                    message = decode_handshake(raw_message)
                    assert isinstance(message, Certificate)
                    count = len(message.certificate_list)
            alerts = cleartext_alerts(client_stream)
            outcomes.append(
                ConnectionOutcome(name, error is None, error, alt_names, count, alerts[0] if alerts else None)
            )
    return outcomes


# ============================================================================== 03 toy RSA
@dataclass(frozen=True)
class ToyRSA:
    """Textbook RSA with small numbers: n = p·q, d = e⁻¹ mod φ(n), c = mᵉ mod n, m = cᵈ mod n."""

    p: int
    q: int
    e: int
    m: int
    n: int | None = None
    phi: int | None = None
    d: int | None = None
    c: int | None = None
    decrypted: int | None = None
    error: str | None = None

    def as_text(self) -> str:
        if self.error:
            return f"cannot compute: {self.error}"
        return (
            f"public key  (n, e) = ({self.n}, {self.e})       n = p·q = {self.p}·{self.q}\n"
            f"φ(n) = (p-1)(q-1) = {self.phi}\n"
            f"private key d = e⁻¹ mod φ(n) = {self.d}          (check: e·d mod φ(n) = {self.e * self.d % self.phi})\n"  # type: ignore[operator]
            f"encrypt: c = m^e mod n = {self.m}^{self.e} mod {self.n} = {self.c}\n"
            f"decrypt: c^d mod n = {self.c}^{self.d} mod {self.n} = {self.decrypted}"
            f"   {'= m ✓' if self.decrypted == self.m else '≠ m ✗'}"
        )


def toy_rsa(p: int, q: int, e: int, m: int) -> ToyRSA:
    """Textbook RSA on small numbers (TOY, insecure); bad input gives ``error``, not an exception."""
    problem = None
    if not all(isinstance(v, int) for v in (p, q, e, m)):
        problem = "p, q, e and m must be whole numbers"
    elif not is_prime(p):
        problem = f"p = {p} is not prime"
    elif not is_prime(q):
        problem = f"q = {q} is not prime"
    elif p == q:
        problem = "p and q must be different primes (with p = q, φ(n) is not (p-1)(q-1))"
    if problem:
        return ToyRSA(p, q, e, m, error=problem)
    n, phi = p * q, (p - 1) * (q - 1)
    import math

    if not 1 < e < phi:
        return ToyRSA(p, q, e, m, n, phi, error=f"e must satisfy 1 < e < φ(n) = {phi}")
    if math.gcd(e, phi) != 1:
        return ToyRSA(
            p, q, e, m, n, phi,
            error=f"e = {e} is not coprime with φ(n) = {phi} (gcd = {math.gcd(e, phi)}): no private exponent d exists",
        )  # fmt: skip
    if not 0 <= m < n:
        return ToyRSA(p, q, e, m, n, phi, error=f"the message m = {m} must satisfy 0 ≤ m < n = {n}")
    d = pow(e, -1, phi)
    c = pow(m, e, n)
    return ToyRSA(p, q, e, m, n, phi, d, c, pow(c, d, n))


def toy_rsa_widget(p: int = 61, q: int = 53, e: int = 17, m: int = 65) -> ipywidgets.VBox:
    """p, q, e, m → key pair, ciphertext and decryption, or a clear message for bad input."""
    widgets = _ipywidgets()
    controls = {
        "p": widgets.IntText(value=p, description="p"),
        "q": widgets.IntText(value=q, description="q"),
        "e": widgets.IntText(value=e, description="e"),
        "m": widgets.IntText(value=m, description="message m"),
    }

    def compute() -> ToyRSA:
        return toy_rsa(*(controls[name].value for name in ("p", "q", "e", "m")))

    return _build_panel("toy-rsa", controls, compute, lambda result: result.as_text(), None)


# ============================================================================== 04 toy DH
@dataclass(frozen=True)
class ToyDH:
    """Both sides of a Diffie–Hellman exchange in a toy group."""

    p: int
    g: int
    a: int
    b: int
    A: int | None = None
    B: int | None = None
    alice_secret: int | None = None
    bob_secret: int | None = None
    error: str | None = None

    @property
    def agree(self) -> bool:
        return self.error is None and self.alice_secret == self.bob_secret

    def as_text(self) -> str:
        if self.error:
            return f"cannot compute: {self.error}"
        return (
            f"public: p = {self.p}, g = {self.g}            (TOY group: insecure, for teaching)\n"
            f"Alice: secret a = {self.a}  →  sends A = g^a mod p = {self.A}\n"
            f"Bob:   secret b = {self.b}  →  sends B = g^b mod p = {self.B}\n"
            f"Alice computes B^a mod p = {self.B}^{self.a} mod {self.p} = {self.alice_secret}\n"
            f"Bob   computes A^b mod p = {self.A}^{self.b} mod {self.p} = {self.bob_secret}\n"
            f"{'they agree ✓' if self.agree else 'they DISAGREE ✗'}"
        )


def _toy_group_problem(p: int, g: int) -> tuple[Any, str | None]:
    if not is_prime(p):
        return None, f"p = {p} is not prime"
    try:
        return group_from_params(p, g, toy=True), None
    except TLSError as exc:
        return None, str(exc)


def toy_dh(p: int, g: int, a: int, b: int) -> ToyDH:
    """Alice (secret a) and Bob (secret b) agree on g^(ab) mod p, computed by the library."""
    group, problem = _toy_group_problem(p, g)
    if problem:
        return ToyDH(p, g, a, b, error=problem)
    try:
        public_a, public_b = dh_public(group, a), dh_public(group, b)
        alice = int.from_bytes(dh_shared_secret(group, a, public_b), "big")
        bob = int.from_bytes(dh_shared_secret(group, b, public_a), "big")
    except TLSError as exc:
        return ToyDH(p, g, a, b, error=str(exc))
    return ToyDH(p, g, a, b, public_a, public_b, alice, bob)


@dataclass(frozen=True)
class ToyMITM:
    """Mallory (secret m) between Alice and Bob on unsigned DH values: two keys, both hers."""

    p: int
    g: int
    a: int
    b: int
    m: int
    A: int
    B: int
    M: int
    alice_key: int
    bob_key: int
    mallory_with_alice: int
    mallory_with_bob: int

    def as_text(self) -> str:
        return (
            f"Alice sends A = {self.A}; Mallory drops it and sends Bob M = g^m = {self.M}\n"
            f"Bob sends B = {self.B}; Mallory drops it and sends Alice M = {self.M}\n"
            f"Alice's key  M^a = {self.alice_key}    Mallory's key with Alice  A^m = {self.mallory_with_alice}\n"
            f"Bob's key    M^b = {self.bob_key}    Mallory's key with Bob    B^m = {self.mallory_with_bob}"
        )


def toy_dh_mitm(p: int, g: int, a: int, b: int, m: int) -> ToyMITM:
    """A man in the middle on *unsigned* toy DH values (raises TLSError on bad parameters)."""
    group, problem = _toy_group_problem(p, g)
    if problem:
        raise TLSError(problem)

    def key(private: int, public: int) -> int:
        return int.from_bytes(dh_shared_secret(group, private, public), "big")

    public_a, public_b, public_m = dh_public(group, a), dh_public(group, b), dh_public(group, m)
    return ToyMITM(
        p, g, a, b, m, public_a, public_b, public_m,
        key(a, public_m), key(b, public_m), key(m, public_a), key(m, public_b),
    )  # fmt: skip


def render_toy_dh(result: ToyDH, *, figure: Figure | None = None) -> Figure | None:
    """The powers of g with A and B marked (:func:`~httpslab.notebook.crypto_plots.draw_toy_dh`)."""
    from .crypto_plots import ToyDHPicture

    if result.error:
        return None
    figure, picture = _picture((6, 3), figure, ToyDHPicture)
    figure.subplots_adjust(left=0.12, right=0.97, top=0.9, bottom=0.17)  # room for the x label
    picture.update(result.p, result.g, result.a, result.b)
    return figure


def toy_dh_widget(p: int = 23, g: int = 5, a: int = 6, b: int = 15) -> ipywidgets.VBox:
    """p, g, a, b → both sides' computations, whether they agree, and the picture."""
    widgets = _ipywidgets()
    controls = {
        "p": widgets.IntText(value=p, description="p"),
        "g": widgets.IntText(value=g, description="g"),
        "a": widgets.IntText(value=a, description="Alice's a"),
        "b": widgets.IntText(value=b, description="Bob's b"),
    }

    def compute() -> ToyDH:
        return toy_dh(*(controls[name].value for name in ("p", "g", "a", "b")))

    return _build_panel("toy-dh", controls, compute, lambda result: result.as_text(), render_toy_dh)


# ============================================================================== 05 key derivation
def key_block_layout(suite: SuiteInfo | CipherSuite | int) -> list[tuple[str, int]]:
    """The key block's pieces in wire order with their lengths (RFC 5246 §6.3)."""
    info = suite if isinstance(suite, SuiteInfo) else suite_info(suite)
    return [
        ("client_write_MAC_key", info.mac_length),
        ("server_write_MAC_key", info.mac_length),
        ("client_write_key", info.enc_key_length),
        ("server_write_key", info.enc_key_length),
        ("client_write_IV", info.fixed_iv_length),
        ("server_write_IV", info.fixed_iv_length),
    ]


def derive_keys(
    premaster_secret: bytes,
    client_random: bytes,
    server_random: bytes,
    suite: SuiteInfo | CipherSuite | int = CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
) -> dict[str, bytes]:
    """master_secret (RFC 5246 §8.1) and every non-empty key block piece (§6.3), by name."""
    info = suite if isinstance(suite, SuiteInfo) else suite_info(suite)
    master = master_secret(premaster_secret, client_random, server_random, info.prf_hash)
    block = key_block(master, client_random, server_random, info)
    values = (
        block.client_write_mac_key, block.server_write_mac_key, block.client_write_key,
        block.server_write_key, block.client_write_iv, block.server_write_iv,
    )  # fmt: skip
    keys = {"master_secret": master}
    for (name, _), value in zip(key_block_layout(info), values, strict=True):
        if value:
            keys[name] = value
    return keys


def avalanche(before: dict[str, bytes], after: dict[str, bytes]) -> list[tuple[str, int, int]]:
    """(name, bits changed, total bits) for each derived value present in both."""
    return [(name, bit_difference(before[name], after[name]), 8 * len(before[name])) for name in before]


@dataclass(frozen=True)
class KeyDerivationResult:
    """Keys derived from the edited inputs, from the original inputs, and how much changed."""

    inputs: dict[str, bytes] = field(default_factory=dict)
    keys: dict[str, bytes] = field(default_factory=dict)
    original_keys: dict[str, bytes] = field(default_factory=dict)
    changes: list[tuple[str, int, int]] = field(default_factory=list)
    #: bits changed in the inputs themselves
    input_bits_changed: int = 0
    error: str | None = None

    def as_text(self) -> str:
        if self.error:
            return f"cannot derive: {self.error}"
        lines = [f"inputs: {self.input_bits_changed} bit(s) differ from the demo values"]
        for name, value in self.inputs.items():
            lines.append(f"  {name:<15} {value.hex()}")
        lines.append("derived:")
        for name, changed, total in self.changes:
            lines.append(f"  {name:<22} {self.keys[name].hex()}  ({changed}/{total} bits changed)")
        return "\n".join(lines)


_INPUT_LENGTHS = {"client_random": 32, "server_random": 32, "premaster": 48}


def key_derivation_update(
    client_random_hex: str = DEMO_CLIENT_RANDOM.hex(),
    server_random_hex: str = DEMO_SERVER_RANDOM.hex(),
    premaster_hex: str = DEMO_PREMASTER.hex(),
    *,
    flip_input: str = "client_random",
    flip: int | None = None,
    suite: SuiteInfo | CipherSuite | int = CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
) -> KeyDerivationResult:
    """Derive every key from the (edited) inputs and compare with the demo inputs' keys.

    ``flip`` (a bit number) additionally inverts one bit of ``flip_input``. Bad hex or a
    wrong length gives a result whose ``error`` says so.
    """
    texts = {
        "client_random": client_random_hex,
        "server_random": server_random_hex,
        "premaster": premaster_hex,
    }
    inputs: dict[str, bytes] = {}
    for name, text in texts.items():
        try:
            value = bytes.fromhex("".join(text.split()))
        except ValueError:
            return KeyDerivationResult(error=f"{name} is not hexadecimal")
        if len(value) != _INPUT_LENGTHS[name]:
            return KeyDerivationResult(error=f"{name} must be {_INPUT_LENGTHS[name]} bytes, got {len(value)}")
        inputs[name] = value
    if flip is not None:
        if flip_input not in inputs:
            return KeyDerivationResult(error=f"cannot flip a bit of {flip_input!r}")
        try:
            inputs[flip_input] = flip_bit(inputs[flip_input], flip)
        except TLSError as exc:
            return KeyDerivationResult(error=str(exc))
    original = {
        "client_random": DEMO_CLIENT_RANDOM,
        "server_random": DEMO_SERVER_RANDOM,
        "premaster": DEMO_PREMASTER,
    }
    input_bits = sum(bit_difference(original[name], inputs[name]) for name in inputs)
    try:
        keys = derive_keys(inputs["premaster"], inputs["client_random"], inputs["server_random"], suite)
    except TLSError as exc:
        return KeyDerivationResult(error=str(exc))
    original_keys = derive_keys(DEMO_PREMASTER, DEMO_CLIENT_RANDOM, DEMO_SERVER_RANDOM, suite)
    return KeyDerivationResult(inputs, keys, original_keys, avalanche(original_keys, keys), input_bits)


def render_key_derivation(result: KeyDerivationResult, *, figure: Figure | None = None) -> Figure | None:
    """The avalanche bars of ``result`` (:func:`~httpslab.notebook.crypto_plots.draw_avalanche`)."""
    from .crypto_plots import AvalanchePicture

    if result.error:
        return None
    figure, picture = _picture((7, 3.2), figure, AvalanchePicture)
    figure.subplots_adjust(left=0.28, right=0.97, top=0.9, bottom=0.16)
    picture.update(result.changes)
    return figure


def key_derivation_widget() -> ipywidgets.VBox:
    """Edit client random / server random / premaster (hex), or flip bit N of one of them."""
    widgets = _ipywidgets()
    text_layout = widgets.Layout(width="98%")
    controls = {
        "client_random": widgets.Text(
            value=DEMO_CLIENT_RANDOM.hex(),
            description="client random",
            continuous_update=False,
            layout=text_layout,
        ),
        "server_random": widgets.Text(
            value=DEMO_SERVER_RANDOM.hex(),
            description="server random",
            continuous_update=False,
            layout=text_layout,
        ),
        "premaster": widgets.Text(
            value=DEMO_PREMASTER.hex(), description="premaster", continuous_update=False, layout=text_layout
        ),
        "flip_input": widgets.Dropdown(
            options=["none", "client_random", "server_random", "premaster"],
            value="client_random",
            description="flip a bit of",
        ),
        "flip": widgets.IntSlider(
            value=0,
            min=0,
            max=8 * _INPUT_LENGTHS["client_random"] - 1,
            description="bit N",
            continuous_update=False,
        ),
    }

    def compute() -> KeyDerivationResult:
        target = controls["flip_input"].value
        return key_derivation_update(
            controls["client_random"].value,
            controls["server_random"].value,
            controls["premaster"].value,
            flip_input=target,
            flip=None if target == "none" else controls["flip"].value,
        )

    panel = _build_panel(
        "key-derivation",
        controls,
        compute,
        lambda r: r.as_text(),
        render_key_derivation,
        unwatched=("flip_input",),
    )

    def follow_flip_input(change: dict[str, Any]) -> None:
        """The slider reaches the last bit of the chosen input (383 for the 48-byte premaster)."""
        slider = controls["flip"]
        value_before = slider.value
        if change["new"] in _INPUT_LENGTHS:
            slider.max = 8 * _INPUT_LENGTHS[change["new"]] - 1  # lowering max clamps the value
        if slider.value == value_before:  # otherwise the slider's own observer has refreshed
            panel.refresh()

    controls["flip_input"].observe(follow_flip_input, names="value")
    return panel


# ============================================================================== 06 record
def seal_demo_record(
    plaintext: bytes,
    key: bytes = DEMO_RECORD_KEY,
    nonce: bytes = DEMO_RECORD_NONCE,
    *,
    suite: SuiteInfo | CipherSuite | int = CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    sequence_number: int = 0,
    encrypt_then_mac: bool = False,
    mac_key: bytes | None = None,
    content_type: ContentType | int = ContentType.APPLICATION_DATA,
    version: int = 0x0303,
) -> tuple[SealedRecord, RecordProtection]:
    """Seal one record with :class:`~httpslab.record.RecordProtection` from a key and a nonce.

    ``nonce`` means: AES-GCM — the 12-byte nonce, fixed IV (4) || explicit nonce (8)
    (RFC 5288 §3); ChaCha20-Poly1305 — the 12-byte fixed IV (XORed with the sequence number,
    RFC 7905 §2); CBC — the 16-byte record IV (RFC 5246 §6.2.3.2). Returns the sealed
    record and a fresh receiving protection (same keys, same sequence number) to open it.
    """
    info = suite if isinstance(suite, SuiteInfo) else suite_info(suite)
    mac = (DEMO_MAC_KEY[: info.mac_length] if mac_key is None else mac_key) if not info.is_aead else b""
    if info.cipher.endswith("GCM"):
        fixed, explicit = nonce[:4], nonce[4:]
        if len(nonce) != 12:
            raise TLSError(f"an AES-GCM nonce is 12 bytes (4 fixed + 8 explicit), got {len(nonce)}")
    elif info.is_aead:
        fixed, explicit = nonce, b""
    else:
        fixed, explicit = b"", nonce
        if len(nonce) != 16:
            raise TLSError(f"a CBC record IV is 16 bytes, got {len(nonce)}")

    def make() -> RecordProtection:
        return RecordProtection(
            info, key, fixed, mac, encrypt_then_mac=encrypt_then_mac,
            explicit_iv=(lambda length: explicit) if explicit else None, sequence_number=sequence_number,
        )  # fmt: skip

    sealed = make().seal_detailed(content_type, version, plaintext)
    return sealed, make()


@dataclass(frozen=True)
class RecordResult:
    """A sealed record, the record after an optional bit flip, and what the receiver made of it."""

    sealed: SealedRecord | None = None
    received: bytes = b""
    flipped_bit: int | None = None
    opened: bytes | None = None
    rejection: TLSError | None = None
    error: str | None = None

    def as_text(self) -> str:
        if self.error or self.sealed is None:
            return f"cannot seal: {self.error}"
        sealed = self.sealed
        lines = [
            f"sequence number {sealed.sequence_number}; additional data / MAC header: {sealed.additional_data.hex(' ')}",
        ]
        if sealed.nonce:
            lines.append(f"nonce: {sealed.nonce.hex(' ')}")
        for label, data in sealed.parts():
            lines.append(f"{label:<15} {len(data):>4} B  {data.hex(' ')}")
        if self.flipped_bit is not None:
            lines.append(f"bit {self.flipped_bit} of the fragment flipped in transit")
        if self.rejection is not None:
            alert = getattr(self.rejection, "alert", None)
            name = alert.name.lower() if alert is not None else "?"
            lines.append(f"receiver: REJECTED — {type(self.rejection).__name__}, alert {name}")
        else:
            lines.append(f"receiver: accepted, plaintext {self.opened!r}")
        return "\n".join(lines)


def record_update(
    plaintext: str | bytes = "Hello, HTTPS!",
    key_hex: str = DEMO_RECORD_KEY.hex(),
    nonce_hex: str = DEMO_RECORD_NONCE.hex(),
    *,
    protection: str = "AES-128-GCM",
    sequence_number: int = 0,
    flip: int | None = None,
) -> RecordResult:
    """Seal ``plaintext``, optionally flip bit ``flip`` of the fragment, and open it again.

    ``protection`` is a key of :data:`RECORD_SUITES`. A flipped bit makes the receiver raise
    :class:`~httpslab.errors.BadRecordMac` (RFC 5246 §7.2.2), kept in ``rejection``.
    """
    if protection not in RECORD_SUITES:
        return RecordResult(error=f"unknown protection {protection!r}")
    suite, etm = RECORD_SUITES[protection]
    data = plaintext.encode("utf-8") if isinstance(plaintext, str) else bytes(plaintext)
    try:
        key = bytes.fromhex("".join(key_hex.split()))
        nonce = bytes.fromhex("".join(nonce_hex.split()))
    except ValueError:
        return RecordResult(error="the key and the nonce must be hexadecimal")
    try:
        sealed, receiver = seal_demo_record(
            data, key, nonce, suite=suite, sequence_number=sequence_number, encrypt_then_mac=etm
        )
        fragment = sealed.fragment if flip is None else flip_bit(sealed.fragment, flip)
    except TLSError as exc:
        return RecordResult(error=str(exc))
    try:
        opened = receiver.open(sealed.content_type, sealed.version, fragment)
    except TLSError as exc:
        return RecordResult(sealed, sealed.header + fragment, flip, None, exc)
    return RecordResult(sealed, sealed.header + fragment, flip, opened)


def render_record(result: RecordResult, *, figure: Figure | None = None) -> Figure | None:
    """The byte map of the sealed record, the flipped bit in red."""
    from .crypto_plots import draw_record_map

    if result.sealed is None:
        return None
    figure, ax = _figure((10, 1.5), figure)
    highlight = None if result.flipped_bit is None else 5 + result.flipped_bit // 8
    verdict = "rejected: bad_record_mac" if result.rejection is not None else "accepted"
    draw_record_map(result.sealed.parts(), ax=ax, highlight=highlight, title=f"record ({verdict})")
    return figure


def default_record_inputs(protection: str) -> tuple[bytes, bytes]:
    """Demo (key, nonce or IV) of the right lengths for a :data:`RECORD_SUITES` choice."""
    suite, _ = RECORD_SUITES[protection]
    info = suite_info(suite)
    key = bytes(range(info.enc_key_length))
    if info.cipher.endswith("GCM"):
        return key, DEMO_RECORD_NONCE
    if info.is_aead:
        return key, bytes(range(0xC0, 0xCC))
    return key, bytes(range(0xD0, 0xE0))


def record_widget() -> ipywidgets.VBox:
    """Plaintext, key and nonce → the record; flip a bit of the fragment → bad_record_mac.

    Choosing another protection resets the key and nonce to demo values of the right length.
    """
    widgets = _ipywidgets()
    controls = {
        "protection": widgets.Dropdown(
            options=list(RECORD_SUITES), value="AES-128-GCM", description="protection"
        ),
        "plaintext": widgets.Text(value="Hello, HTTPS!", description="plaintext", continuous_update=False),
        "key": widgets.Text(value=DEMO_RECORD_KEY.hex(), description="key", continuous_update=False),
        "nonce": widgets.Text(
            value=DEMO_RECORD_NONCE.hex(), description="nonce / IV", continuous_update=False
        ),
        "sequence_number": widgets.BoundedIntText(value=0, min=0, max=2**63, description="seq_num"),
        "flip": widgets.IntSlider(value=-1, min=-1, max=511, description="flip bit", continuous_update=False),
    }

    def compute() -> RecordResult:
        flip = controls["flip"].value
        return record_update(
            controls["plaintext"].value,
            controls["key"].value,
            controls["nonce"].value,
            protection=controls["protection"].value,
            sequence_number=controls["sequence_number"].value,
            flip=None if flip < 0 else flip,
        )

    panel = _build_panel(
        "record", controls, compute, lambda r: r.as_text(), render_record, unwatched=("protection",)
    )
    watched = (controls["key"], controls["nonce"])

    def reset_inputs(change: dict[str, Any]) -> None:
        # new key and nonce of the right lengths, then ONE update (not one per control)
        key, nonce = default_record_inputs(change["new"])
        for control in watched:
            control.unobserve(panel.refresh, names="value")
        try:
            controls["key"].value = key.hex()
            controls["nonce"].value = nonce.hex()
        finally:
            for control in watched:
                control.observe(panel.refresh, names="value")
        panel.refresh()

    controls["protection"].observe(reset_inputs, names="value")
    return panel


# ============================================================================== real-session helpers
def _located_records(stream: bytes) -> list[tuple[int, Record]]:
    """(offset, record) of each complete record at the start of ``stream``."""
    try:
        records, _rest = split_records(bytes(stream))
    except TLSError:
        return []
    located = []
    position = 0
    for record in records:
        located.append((position, record))
        position += RECORD_HEADER_LENGTH + len(record.fragment)
    return located


class StreamTamper:
    """A :data:`~httpslab.relay.Tamper` hook: flip one bit at a byte found by ``locate``.

    ``locate(stream)`` gets everything seen so far in ``direction`` (including the chunk
    being relayed) and returns the stream offset of the byte to change, or None (not there
    yet). The byte's lowest bit is flipped once. Both streams are kept (``seen``), so after a
    failed handshake the real alert a peer sent can be read with :func:`httpslab.capture.cleartext_alerts`.
    """

    def __init__(self, direction: str, locate: Callable[[bytes], int | None]) -> None:
        self.direction = direction
        self.locate = locate
        self.seen: dict[str, bytearray] = {"client_to_server": bytearray(), "server_to_client": bytearray()}
        self.flipped_at: int | None = None

    def __call__(self, direction: str, data: bytes, offset: int) -> bytes:
        stream = self.seen.setdefault(direction, bytearray())
        stream += data
        if direction != self.direction or self.flipped_at is not None:
            return data
        target = self.locate(bytes(stream))
        if target is None or not offset <= target < offset + len(data):
            return data
        self.flipped_at = target
        index = target - offset
        return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]

    @staticmethod
    def handshake_message_byte(msg_type: HandshakeType, byte: int) -> Callable[[bytes], int | None]:
        """Locator: byte ``byte`` of the body of the first ``msg_type`` handshake message
        (negative counts from the end of the body); the message must sit in one record."""

        def locate(stream: bytes) -> int | None:
            for position, record in _located_records(stream):
                if record.content_type == ContentType.CHANGE_CIPHER_SPEC:
                    return None  # what follows is encrypted
                if record.content_type != ContentType.HANDSHAKE:
                    continue
                inner = 0
                for kind, raw in HandshakeReader().feed(record.fragment):
                    if kind == msg_type:
                        return position + RECORD_HEADER_LENGTH + inner + 4 + (byte % (len(raw) - 4))
                    inner += len(raw)
            return None

        return locate

    @staticmethod
    def record_byte(content_type: ContentType, byte: int) -> Callable[[bytes], int | None]:
        """Locator: byte ``byte`` of the fragment of the first record of ``content_type``
        (negative counts from the end of the fragment)."""

        def locate(stream: bytes) -> int | None:
            for position, record in _located_records(stream):
                if record.content_type == content_type:
                    return position + RECORD_HEADER_LENGTH + (byte % len(record.fragment))
            return None

        return locate
