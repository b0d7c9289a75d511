"""Widgets of notebooks 03–06: toy RSA, toy Diffie–Hellman, key derivation, record protection.

Each widget wires controls to a computation of :mod:`httpslab.teaching` and a picture of
:mod:`httpslab.notebook.crypto_plots` through :func:`~httpslab.notebook.panel.build_panel`;
each ``panel.refresh()`` is one update.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..teaching import (
    DEMO_CLIENT_RANDOM,
    DEMO_PREMASTER,
    DEMO_RECORD_KEY,
    DEMO_RECORD_NONCE,
    DEMO_SERVER_RANDOM,
    KEY_DERIVATION_INPUT_LENGTHS,
    RECORD_SUITES,
    KeyDerivationResult,
    RecordResult,
    ToyDH,
    ToyRSA,
    default_record_inputs,
    key_derivation_update,
    record_update,
    toy_dh,
    toy_rsa,
)
from .crypto_plots import render_key_derivation, render_record, render_toy_dh
from .panel import build_panel, load_ipywidgets

if TYPE_CHECKING:
    import ipywidgets

__all__ = ["key_derivation_widget", "record_widget", "toy_dh_widget", "toy_rsa_widget"]


def toy_rsa_widget(p: int = 61, q: int = 53, e: int = 17, m: int = 65) -> ipywidgets.VBox:
    """p, q, e, m → key pair, ciphertext and decryption, or a clear message for bad input."""
    widgets = load_ipywidgets()
    controls = {
        "p": widgets.IntText(value=p, description="p"),
        "q": widgets.IntText(value=q, description="q"),
        "e": widgets.IntText(value=e, description="e"),
        "m": widgets.IntText(value=m, description="message m"),
    }

    def compute() -> ToyRSA:
        return toy_rsa(*(controls[name].value for name in ("p", "q", "e", "m")))

    return build_panel("toy-rsa", controls, compute, lambda result: result.as_text(), None)


def toy_dh_widget(p: int = 23, g: int = 5, a: int = 6, b: int = 15) -> ipywidgets.VBox:
    """p, g, a, b → both sides' computations, whether they agree, and the picture."""
    widgets = load_ipywidgets()
    controls = {
        "p": widgets.IntText(value=p, description="p"),
        "g": widgets.IntText(value=g, description="g"),
        "a": widgets.IntText(value=a, description="Alice's a"),
        "b": widgets.IntText(value=b, description="Bob's b"),
    }

    def compute() -> ToyDH:
        return toy_dh(*(controls[name].value for name in ("p", "g", "a", "b")))

    return build_panel("toy-dh", controls, compute, lambda result: result.as_text(), render_toy_dh)


def key_derivation_widget() -> ipywidgets.VBox:
    """Edit client random / server random / premaster (hex), or flip bit N of one of them."""
    widgets = load_ipywidgets()
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
            max=8 * KEY_DERIVATION_INPUT_LENGTHS["client_random"] - 1,
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

    panel = build_panel(
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
        if change["new"] in KEY_DERIVATION_INPUT_LENGTHS:
            slider.max = 8 * KEY_DERIVATION_INPUT_LENGTHS[change["new"]] - 1  # lowering max clamps the value
        if slider.value == value_before:  # otherwise the slider's own observer has refreshed
            panel.refresh()

    controls["flip_input"].observe(follow_flip_input, names="value")
    return panel


def record_widget() -> ipywidgets.VBox:
    """Plaintext, key and nonce → the record; flip a bit of the fragment → bad_record_mac.

    Choosing another protection resets the key and nonce to demo values of the right length.
    """
    widgets = load_ipywidgets()
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

    panel = build_panel(
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
