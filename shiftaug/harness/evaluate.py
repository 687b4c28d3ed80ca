"""Everything the harness measures on one trained model, as JSON-ready numbers.

The random shifts are drawn from a generator seeded by the data seed only, so every run of an
experiment is measured on the same images under the same shifts (paired comparisons).
Optional measurements (``eval.extras``) live in :mod:`~shiftaug.harness.extras`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .config import EvalConfig
from .data import Task
from .extras import EXTRAS, run_extras
from .metrics import (
    accuracy_vs_shift,
    consistency,
    flip_rate,
    invariance_index,
    max_logit_change,
    mean_se,
    predict,
    worst_of_k,
    worst_over_shifts,
)
from .models import feature_layers

__all__ = ["EXTRAS", "METRIC_KEYS", "evaluate", "init_metrics", "position_grid"]

# Keys every run's ``metrics`` holds (``None`` where a dataset has no positions).
METRIC_KEYS = (
    "accuracy",
    "consistency_circular",
    "consistency_crop",
    "flip_rate_1px",
    "mac_1px",
    "worst_of_k",
    "small_shift_accuracy",
    "seen_accuracy",
    "seen_accuracy_se",
    "unseen_accuracy",
    "unseen_accuracy_se",
    "position_gap",
    "position_gap_se",
    "grid_accuracy",
)


def _eval_set(task: Task, cfg: EvalConfig) -> tuple[torch.Tensor, torch.Tensor]:
    n = min(cfg.images, len(task.test_images))
    return task.test_images[:n], task.test_labels[:n]


def init_metrics(model: nn.Module, task: Task, cfg: EvalConfig, *, seed: int) -> dict[str, float]:
    """Shift behaviour of ``model`` as it is (used on the untrained network).

    Returns ``consistency_circular_init`` and the logit-level check: ``logit_change_init``, the
    largest logit change over every circular shift of ``eval.logit_images`` images, and
    ``logit_spread_init``, the spread of the logits over those images (see
    :func:`~shiftaug.harness.metrics.max_logit_change`).
    """
    images, _ = _eval_set(task, cfg)
    g = torch.Generator().manual_seed(seed)
    model.eval()
    kw: dict[str, Any] = {"margin": task.margin, "batch_size": cfg.batch_size}
    change, spread = max_logit_change(
        model, task.view(images[: cfg.logit_images]), batch_size=cfg.batch_size
    )
    return {
        "consistency_circular_init": consistency(
            model, images, max_shift=cfg.max_shift, mode="circular", generator=g, **kw
        ),
        "logit_change_init": change,
        "logit_spread_init": spread,
    }


def evaluate(
    model: nn.Module,
    task: Task,
    cfg: EvalConfig,
    *,
    seed: int,
    progress: Callable[[str], None] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Measure ``model`` (put in eval mode) on ``task``.

    Args:
        model: the trained classifier.
        task: its data.
        cfg: evaluation sizes and extras.
        seed: seeds the random shifts and sub-grids (the same for every run of an experiment).
        progress: called with the name of each stage before it runs (progress bars).

    Returns:
        ``(metrics, curves)``: scalar metrics (:data:`METRIC_KEYS` and those of the extras)
        and the series behind the plots: ``shift`` (accuracy against a diagonal shift),
        ``heatmap`` (positions and accuracies), ``displacement`` (accuracy against the distance
        from the training positions), ``layers`` (embedding invariance index per layer), and
        one entry per extra.
    """
    model.eval()
    step = progress or (lambda stage: None)
    g = torch.Generator().manual_seed(seed)
    s, bs = cfg.max_shift, cfg.batch_size
    kw: dict[str, Any] = {"margin": task.margin, "batch_size": bs}
    images, labels = _eval_set(task, cfg)
    step("accuracy, consistency, flips")
    logits = predict(model, task.test_images, **kw)
    flips, mac = flip_rate(model, images, max_shift=s, mode="crop", generator=g, **kw)
    metrics: dict[str, Any] = {
        "accuracy": (logits.argmax(1) == task.test_labels).float().mean().item(),
        "consistency_circular": consistency(
            model, images, max_shift=s, mode="circular", generator=g, **kw
        ),
        "consistency_crop": consistency(model, images, max_shift=s, mode="crop", generator=g, **kw),
        "flip_rate_1px": flips,
        "mac_1px": mac,
        "worst_of_k": worst_of_k(
            model, images, labels, k=cfg.worst_of, max_shift=s, mode="crop", generator=g, **kw
        ),
        "small_shift_accuracy": worst_over_shifts(
            model, images, labels, max_shift=min(cfg.small_shift, s), mode="crop", **kw
        ),
    }
    step("accuracy against the shift")
    steps = torch.arange(-s, s + 1)
    acc = accuracy_vs_shift(model, images, labels, torch.stack([steps, steps], 1), **kw)
    curves: dict[str, Any] = {"shift": {"shift": steps.tolist(), "accuracy": acc.tolist()}}
    if task.render is None:
        metrics.update(dict.fromkeys(METRIC_KEYS[7:]))
        curves["displacement"] = {"distance": steps.abs().tolist(), "accuracy": acc.tolist()}
    else:
        step("position heatmap")
        metrics.update(_positions(model, task, cfg, curves, g))
        step("layers")
        curves["layers"] = _layers(model, task, cfg, g)
    if cfg.extras:
        step("extras: " + ", ".join(cfg.extras))
    extra_metrics, extra_curves = run_extras(cfg.extras, model, task, cfg, g)
    metrics.update(extra_metrics)
    curves.update(extra_curves)
    return metrics, curves


