"""The Python examples of the adapter pages run as written (CPU, each page in a fresh namespace)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGES = sorted((Path(__file__).resolve().parents[2] / "docs" / "adapters").glob("*.md"))
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.stem)
def test_adapter_page_examples_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = BLOCK.findall(page.read_text())
    assert blocks, f"{page.name} has no python example"
    monkeypatch.chdir(tmp_path)  # examples may write files (A.save)
    namespace: dict[str, object] = {}
    for block in blocks:  # blocks of one page build on each other, like a reader's session
        exec(compile(block, str(page), "exec"), namespace)
