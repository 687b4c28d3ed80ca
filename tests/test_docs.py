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


def _bash_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", text, re.DOTALL)]


def test_ci_installs_and_runs_what_the_readme_says() -> None:
    setup = (ROOT / "README.md").read_text().split("## Set up and run", 1)[1]
    main_command, test_command = _bash_blocks(setup)[:2]
    install, _, run = test_command.partition(" && ")
    assert main_command.startswith('pip install -e ".[harness]" && shiftaug experiment')
    ci = (ROOT / ".ci" / "run").read_text()
    assert f"python -m {install}\n" in ci
    assert f"{run} ||" in ci or f"{run}\n" in ci


def test_readme_names_every_extra() -> None:
    tomllib = pytest.importorskip("tomllib")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = extras["optional-dependencies"]
    table = (ROOT / "README.md").read_text().split("### Extras", 1)[1].split("\n\n", 2)[1]
    named = set(re.findall(r"^\| `(\w+)`(?:, `(\w+)`)? \|", table, re.MULTILINE))
    assert {n for pair in named for n in pair if n} == set(extras)
