"""How long the notebook widgets' update functions take (called directly, no browser).

Not a test: run it by hand. The target (issue 5) is under 100 ms for any update that involves
no network; updates that make a real loopback handshake are listed separately (target for
notebook 01's: about 0.3 s). Median and worst of ``--runs`` calls each, wall and CPU time.

Notebooks 02–06: each "widget:" row builds the real widget once and then, per call, changes
one control (cycling through a few values), which fires the widget's own observer — the same
path as a learner's change in the browser: the update function, the text, the picture redrawn
in the widget's figure and encoded to PNG into its ``ipywidgets.Image``. The "alone" rows
time the update function without the widget.

    python benchmarks/bench_widgets.py [--runs 30] [--only crypto|handshake]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NO_NETWORK_TARGET = 0.100

# (name, update, involves the network)
Case = tuple[str, Callable[[], object], bool]


def measure(update: Callable[[], object], runs: int) -> tuple[float, float, float]:
    """(median wall time, worst wall time, median CPU time of this process) of ``runs`` calls.

    CPU time is reported too because the benchmark machine is often shared: wall time then
    includes waiting for a core, CPU time does not (threads of a loopback peer are counted).
    """
    update()  # warm-up (imports, caches)
    samples = []
    cpu_samples = []
    for _ in range(runs):
        start, cpu_start = time.perf_counter(), time.process_time()
        update()
        samples.append(time.perf_counter() - start)
        cpu_samples.append(time.process_time() - cpu_start)
    return statistics.median(samples), max(samples), statistics.median(cpu_samples)


# ==================================================================================
# Notebooks 00, 01, 07, 08 (httpslab/notebook/handshake_widgets.py)
# ==================================================================================
def handshake_widget_cases() -> list[Case]:
    from httpslab.capture import analyze_capture
    from httpslab.notebook import handshake_widgets as hw
    from httpslab.peers.openssl import record_session

    recorded = record_session("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
    captured = analyze_capture(recorded.client_to_server, recorded.server_to_client, recorded.keylog)
    last_record = len(captured.records) - 1
    finished_widget = hw.finished_widget(captured)
    record_widget = hw.record_widget(captured)
    return [
        ("07 finished_widget.run (update + its HTML)", finished_widget.run, False),
        ("08 record_widget.run (update + its HTML)", record_widget.run, False),
        (
            "07 finished_update (flip a byte, recompute verify_data)",
            lambda: hw.finished_update(captured, 2, 100),
            False,
        ),
        ("08 record_update (pick a record)", lambda: hw.record_update(captured, last_record), False),
        (
            "01 hello_update (s_server start + one ClientHello)",
            lambda: hw.hello_update(["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"], ["TLS 1.2"]),
            True,
        ),
        ("00 connection_update (one HTTPS GET)", lambda: hw.connection_update(hw.DEMO_SUITES[0]), True),
        ("07 mutual_tls_update (no certificate → alert)", lambda: hw.mutual_tls_update(False), True),
    ]


# ==================================================================================
# Notebooks 02-06 (httpslab/notebook/crypto_widgets.py)
# ==================================================================================
def _control_changes(panel: object, control: str, values: list[object]) -> Callable[[], object]:
    """One learner action per call: set ``control`` to the next of ``values`` (cycling).

    Setting the value fires the widget's own observer, exactly as a change in the browser
    does: update function, text, picture redrawn in the widget's figure, PNG into its Image.
    Returns the PNG (or the result when the widget has no picture).
    """
    widget_control = panel.controls[control]  # type: ignore[attr-defined]
    state = {"next": 0}

    def run() -> object:
        state["next"] = (state["next"] + 1) % len(values)
        if values[state["next"]] == widget_control.value:  # no change would fire no update
            state["next"] = (state["next"] + 1) % len(values)
        before = panel.result  # type: ignore[attr-defined]
        widget_control.value = values[state["next"]]
        assert panel.result is not before, f"setting {control} did not update the widget"  # type: ignore[attr-defined]
        return panel.png if panel.output is not None else panel.result  # type: ignore[attr-defined]

    return run


def crypto_widget_cases() -> list[Case]:
    from httpslab import teaching
    from httpslab.notebook import crypto_widgets as cw
    from httpslab.notebook import pki_widgets
    from httpslab.pki import SCENARIOS

    certificates = pki_widgets.certificate_widget("valid", "127.0.0.1")
    rsa = cw.toy_rsa_widget(61, 53, 17, 65)
    dh = cw.toy_dh_widget(467, 2, 153, 197)
    keys = cw.key_derivation_widget()
    keys.controls["flip_input"].value = "premaster"
    record = cw.record_widget()
    record.controls["plaintext"].value = "GET / HTTP/1.1"
    return [
        (
            "02 certificate_check alone (scenario + host → report)",
            lambda: teaching.certificate_check("valid", "127.0.0.1"),
            False,
        ),
        (
            "02 widget: next scenario (all 15) → report + chain PNG",
            _control_changes(certificates, "scenario", list(SCENARIOS)),
            False,
        ),
        (
            "02 widget: host / IP → report + chain PNG",
            _control_changes(certificates, "host", ["127.0.0.1", "localhost", "www.example.com", "10.0.0.1"]),
            False,
        ),
        ("03 widget: message m → toy RSA text", _control_changes(rsa, "m", [65, 1000, 2790, 42]), False),
        ("04 toy_dh alone (p, g, a, b)", lambda: teaching.toy_dh(467, 2, 153, 197), False),
        (
            "04 widget: Alice's a → text + powers PNG (p = 467)",
            _control_changes(dh, "a", [153, 154, 300, 7]),
            False,
        ),
        (
            "04 widget: prime p → text + powers PNG (new axes range)",
            _control_changes(dh, "p", [467, 23, 1019, 263]),
            False,
        ),
        (
            "05 key_derivation_update alone (flip bit 100 of the premaster)",
            lambda: teaching.key_derivation_update(flip_input="premaster", flip=100),
            False,
        ),
        (
            "05 widget: bit N of the premaster → keys + avalanche PNG",
            _control_changes(keys, "flip", [100, 101, 7, 255]),
            False,
        ),
        (
            "05 widget: flip a bit of … → keys + avalanche PNG",
            _control_changes(keys, "flip_input", ["client_random", "server_random", "none", "premaster"]),
            False,
        ),
        (
            "06 record_update alone (seal, flip bit 100, open)",
            lambda: teaching.record_update("GET / HTTP/1.1", flip=100),
            False,
        ),
        (
            "06 widget: flip bit → record + byte map PNG",
            _control_changes(record, "flip", [100, -1, 3, 200]),
            False,
        ),
        (
            "06 widget: plaintext → record + byte map PNG",
            _control_changes(record, "plaintext", ["GET / HTTP/1.1", "Hello, HTTPS!", "x" * 100]),
            False,
        ),
        (
            "06 widget: protection (resets key + nonce) → one update",
            _control_changes(record, "protection", list(teaching.RECORD_SUITES)),
            False,
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--only", choices=["crypto", "handshake"], help="only notebooks 02-06, or only 00/01/07/08"
    )
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    cases = [] if args.only == "handshake" else crypto_widget_cases()
    if args.only != "crypto":
        cases += handshake_widget_cases()
    failed = False
    print(f"{'update':<64} {'median':>9} {'worst':>9} {'cpu':>9}  network")
    for name, update, network in cases:
        median, worst, cpu = measure(update, args.runs)
        flag = ""
        if not network and median > NO_NETWORK_TARGET:
            flag, failed = "  OVER 100 ms", True
        print(
            f"{name:<64} {median * 1000:>7.1f}ms {worst * 1000:>7.1f}ms {cpu * 1000:>7.1f}ms  {'yes' if network else 'no'}{flag}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
