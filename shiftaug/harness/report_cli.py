"""``shiftaug report OUT``: rebuild ``report.md`` and the plots from ``OUT/results.json``.

No training happens; a corrupt or missing results file is reported as an error (exit code 2).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``shiftaug report``."""
    parser.add_argument("out", type=Path, help="an experiment's output folder")


def run(args: argparse.Namespace) -> int:
    """Write the report; 2 if the results cannot be read."""
    from .report import write_report
    from .store import ResultsError

    try:
        path = write_report(args.out)
    except ResultsError as error:
        print(f"shiftaug report: {error}", file=sys.stderr)
        return 2
    print(f"report: {path}")
    return 0
