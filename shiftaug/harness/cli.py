"""``shiftaug experiment``: train models with and without augmentation, measure invariance.

Examples::

    shiftaug experiment --preset quick --out runs/quick
    shiftaug experiment --preset full --out runs/full --device cuda
    torchrun --nproc_per_node=2 -m shiftaug experiment --preset full --out runs/full
    shiftaug experiment --config my.yaml --set train.epochs=3 --models cnn,vit --arms none,translate

Heavy imports (torch, timm, matplotlib) happen inside :func:`run`; :func:`help_epilog` imports
the model and arm registries, and only for ``shiftaug experiment --help``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from pathlib import Path

__all__ = ["add_arguments", "help_epilog", "run"]


def help_epilog() -> str:
    """The valid presets, model names and arm names, for ``shiftaug experiment --help``."""
    from .arms import ARMS
    from .config import available_presets
    from .models import MODEL_PRESETS

    def item(label: str, names: str) -> str:
        return textwrap.fill(f"{label}: {names}", width=78, subsequent_indent="    ")

    return "\n".join(
        [
            item("presets (--preset)", ", ".join(available_presets())),
            item(
                "models (--models)",
                ", ".join(MODEL_PRESETS) + ", timm:<name>, or a name the config defines "
                "under model_defs",
            ),
            item("arms (--arms)", ", ".join(ARMS)),
            "",
            "examples:",
            "  shiftaug experiment --preset quick --out runs/quick",
            "  shiftaug experiment --preset smoke --models cnn,vit --arms none,translate",
            "  shiftaug experiment --config my.yaml --set train.epochs=3 --seeds 0,1,2",
            "",
            textwrap.fill(
                "Rerun the same command to resume. train.threads (0: the cores free now) and "
                "the device are recorded with each run; a resume uses the same ones.",
                width=78,
            ),
        ]
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``shiftaug experiment``."""
    parser.add_argument(
        "--preset", default=None, help="built-in config: smoke, quick (default), full or probe"
    )
    parser.add_argument(
        "--config", type=Path, default=None, help="YAML config file, applied on top of the preset"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: runs/<preset>); rerun to resume",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set train.epochs=3 (repeatable)",
    )
    parser.add_argument("--models", help="comma-separated models for every block of the grid")
    parser.add_argument("--arms", help="comma-separated arms for every block of the grid")
    parser.add_argument("--seeds", help="comma-separated seeds, e.g. 0,1,2")
    parser.add_argument("--device", help="auto, cpu, cuda, cuda:1, mps")
    parser.add_argument("--data-root", help="folder with CIFAR-10 or an ImageFolder tree")
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="suites (--preset claims): parts run at once, each in its own process "
        "(default: one per usable core)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument(
        "--print-config", action="store_true", help="print the resolved config as YAML and exit"
    )


def run(args: argparse.Namespace) -> int:
    """Run the experiment the arguments describe.

    Returns:
        0 when done; 2 for a configuration, results-folder or file error (the message names the
        key or path); 1 if training diverged; 130 when interrupted (rerun to resume).
    """
    import yaml

    from .config import config_from_dict, config_to_dict, load_config
    from .experiment import ResumeError
    from .store import FolderLockedError, ResultsError

    overrides = list(args.set)
    if args.device:
        overrides.append(f"train.device={json.dumps(args.device)}")
    if args.data_root:
        overrides.append(f"data.data_root={json.dumps(args.data_root)}")
    if args.seeds:
        overrides.append(f"seeds=[{args.seeds}]")
    preset = args.preset if args.preset or args.config else "quick"
    try:
        from .claims.suite import default_jobs, load_suite, run_suite

        suite = load_suite(preset, args.config, overrides)
        if suite is not None:
            if args.models or args.arms or args.print_config:
                raise ValueError(
                    f"`--models`, `--arms` and `--print-config` must not be given for the suite "
                    f"{suite[0]!r}; use --set, or run one part's config."
                )
            out = args.out or Path("runs") / suite[0]
            jobs = default_jobs(suite[1]) if args.jobs is None else args.jobs
            path = run_suite(*suite, out, progress=not args.no_progress, jobs=jobs)
            print(f"claims:  {path}\nresults: {out / 'results.json'}")
            return 0
        if args.jobs is not None:
            raise ValueError(
                f"`--jobs` must only be given for a suite (e.g. --preset claims), but "
                f"{preset or args.config} is a single experiment; got {args.jobs!r}."
            )
        cfg = load_config(preset, args.config, overrides)
        for block in cfg.runs:
            block.models = args.models.split(",") if args.models else block.models
            block.arms = args.arms.split(",") if args.arms else block.arms
        cfg = config_from_dict(config_to_dict(cfg))  # check --models and --arms like the rest
        if args.print_config:
            print(yaml.safe_dump(config_to_dict(cfg), sort_keys=False), end="")
            return 0
        from .experiment import run_experiment

        out = args.out or Path("runs") / (preset or cfg.name)
        run_experiment(cfg, out, progress=not args.no_progress)
    except (ValueError, TypeError, OSError, yaml.YAMLError, FolderLockedError) as error:
        kinds = {ResultsError: "results", ResumeError: "resume", FolderLockedError: "folder"}
        kind = next((k for t, k in kinds.items() if isinstance(error, t)), "configuration")
        kind = "file" if isinstance(error, OSError) else kind
        print(f"shiftaug experiment: {kind} error: {error}", file=sys.stderr)
        return 2
    except FloatingPointError as error:
        print(f"shiftaug experiment: training error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("shiftaug experiment: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    if int(os.environ.get("RANK", "0")) == 0:  # under torchrun, rank 0 wrote the files
        print(f"results: {out / 'results.json'}\nreport:  {out / 'report.md'}")
    return 0
