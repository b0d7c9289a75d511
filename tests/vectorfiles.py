"""The one loader for known-answer files under tests/vectors/ (each file names its source)."""

from __future__ import annotations

from pathlib import Path

VECTORS = Path(__file__).parent / "vectors"


def load_records(path: Path) -> list[dict[str, str]]:
    """Blank-line separated ``KEY = value`` records; ``#`` lines are comments."""
    records = []
    for block in path.read_text().split("\n\n"):
        record = {}
        for line in block.splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            key, _, value = line.partition("=")
            record[key.strip()] = value.strip()
        if record:
            records.append(record)
    return records
