"""``shiftaug evaluate``: the harness's metrics and report card for a model you trained.

Examples::

    shiftaug evaluate --model timm:resnet18 --checkpoint model.pt --data imagefolder --data-root photos/
    shiftaug evaluate --model mypackage.nets:make_net --model-args '{"num_classes": 10}' --data mnist
    shiftaug evaluate --model cnn --checkpoint runs/quick/runs/cnn__none__seed0/checkpoint.pt

Nothing is downloaded. Heavy imports happen inside :func:`run`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["add_arguments", "run"]

SUMMARY = (
    ("accuracy", "accuracy"),
    ("consistency_circular", "circular consistency"),
    ("consistency_crop", "crop consistency"),
    ("flip_rate_1px", "1-px flip rate"),
    ("worst_of_k", "worst-of-10 accuracy"),
    ("small_shift_accuracy", "worst over ±2 px"),
    ("position_gap", "seen − unseen positions"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``shiftaug evaluate``."""
    parser.add_argument(
        "--model",
        required=True,
        help="a preset (cnn, vit, ...), timm:<name> (never pretrained) or package.module:factory",
    )
    parser.add_argument("--checkpoint", type=Path, help="state dict to load (weights_only=True)")
    parser.add_argument(
        "--model-args", default="{}", help="JSON keyword arguments for the timm model or factory"
    )
    parser.add_argument(
        "--data",
        default="mnist",
        help="mnist, sklearn, probe (canvases: heatmap drawn), imagefolder or cifar10",
    )
    parser.add_argument("--data-root", help="folder for imagefolder / cifar10 (never downloaded)")
    parser.add_argument("--image-size", type=int, default=40, help="model input side in pixels")
    parser.add_argument("--out", type=Path, default=Path("runs/evaluate"), help="output folder")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="evaluation setting, e.g. --set max_shift=4 --set images=512 (see EvalConfig)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Evaluate, write the report card, print a summary; 2 on a usage error."""
    from .config import EvalConfig, _build, apply_overrides
    from .evaluation import evaluate_model

    try:
        model_args = json.loads(args.model_args)
        if not isinstance(model_args, dict):
            raise ValueError(f"`--model-args` must be a JSON object, but got {args.model_args!r}.")
        values: dict[str, object] = {}
        apply_overrides(values, args.set)
        cfg = _build(EvalConfig, values, "eval.")
        record = evaluate_model(
            args.model,
            checkpoint=args.checkpoint,
            model_args=model_args,
            data=args.data,
            data_root=args.data_root,
            image_size=args.image_size,
            out=args.out,
            device=args.device,
            eval_config=cfg,
            progress=not args.no_progress,
        )
    except (ValueError, TypeError, OSError, json.JSONDecodeError) as error:
        print(f"shiftaug evaluate: error: {error}", file=sys.stderr)
        return 2
    metrics = record["metrics"]
    print(f"{args.model} on {args.data}:")
    for key, label in SUMMARY:
        value = metrics.get(key)
        if value is not None:
            print(f"  {label:<26} {100 * value:6.1f}%")
    print(f"results: {args.out / 'results.json'}\nreport:  {args.out / 'report.md'}")
    return 0
