"""httpslab.pki: a demo certificate authority and a verifier that explains every check.

Step 3 of the HTTPS flow (the client checks the server's certificate) made concrete:
build a small PKI (:class:`DemoPKI`), pick a broken case (:func:`scenario`), and watch
:func:`verify_chain` pass or fail each RFC 5280 / RFC 9525 check, cross-checked against
``cryptography.x509.verification``.
"""

from __future__ import annotations

from .ca import DemoPKI, PemFiles, demo_key, issue_certificate, write_demo_keys
from .load import load_certificates
from .scenarios import SCENARIOS, Scenario, demo_pki, scenario
from .verify import CHECK_ALERTS, CHECK_NAMES, Check, VerificationReport, dns_name_matches, verify_chain

__all__ = [
    "CHECK_ALERTS",
    "CHECK_NAMES",
    "SCENARIOS",
    "Check",
    "DemoPKI",
    "PemFiles",
    "Scenario",
    "VerificationReport",
    "demo_key",
    "demo_pki",
    "dns_name_matches",
    "issue_certificate",
    "load_certificates",
    "scenario",
    "verify_chain",
    "write_demo_keys",
]
