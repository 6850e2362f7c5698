"""docs/configuration.md documents exactly the variables the settings read."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _read_in_code() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "src" / "portal" / "config").glob("*.py"):
        names.update(
            re.findall(r"env_(?:str|bool|int|list|choice)\(\s*\"([A-Z0-9_]+)\"", path.read_text())
        )
    return names


def _documented() -> set[str]:
    text = (ROOT / "docs" / "configuration.md").read_text()
    return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", text, flags=re.MULTILINE))


def test_every_variable_is_documented_and_every_documented_variable_exists() -> None:
    in_code = _read_in_code()
    assert len(in_code) > 20
    documented = _documented()
    assert sorted(in_code - documented) == [], (
        "read by the settings but not in docs/configuration.md"
    )
    assert sorted(documented - in_code) == [], "in docs/configuration.md but read nowhere"
