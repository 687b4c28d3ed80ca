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


CLAIMS = DOCS / "experiments" / "claims" / "results.json"
README = DOCS.parent / "README.md"


def _verdict_rows(text: str) -> dict[int, str]:
    """``{claim number: verdict}`` from table rows ``| n | ... | **verdict** ... |``."""
    rows = re.findall(
        r"^\| (\d+) \|.*?\*\*(supported|refuted|nuanced|inconclusive|pending)\*\*", text, re.M
    )
    return {int(n): v for n, v in rows}


def test_claims_verdicts_in_the_docs_are_the_committed_ones() -> None:
    import json

    committed = json.loads(CLAIMS.read_text())["claims"]
    expected = {i: row["verdict"] for i, row in enumerate(committed, 1)}
    for source in (PAGE, README, DOCS / "experiments" / "claims" / "claims.md"):
        found = _verdict_rows(source.read_text())
        assert found, source
        for n, verdict in found.items():
            assert expected[n] == verdict, (source.name, n)


def test_headline_numbers_are_read_from_committed_results() -> None:
    """Every ``x.y%`` figure in the README's headline section appears in a committed file."""
    section = README.read_text().split("## What the experiments show", 1)[1].split("\n## ", 1)[0]
    committed = "".join(p.read_text() for p in (DOCS / "experiments").glob("*/*.md"))
    for number in re.findall(r"(\d+\.\d)(?: ±|%)", section):
        assert number in committed, number
