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


def test_help_without_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "usage: shiftaug" in capsys.readouterr().out


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
