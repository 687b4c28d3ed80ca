"""Importing an adapter without its framework names the extra that installs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from shiftaug.adapters._frameworks import missing_framework

ROOT = Path(__file__).resolve().parents[2]
MODULES = {
    "shiftaug.adapters.torchvision": "torchvision",
    "shiftaug.adapters.placement_torchvision": "torchvision",
    "shiftaug.adapters.albumentations": "albumentations",
    "shiftaug.adapters.placement_albumentations": "albumentations",
}


def test_a_missing_framework_names_its_extra() -> None:
    script = (
        "import importlib, sys\n"
        "sys.modules['torchvision'] = sys.modules['albumentations'] = None  # not installed\n"
        "import shiftaug\n"
        f"for module in {list(MODULES)!r}:\n"
        "    try:\n"
        "        importlib.import_module(module)\n"
        "    except ImportError as error:\n"
        "        print(type(error).__name__, error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", script], capture_output=True, text=True, cwd=ROOT,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"ImportError This shiftaug adapter needs {framework}, which is not installed: "
        f"pip install 'shiftaug[{framework}]'."
        for framework in MODULES.values()
    ]


def test_other_missing_modules_are_not_blamed_on_the_framework() -> None:
    error = ModuleNotFoundError("No module named 'cv2'", name="cv2")
    assert missing_framework(error, "albumentations", "albumentations") is error
    inner = ModuleNotFoundError("x", name="albumentations.core")
    message = str(missing_framework(inner, "albumentations", "albumentations"))
    assert "pip install 'shiftaug[albumentations]'" in message
