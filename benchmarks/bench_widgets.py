"""How long the notebook widgets' update functions take (called directly, no browser).

Not a test: run it by hand. The target (issue 5) is under 100 ms for any update that involves
no network; updates that make a real loopback handshake are listed separately (target for
notebook 01's: about 0.3 s). Median and worst of ``--runs`` calls each.

    python benchmarks/bench_widgets.py
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
    from httpslab.openssl_peers import record_session

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
def _with_png(update: Callable[[], object], render: Callable[[object], object]) -> Callable[[], object]:
    """update, then the widget's picture rendered to PNG (what the kernel sends to the browser)."""
    import io

    def run() -> object:
        result = update()
        figure = render(result)
        if figure is not None:
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png")  # type: ignore[attr-defined]
        return result

    return run


def crypto_widget_cases() -> list[Case]:
    import matplotlib

    matplotlib.use("Agg")
    from httpslab.notebook import crypto_widgets as cw

    certificate = lambda: cw.certificate_check("valid", "127.0.0.1")  # noqa: E731
    toy_dh = lambda: cw.toy_dh(467, 2, 153, 197)  # noqa: E731
    keys = lambda: cw.key_derivation_update(flip_input="premaster", flip=100)  # noqa: E731
    record = lambda: cw.record_update("GET / HTTP/1.1", flip=100)  # noqa: E731
    return [
        ("02 certificate_check (scenario + host → report)", certificate, False),
        ("02 … + chain picture as PNG", _with_png(certificate, cw.render_certificate), False),
        ("03 toy_rsa (p, q, e, m)", lambda: cw.toy_rsa(61, 53, 17, 65), False),
        ("04 toy_dh (p, g, a, b)", toy_dh, False),
        ("04 … + powers picture as PNG", _with_png(toy_dh, cw.render_toy_dh), False),
        ("05 key_derivation_update (flip bit 100 of the premaster)", keys, False),
        ("05 … + avalanche picture as PNG", _with_png(keys, cw.render_key_derivation), False),
        ("06 record_update (seal, flip bit 100, open → bad_record_mac)", record, False),
        ("06 … + byte map as PNG", _with_png(record, cw.render_record), False),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    failed = False
    print(f"{'update':<60} {'median':>9} {'worst':>9} {'cpu':>9}  network")
    for name, update, network in [*crypto_widget_cases(), *handshake_widget_cases()]:
        median, worst, cpu = measure(update, args.runs)
        flag = ""
        if not network and median > NO_NETWORK_TARGET:
            flag, failed = "  OVER 100 ms", True
        print(
            f"{name:<60} {median * 1000:>7.1f}ms {worst * 1000:>7.1f}ms {cpu * 1000:>7.1f}ms  {'yes' if network else 'no'}{flag}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
