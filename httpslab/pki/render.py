"""Text rendering of a :class:`~httpslab.pki.verify.VerificationReport` as a checklist.

The pictures (matplotlib) live in :mod:`httpslab.notebook.pki_plots`; this module needs only
the standard library, so the core can print a report anywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .verify import VerificationReport

__all__ = ["report_as_text"]


def report_as_text(report: VerificationReport) -> str:
    """One line per check (✓/✗ name: explanation (RFC)), the chain, then the verdict."""
    from .verify import describe, describe_issuer

    lines = [f"Certificate chain ({'complete' if report.path_complete else 'incomplete'}, leaf first):"]
    for depth, certificate in enumerate(report.chain):
        lines.append(f"  #{depth} {describe(certificate)}  (issuer: {describe_issuer(certificate)})")
    lines.append("Checks:")
    lines.extend(f"  {check}" for check in report.checks)
    lines.extend(f"  note: {note}" for note in report.notes)
    agreement = report.agrees_with_reference
    if agreement is not None:
        lines.append(f"Reference (cryptography.x509.verification): {'agrees' if agreement else 'DISAGREES'}")
    lines.append(("VALID: " if report.ok else "REJECTED: ") + report.summary())
    return "\n".join(lines)
