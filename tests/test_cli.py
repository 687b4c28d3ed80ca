"""The ``shiftaug`` command: --version, --help, python -m."""

from __future__ import annotations

import subprocess
import sys

import pytest

import shiftaug
from shiftaug.cli import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"shiftaug {shiftaug.__version__}"


def test_no_command_prints_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: shiftaug") and "a COMMAND is required" in err


def test_bad_option_shows_the_usage_of_its_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["experiment", "--bogus"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: shiftaug experiment") and "--preset PRESET" in err
    assert "shiftaug experiment: error: unrecognized arguments: --bogus" in err
    with pytest.raises(SystemExit):
        main(["report", "runs/x", "--bogus"])
    assert capsys.readouterr().err.startswith("usage: shiftaug report")
    with pytest.raises(SystemExit):  # before the command, it is the top-level parser's
        main(["--bogus", "demo"])
    assert capsys.readouterr().err.startswith("usage: shiftaug [-h]")


def test_help_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from shiftaug.cli import build_parser\n"
        "text = build_parser().format_help()\n"
        "assert 'experiment' in text and 'report' in text, text\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'numpy')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_experiment_help_lists_presets_models_and_arms(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from shiftaug.harness.arms import ARMS
    from shiftaug.harness.config import available_presets
    from shiftaug.harness.models import MODEL_PRESETS

    with pytest.raises(SystemExit) as exit_info:
        main(["experiment", "--help"])
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # undo the line wrapping
    assert "presets (--preset): " + ", ".join(available_presets()) in out
    assert {"quick", "smoke"} <= set(available_presets())
    assert "models (--models): " + ", ".join(MODEL_PRESETS) + ", timm:<name>" in out
    assert "arms (--arms): " + ", ".join(ARMS) in out


def test_unknown_command_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["no-such-command"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_python_dash_m() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shiftaug", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == f"shiftaug {shiftaug.__version__}"