def position_grid(task: Task, step: int, count: int, g: torch.Generator) -> torch.Tensor:
    """``(K, 3)`` rows ``(object, x, y)``: every object at every position of its grid.

    ``step == 1`` is the full grid for every object. With ``step > 1`` each object gets its own
    random offset in ``{0..step-1}^2``, so every position is equally likely to be tested (an
    unbiased sample, unlike one fixed sub-grid).
    """
    axis = torch.arange(task.free + 1)
    rows = []
    for o in range(count):
        off = (
            torch.randint(step, (2,), generator=g) if step > 1 else torch.zeros(2, dtype=torch.long)
        )
        xs, ys = axis[off[0] :: step], axis[off[1] :: step]
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        pos = torch.stack([gx.flatten(), gy.flatten()], 1)
        rows.append(torch.cat([torch.full((len(pos), 1), o), pos], 1))
    return torch.cat(rows)


def _hits(model: nn.Module, task: Task, grid: torch.Tensor, batch_size: int) -> torch.Tensor:
    assert task.render is not None
    out = []
    for start in range(0, len(grid), batch_size):
        chunk = grid[start : start + batch_size]
        images, labels = task.render(chunk[:, 0], chunk[:, 1:])
        out.append(predict(model, images, batch_size=batch_size).argmax(1) == labels)
    return torch.cat(out)


def _positions(
    model: nn.Module, task: Task, cfg: EvalConfig, curves: dict[str, Any], g: torch.Generator
) -> dict[str, Any]:
    if task.render is None or task.train_box is None:
        raise ValueError(f"`task` must be a canvas dataset, but {task.name!r} has no positions.")
    if isinstance(cfg.grid_step, bool) or not isinstance(cfg.grid_step, int) or cfg.grid_step < 1:
        raise ValueError(f"`eval.grid_step` must be an int >= 1, but got {cfg.grid_step!r}.")
    count = min(cfg.grid_images, len(task.test_images))
    grid = position_grid(task, cfg.grid_step, count, g)
    hits = _hits(model, task, grid, cfg.batch_size).float()
    seen = task.seen(grid[:, 1:])
    # Per object: accuracy at seen / unseen positions; standard errors over objects.
    per_obj = {}
    for name, mask in (("seen", seen), ("unseen", ~seen)):
        sums = torch.zeros(count).index_add_(0, grid[mask, 0], hits[mask])
        n = torch.zeros(count).index_add_(0, grid[mask, 0], torch.ones(int(mask.sum())))
        per_obj[name] = (sums / n)[n > 0]
    both = per_obj["seen"].numel() == count and per_obj["unseen"].numel() == count
    out: dict[str, Any] = {"grid_accuracy": hits.mean().item()}
    for name in ("seen", "unseen"):
        mean, se = mean_se(per_obj[name]) if per_obj[name].numel() else (None, None)
        out[f"{name}_accuracy"], out[f"{name}_accuracy_se"] = mean, se
    gap = mean_se(per_obj["seen"] - per_obj["unseen"]) if both and count else (None, None)
    out["position_gap"], out["position_gap_se"] = gap
    positions, inverse = grid[:, 1:].unique(dim=0, return_inverse=True)
    acc = torch.zeros(len(positions)).index_add_(0, inverse, hits)
    acc /= torch.zeros(len(positions)).index_add_(0, inverse, torch.ones(len(hits)))
    x0, y0, x1, y1 = task.train_box
    px, py = positions[:, 0], positions[:, 1]
    # Chebyshev distance in pixels from the box of training positions.
    dx = torch.maximum(torch.clamp(x0 - px, min=0), torch.clamp(px - x1, min=0))
    dy = torch.maximum(torch.clamp(y0 - py, min=0), torch.clamp(py - y1, min=0))
    distance = torch.maximum(dx, dy)
    levels = distance.unique()
    curves["heatmap"] = {
        "x": px.tolist(),
        "y": py.tolist(),
        "accuracy": acc.tolist(),
        "train_box": list(task.train_box),
        "free": task.free,
    }
    curves["displacement"] = {
        "distance": levels.tolist(),
        "accuracy": [acc[distance == d].mean().item() for d in levels],
    }
    return out


def _layers(model: nn.Module, task: Task, cfg: EvalConfig, g: torch.Generator) -> dict[str, float]:
    objects = min(cfg.layer_objects, len(task.test_images))
    if objects < 2 or cfg.layer_positions < 2 or task.render is None:
        return {}
    grid = task.grid(1)
    positions = grid[torch.randperm(len(grid), generator=g)[: cfg.layer_positions]]
    return invariance_index(
        model, feature_layers(model), task.render, torch.arange(objects), positions
    )
