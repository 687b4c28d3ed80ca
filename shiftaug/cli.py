"""The ``shiftaug`` command.

Each subcommand lives in its own module exposing ``add_arguments(parser)`` and ``run(args) -> int``
and is registered in :data:`COMMANDS`. Modules keep heavy imports inside ``run`` so that
``shiftaug --help`` starts without loading torch. A module may also define ``help_epilog() -> str``:
text shown at the end of its ``--help`` only, computed then (it may import what it needs).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Callable, Sequence

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
    "train-inpainter": (
        "shiftaug._train_inpainter_cli",
        "train the learned (GAN) inpainter on photos or your own image folder",
    ),
}


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose epilog may be computed when its help is shown."""

    epilog_factory: Callable[[], str] | None = None

    def format_help(self) -> str:
        if self.epilog_factory is not None:
            self.epilog, self.epilog_factory = self.epilog_factory(), None
        return super().format_help()


def build_parser() -> argparse.ArgumentParser:
    """The ``shiftaug`` parser with one subparser per installed :data:`COMMANDS` entry."""
    return _build()[0]


def _build() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    parser = _Parser(
        prog="shiftaug",
        description="Batched translation and object-placement augmentation for PyTorch, "
        "and a harness that measures translation invariance.",
    )
    parser.add_argument("--version", action="version", version=f"shiftaug {__version__}")
    commands: dict[str, argparse.ArgumentParser] = {}
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module_name, help_text) in COMMANDS.items():
        if importlib.util.find_spec(module_name.rsplit(".", 1)[0]) is None:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name == module_name:  # not written yet / not installed
                continue
            raise
        sub = subparsers.add_parser(
            name,
            help=help_text,
            description=help_text,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.epilog_factory = getattr(module, "help_epilog", None)
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run)
        commands[name] = sub
    return parser, commands


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit status.

    Usage errors (no command, an unknown option) print the usage of the command they concern and
    exit with status 2, as argparse does.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, commands = _build()
    args, extra = parser.parse_known_args(argv)
    if getattr(args, "_run", None) is None:
        parser.error("a COMMAND is required (see shiftaug --help)")
    if extra:
        # An option after the command belongs to the command: show that command's usage.
        before = argv.index(args.command) > argv.index(extra[0]) if extra[0] in argv else False
        owner = parser if before else commands[args.command]
        owner.error(f"unrecognized arguments: {' '.join(extra)}")
    return int(args._run(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
