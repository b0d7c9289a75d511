"""httpslab.notebook: widgets and plots for the notebooks (imports the core; never the reverse).

- :mod:`~httpslab.notebook.hexview` — annotated hex views (every byte labelled with its field);
- :mod:`~httpslab.notebook.ladder` — the message ladder of a transcript or a capture;
- :mod:`~httpslab.notebook.live` — real loopback sessions (httpslab's client ↔ OpenSSL, the demo
  server of notebook 02, the tamper hook of notebooks 04 and 06);
- :mod:`~httpslab.notebook.panel` — the panel every widget is built from;
- :mod:`~httpslab.notebook.handshake_widgets` — widgets of notebooks 00, 01, 07, 08;
- :mod:`~httpslab.notebook.pki_widgets`, :mod:`~httpslab.notebook.pki_plots` — notebook 02;
- :mod:`~httpslab.notebook.crypto_widgets`, :mod:`~httpslab.notebook.crypto_plots` — notebooks 03–06.

The computations the widgets show live in the core, :mod:`httpslab.teaching`.

Nothing is imported here, so that ``import httpslab.notebook.x`` loads only what it needs.
"""
