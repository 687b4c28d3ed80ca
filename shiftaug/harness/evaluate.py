"""Everything the harness measures on one trained model, as JSON-ready numbers.

The random shifts are drawn from a generator seeded by the data seed only, so every run of an
experiment is measured on the same images under the same shifts (paired comparisons).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .config import EvalConfig
from .data import Task
from .metrics import (
    accuracy_vs_shift,
    consistency,
    flip_rate,
    frame_shift_accuracy,
    invariance_index,
    position_accuracy,
    predict,
    realistic_shift_accuracy,
    worst_of_k,
)
from .models import feature_layers

__all__ = ["METRIC_KEYS", "evaluate", "init_consistency"]

# Keys every run's ``metrics`` holds (``None`` where a dataset has no positions).
METRIC_KEYS = (
    "accuracy",
    "consistency_circular",
    "consistency_crop",
    "flip_rate_1px",
    "mac_1px",
    "worst_of_k",
    "seen_accuracy",
    "unseen_accuracy",
    "position_gap",
    "grid_accuracy",
    "realistic_shift_accuracy",
    "frame_shift_accuracy",
    "removal_probe_accuracy",
)


def _eval_set(task: Task, cfg: EvalConfig) -> tuple[torch.Tensor, torch.Tensor]:
    n = min(cfg.images, len(task.test_images))
    return task.test_images[:n], task.test_labels[:n]


def init_consistency(model: nn.Module, task: Task, cfg: EvalConfig, *, seed: int) -> float:
    """Circular consistency of ``model`` as it is (used on the untrained network)."""
    images, _ = _eval_set(task, cfg)
    g = torch.Generator().manual_seed(seed)
    return consistency(
        model.eval(),
        images,
        max_shift=cfg.max_shift,
        mode="circular",
        margin=task.margin,
        generator=g,
        batch_size=cfg.batch_size,
    )


def evaluate(
    model: nn.Module, task: Task, cfg: EvalConfig, *, seed: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Measure ``model`` (put in eval mode) on ``task``.

    Args:
        model: the trained classifier.
        task: its data.
        cfg: evaluation sizes.
        seed: seeds the random shifts (the same for every run of an experiment).

    Returns:
        ``(metrics, curves)``: scalar metrics (:data:`METRIC_KEYS`) and the series behind the
        plots: ``heatmap`` (positions and accuracies), ``displacement`` (accuracy against the
        distance from the training positions, or against the shift for natural images) and
        ``layers`` (embedding invariance index per layer).
    """
    model.eval()
    g = torch.Generator().manual_seed(seed)
    s, m, bs = cfg.max_shift, task.margin, cfg.batch_size
    images, labels = _eval_set(task, cfg)
    logits = predict(model, task.test_images, margin=m, batch_size=bs)
    flips, mac = flip_rate(
        model, images, max_shift=s, mode="crop", margin=m, generator=g, batch_size=bs
    )
    metrics: dict[str, Any] = {
        "accuracy": (logits.argmax(1) == task.test_labels).float().mean().item(),
        "consistency_circular": consistency(
            model, images, max_shift=s, mode="circular", margin=m, generator=g, batch_size=bs
        ),
        "consistency_crop": consistency(
            model, images, max_shift=s, mode="crop", margin=m, generator=g, batch_size=bs
        ),
        "flip_rate_1px": flips,
        "mac_1px": mac,
        "worst_of_k": worst_of_k(
            model,
            images,
            labels,
            k=cfg.worst_of,
            max_shift=s,
            mode="crop",
            margin=m,
            generator=g,
            batch_size=bs,
        ),
    }
    curves: dict[str, Any] = {}
    metrics.update(_scene_shifts(model, task, cfg, seed=seed), removal_probe_accuracy=None)
    if task.render is None:
        metrics.update(
            seen_accuracy=None, unseen_accuracy=None, position_gap=None, grid_accuracy=None
        )
        steps = torch.arange(-s, s + 1)
        acc = accuracy_vs_shift(
            model, images, labels, torch.stack([steps, steps], 1), margin=m, batch_size=bs
        )
        curves["displacement"] = {"distance": steps.abs().tolist(), "accuracy": acc.tolist()}
        return metrics, curves
    metrics.update(_positions(model, task, cfg, curves))
    curves["layers"] = _layers(model, task, cfg, g)
    return metrics, curves


def _scene_shifts(model: nn.Module, task: Task, cfg: EvalConfig, *, seed: int) -> dict[str, Any]:
    """Realistic (object moves) and frame (camera moves) accuracy under the same shifts."""
    if task.render is None or task.test_positions is None:
        return {"realistic_shift_accuracy": None, "frame_shift_accuracy": None}
    # A generator of its own: the draws of the other metrics stay as they were.
    g = torch.Generator().manual_seed(seed + 7919)
    n = min(cfg.images, len(task.test_images))
    s, bs = cfg.max_shift, cfg.batch_size
    shifts = torch.randint(-s, s + 1, (n, 2), generator=g)
    index = torch.arange(n)
    return {
        "realistic_shift_accuracy": realistic_shift_accuracy(
            model, task.render, index, task.test_positions[:n], shifts, free=task.free, batch_size=bs
        ),
        "frame_shift_accuracy": frame_shift_accuracy(
            model, task.test_images[:n], task.test_labels[:n], shifts, margin=task.margin,
            batch_size=bs,
        ),
    }  # fmt: skip


def _positions(
    model: nn.Module, task: Task, cfg: EvalConfig, curves: dict[str, Any]
) -> dict[str, Any]:
    if task.render is None or task.train_box is None:
        raise ValueError(f"`task` must be a canvas dataset, but {task.name!r} has no positions.")
    grid = task.grid(cfg.grid_step)
    index = torch.arange(min(cfg.grid_images, len(task.test_images)))
    acc = position_accuracy(model, task.render, index, grid, batch_size=cfg.batch_size)
    seen = task.seen(grid)
    x0, y0, x1, y1 = task.train_box
    # Chebyshev distance in pixels from the box of training positions.
    dx = torch.maximum(torch.clamp(x0 - grid[:, 0], min=0), torch.clamp(grid[:, 0] - x1, min=0))
    dy = torch.maximum(torch.clamp(y0 - grid[:, 1], min=0), torch.clamp(grid[:, 1] - y1, min=0))
    distance = torch.maximum(dx, dy)
    levels = distance.unique()
    curves["heatmap"] = {
        "x": grid[:, 0].tolist(),
        "y": grid[:, 1].tolist(),
        "accuracy": acc.tolist(),
        "train_box": list(task.train_box),
        "free": task.free,
    }
    curves["displacement"] = {
        "distance": levels.tolist(),
        "accuracy": [acc[distance == d].mean().item() for d in levels],
    }
    seen_acc = acc[seen].mean().item() if seen.any() else None
    unseen_acc = acc[~seen].mean().item() if (~seen).any() else None
    gap = seen_acc - unseen_acc if seen_acc is not None and unseen_acc is not None else None
    return {
        "seen_accuracy": seen_acc,
        "unseen_accuracy": unseen_acc,
        "position_gap": gap,
        "grid_accuracy": acc.mean().item(),
    }


def _layers(model: nn.Module, task: Task, cfg: EvalConfig, g: torch.Generator) -> dict[str, float]:
    objects = min(cfg.layer_objects, len(task.test_images))
    if objects < 2 or cfg.layer_positions < 2 or task.render is None:
        return {}
    grid = task.grid(1)
    positions = grid[torch.randperm(len(grid), generator=g)[: cfg.layer_positions]]
    return invariance_index(
        model, feature_layers(model), task.render, torch.arange(objects), positions
    )
