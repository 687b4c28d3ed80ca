"""The Python examples in the README and the user guide run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["README.md", "docs/index.md", "docs/quickstart.md"]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


@pytest.mark.parametrize("page", PAGES)
def test_python_examples_run(page: str) -> None:
    text = (ROOT / page).read_text()
    blocks = BLOCK.findall(text)
    assert blocks, f"{page} has no python example"
    namespace: dict[str, object] = {}
    for block in blocks:  # blocks of one page build on each other, like a reader's session
        exec(compile(block, f"{page}", "exec"), namespace)
