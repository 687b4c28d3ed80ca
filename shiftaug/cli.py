"""The ``shiftaug`` command.

Each subcommand lives in its own module exposing ``add_arguments(parser)`` and ``run(args) -> int``
and is registered in :data:`COMMANDS`. Modules keep heavy imports inside ``run`` so that
``shiftaug --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence

from ._version import __version__

__all__ = ["COMMANDS", "build_parser", "main"]

# name -> (module, one-line help). A module that is not installed is left out of the menu.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("shiftaug._demo", "write a before/after gallery and print the speed headline"),
    "experiment": (
        "shiftaug.harness.cli",
        "train models with and without augmentation, measure invariance",
    ),
    "evaluate": (
        "shiftaug.harness.evaluate_cli",
        "measure the shift invariance of a model you trained (metrics JSON + report card)",
    ),
    "report": (
        "shiftaug.harness.report_cli",
        "rebuild report.md and plots from a run's results.json",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shiftaug",
        description="Batched translation and object-placement augmentation for PyTorch, "
        "and a harness that measures translation invariance.",
    )
    parser.add_argument("--version", action="version", version=f"shiftaug {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        if importlib.util.find_spec(module_name.rsplit(".", 1)[0]) is None:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name == module_name:  # not written yet / not installed
                continue
            raise
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 0
    return int(args._run(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
