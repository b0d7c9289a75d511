"""Draw the README's picture: the handshake ladder of one real HTTPS GET, as notebook 00 draws it.

Run from the repository root (with the notebook extra installed)::

    python docs/make_readme_picture.py

It runs the same connection as notebook 00 (httpslab's client → recording relay → an OpenSSL
server through Python's ``ssl``, on 127.0.0.1) and writes ``docs/img/handshake_ladder.png``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

from httpslab.notebook.ladder import draw_ladder
from httpslab.notebook.live import https_get

OUTPUT = Path(__file__).resolve().parent / "img" / "handshake_ladder.png"


def main() -> None:
    matplotlib.use("Agg")  # a file, no window
    session = https_get("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", seed=2024)
    if not session.ok:
        raise SystemExit(f"the connection failed: {session.error}")
    ax = draw_ladder(session.transcript, title="one HTTPS GET on 127.0.0.1 (TLS 1.2, real OpenSSL server)")
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    ax.figure.savefig(OUTPUT, dpi=100, bbox_inches="tight")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
