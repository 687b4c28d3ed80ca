"""The Python examples of docs/experiments.md run as written, and its links resolve."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGE = DOCS / "experiments.md"


def test_python_examples_run(capsys: object) -> None:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.DOTALL)
    assert blocks
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(PAGE), "exec"), namespace)
    assert namespace["flips"] is not None


def test_committed_quick_results_are_linked() -> None:
    text = PAGE.read_text()
    for link in re.findall(r"\]\((experiments/[^)]+)\)", text):
        assert (DOCS / link).exists(), link
