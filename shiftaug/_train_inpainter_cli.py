"""``shiftaug train-inpainter``: train the learned inpainter (a small LaMa-style GAN).

Examples::

    shiftaug train-inpainter --preset smoke --out runs/inpainter-smoke     # seconds
    shiftaug train-inpainter --preset quick --out runs/inpainter           # 1000 steps, 1 CPU core
    shiftaug train-inpainter --preset full --data photos/ --device cuda --out runs/full
    torchrun --nproc_per_node=2 -m shiftaug train-inpainter --preset full --out runs/full

Rerun the same command to resume from ``OUT/checkpoint.pt``; raise ``--steps`` to train on.
The model file ``OUT/inpainter.safetensors`` (or ``.pt``) then goes to
``get_inpainter("learned", checkpoint=...)``. Heavy imports happen inside :func:`run`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``shiftaug train-inpainter``."""
    parser.add_argument("--preset", default=None, help="smoke, quick (default) or full")
    parser.add_argument("--config", type=Path, default=None, help="YAML file over the preset")
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default runs/inpainter-<preset>)"
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="image folder (instance masks in DATA/masks/<name>.png); default: skimage photos",
    )
    parser.add_argument("--steps", type=int, default=None, help="training steps (extends a run)")
    parser.add_argument("--device", help="auto, cpu, cuda, cuda:1, mps")
    parser.add_argument("--format", choices=("safetensors", "pt"), help="model file format")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, e.g. --set net.width=32 (repeatable)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--print-config", action="store_true", help="print the resolved settings and exit"
    )


def run(args: argparse.Namespace) -> int:
    """Train as the arguments say; 2 on a configuration error."""
    import yaml

    from .inpaint.learned.config import load_inpainter_config
    from .inpaint.learned.train import train_inpainter

    overrides = list(args.set)
    for key, value in (("data", args.data), ("steps", args.steps), ("device", args.device),
                       ("format", args.format)):  # fmt: skip
        if value is not None:
            overrides.append(f"{key}={json.dumps(str(value) if key == 'data' else value)}")
    preset = args.preset if args.preset or args.config else "quick"
    try:
        cfg = load_inpainter_config(preset, args.config, overrides)
        if args.print_config:
            print(yaml.safe_dump(cfg.to_dict(), sort_keys=False), end="")
            return 0
        out = args.out or Path("runs") / f"inpainter-{preset or cfg.name}"
        path = train_inpainter(cfg, out, progress=not args.no_progress)
    except (ValueError, TypeError, OSError, yaml.YAMLError) as error:
        print(f"shiftaug train-inpainter: configuration error: {error}", file=sys.stderr)
        return 2
    if path is not None and int(os.environ.get("RANK", "0")) == 0:
        print(f"model: {path}\nuse:   get_inpainter('learned', checkpoint='{path}')")
    return 0
