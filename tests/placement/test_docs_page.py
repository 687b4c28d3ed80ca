"""The example that opens docs/placement.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "placement.md"


def test_placement_page_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.DOTALL)
    assert blocks, "docs/placement.md lost its example"
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(PAGE), "exec"), namespace)
    assert namespace["out"].masks.shape == (8, 3, 64, 64)  # type: ignore[attr-defined]
