"""``shiftaug report OUT``: rebuild ``report.md`` and the plots from ``OUT/results.json``.

``OUT`` is the experiment's output folder, given as a positional argument or as ``--out`` (as
``shiftaug experiment`` takes it); the path of ``OUT/results.json`` itself works too. No training
happens; a missing, corrupt or unwritable results folder is an error (exit code 2).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``shiftaug report``."""
    parser.add_argument(
        "folder", type=Path, nargs="?", metavar="OUT", help="an experiment's output folder"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="the same folder, named as `experiment` names it"
    )


def _folder(args: argparse.Namespace) -> Path:
    if args.folder is not None and args.out is not None and args.folder != args.out:
        raise ValueError(
            f"`OUT` and `--out` must name one folder, but got {str(args.folder)!r} and "
            f"{str(args.out)!r}."
        )
    folder = args.folder if args.folder is not None else args.out
    if folder is None:
        raise ValueError("`OUT` must name an experiment's output folder, but none was given.")
    if folder.is_file() and folder.name == "results.json":
        return folder.parent
    if folder.exists() and not folder.is_dir():
        raise ValueError(
            f"`OUT` must be an experiment's output folder (the one holding results.json), "
            f"but {str(folder)!r} is a file."
        )
    return folder


def run(args: argparse.Namespace) -> int:
    """Write the report; 2 if the results cannot be read or the report cannot be written."""
    from .report import write_report

    try:
        path = write_report(_folder(args))
    except (ValueError, OSError) as error:  # ResultsError is a ValueError
        print(f"shiftaug report: {error}", file=sys.stderr)
        return 2
    print(f"report: {path}")
    return 0
