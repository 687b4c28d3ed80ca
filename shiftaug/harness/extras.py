"""Optional measurements an experiment asks for by name in ``eval.extras``.

| name | metrics | curve |
|---|---|---|
| ``equivariance`` | ``equivariance_error_maps`` (mean over feature maps), ``invariance_error_logits`` | per-layer error |
| ``rotation`` | ``rotation_consistency_90`` (0/90/180/270, exact), ``rotation_consistency`` (every 15 degrees) | accuracy against the angle |
| ``stn`` | ``stn_slope``, ``stn_r2``: the STN's predicted shift regressed on the object's displacement | the points |
| ``pairs`` | ``pair_accuracy_overlap``, ``pair_accuracy_apart`` | accuracy against the distance between two objects |
| ``stretch`` | ``stretch_accuracy`` at the largest stretch, ``stretch_accuracy_plain`` | accuracy against the stretch |

Canvas datasets only (they need ``task.render``), except ``equivariance`` and ``rotation``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from .._checks import check_choice
from .config import EvalConfig
from .data import Task
from .metrics import (
    accuracy_vs_angle,
    equivariance_error,
    pair_accuracy,
    rotation_consistency,
    stretch_accuracy,
)
from .models import STN, feature_layers

__all__ = ["ANGLES", "EXTRAS", "STRETCHES", "run_extras"]

ANGLES = list(range(-180, 180, 15))
STRETCHES = [1.0, 1.25, 1.5, 1.75, 2.0]
Result = tuple[dict[str, Any], Any]


def _images(task: Task, cfg: EvalConfig) -> tuple[torch.Tensor, torch.Tensor]:
    n = min(cfg.images, len(task.test_images))
    return task.test_images[:n], task.test_labels[:n]


def _equivariance(model: nn.Module, task: Task, cfg: EvalConfig, g: torch.Generator) -> Result:
    images, _ = _images(task, cfg)
    layers = feature_layers(model)
    # The coarsest map's stride, so that every layer has an exact shifted target.
    step = 1 << sum(1 for name, _ in layers if "features." in name)
    errors = equivariance_error(model, layers, images[:64], step=step, margin=task.margin)
    maps = [v for k, v in errors.items() if "features." in k and v is not None]
    return {
        "equivariance_error_maps": sum(maps) / len(maps) if maps else None,
        "invariance_error_logits": errors.get("logits"),
    }, {"step": step, "error": errors}


def _rotation(model: nn.Module, task: Task, cfg: EvalConfig, g: torch.Generator) -> Result:
    images, labels = _images(task, cfg)
    views = task.view(images)
    bs = cfg.batch_size
    return {
        "rotation_consistency_90": rotation_consistency(
            model, views, [0, 90, 180, 270], batch_size=bs
        ),
        "rotation_consistency": rotation_consistency(model, views, ANGLES, batch_size=bs),
    }, {"angle": ANGLES, "accuracy": accuracy_vs_angle(model, views, labels, ANGLES, batch_size=bs)}


def _canvas(task: Task, name: str) -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
    if task.render is None or task.train_box is None:
        raise ValueError(f"`eval.extras` {name!r} needs a canvas dataset, but got {task.name!r}.")
    return task.render


def _stn(model: nn.Module, task: Task, cfg: EvalConfig, g: torch.Generator) -> Result:
    render = _canvas(task, "stn")
    net = getattr(model, "module", model)
    if not isinstance(net, STN):
        return {"stn_slope": None, "stn_r2": None}, {}
    count = min(cfg.images, len(task.test_images), 256)
    index = torch.arange(count)
    pos = torch.randint(task.free + 1, (count, 2), generator=g)
    images, _ = render(index, pos)
    device = next(net.parameters()).device
    predicted = net.predicted_shift(images.to(device)).cpu().double()
    assert task.train_box is not None  # checked by _canvas
    x0, y0, x1, y1 = task.train_box
    true = pos.double() - torch.tensor([(x0 + x1) / 2, (y0 + y1) / 2], dtype=torch.float64)
    t, p = true.flatten(), predicted.flatten()
    tc, pc = t - t.mean(), p - p.mean()
    slope = (tc @ pc / (tc @ tc)).item() if (tc @ tc) > 0 else None
    r2 = ((tc @ pc) ** 2 / ((tc @ tc) * (pc @ pc))).item() if (pc @ pc) > 0 else 0.0
    return {"stn_slope": slope, "stn_r2": r2}, {
        "true": true.tolist(),
        "predicted": predicted.tolist(),
    }


def _pair_partners(labels: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """For every object, another object of a different class."""
    order = torch.randperm(len(labels), generator=g)
    if (labels == labels[0]).all():
        return order
    partner = order.clone()
    for i in range(len(labels)):
        j = i
        while labels[order[j % len(order)]] == labels[i]:
            j += 1
        partner[i] = order[j % len(order)]
    return partner


def _pairs(model: nn.Module, task: Task, cfg: EvalConfig, g: torch.Generator) -> Result:
    render = _canvas(task, "pairs")
    count = min(cfg.grid_images * 4, len(task.test_images))
    first = torch.arange(count)
    second = _pair_partners(task.test_labels[:count], g)
    size = task.image_size[0] - task.free  # the object's side
    distances = list(range(0, task.free + 1, 2))
    both, alone = pair_accuracy(
        model, render, first, second, distances, centre=task.free // 2, batch_size=cfg.batch_size
    )
    overlap = [b for d, b in zip(distances, both, strict=True) if d < size // 2]
    apart = [b for d, b in zip(distances, both, strict=True) if d >= size]
    return {
        "pair_accuracy_overlap": sum(overlap) / len(overlap) if overlap else None,
        "pair_accuracy_apart": sum(apart) / len(apart) if apart else None,
    }, {"distance": distances, "both": both, "alone": alone, "object_size": size}


def _stretch(model: nn.Module, task: Task, cfg: EvalConfig, g: torch.Generator) -> Result:
    render = _canvas(task, "stretch")
    index = torch.arange(min(cfg.images, len(task.test_images)))
    acc = stretch_accuracy(
        model, render, index, STRETCHES, centre=task.free // 2, batch_size=cfg.batch_size
    )
    return {"stretch_accuracy": acc[-1], "stretch_accuracy_plain": acc[0]}, {
        "factor": STRETCHES,
        "accuracy": acc,
    }


EXTRAS: dict[str, Callable[[nn.Module, Task, EvalConfig, torch.Generator], Result]] = {
    "equivariance": _equivariance,
    "rotation": _rotation,
    "stn": _stn,
    "pairs": _pairs,
    "stretch": _stretch,
}


def run_extras(
    names: Sequence[str], model: nn.Module, task: Task, cfg: EvalConfig, g: torch.Generator
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the extras ``names`` (see the table above); returns ``(metrics, curves)``."""
    metrics: dict[str, Any] = {}
    curves: dict[str, Any] = {}
    for name in names:
        check_choice("eval.extras", name, tuple(EXTRAS))
        values, curve = EXTRAS[name](model, task, cfg, g)
        metrics.update(values)
        if curve:
            curves[name] = curve
    return metrics, curves
