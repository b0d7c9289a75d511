"""docs/openssl-parity.md names the test that pins each OpenSSL-parity decision: they must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "docs" / "openssl-parity.md"


def test_every_test_the_parity_table_names_exists() -> None:
    references = re.findall(r"`((?:[a-z_]+/)*test_[a-z0-9_]+\.py)::(test_[a-z0-9_]+)`", TABLE.read_text())
    assert len(references) > 40
    missing = [
        f"{module}::{name}"
        for module, name in references
        if not re.search(rf"^def {name}\(", (ROOT / "tests" / module).read_text(), re.MULTILINE)
    ]
    assert missing == []
