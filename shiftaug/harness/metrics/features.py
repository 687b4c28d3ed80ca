"""Layer-wise metrics: embedding invariance index and feature-map equivariance error."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from ...functional import translate_image
from .shift import _device, shift_images

__all__ = ["capture", "equivariance_error", "invariance_index"]

Render = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@contextmanager
def capture(layers: Sequence[tuple[str, nn.Module]]) -> Iterator[dict[str, torch.Tensor]]:
    """Collect the (first tensor) output of each named layer during the forward passes inside.

    Args:
        layers: ``(name, module)`` pairs; the dict yielded maps each name to its module's
            detached float32 CPU output of the last forward pass.

    Example:
        >>> import torch
        >>> from shiftaug.harness.metrics import capture
        >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
        >>> with capture([("flat", net[0])]) as out:
        ...     _ = net(torch.rand(3, 1, 2, 2))
        >>> out["flat"].shape
        torch.Size([3, 4])
    """
    captured: dict[str, torch.Tensor] = {}

    def hook(name: str) -> Callable[..., None]:
        def save(module: nn.Module, args: object, output: object) -> None:
            out = output[0] if isinstance(output, (tuple, list)) else output
            if isinstance(out, torch.Tensor):
                captured[name] = out.detach().float().cpu()

        return save

    handles = [m.register_forward_hook(hook(n)) for n, m in layers]
    try:
        yield captured
    finally:
        for h in handles:
            h.remove()


@torch.no_grad()
def invariance_index(
    model: nn.Module,
    layers: Sequence[tuple[str, nn.Module]],
    render: Render,
    index: torch.Tensor,
    positions: torch.Tensor,
) -> dict[str, float]:
    """Per-layer embedding invariance index (see :mod:`shiftaug.harness.metrics`).

    Needs >= 2 objects and positions. Include the model itself as a layer (as
    :func:`~shiftaug.harness.models.feature_layers` does, named ``"logits"``) to measure the
    decision layer.

    Args:
        model: the classifier, ``(N, C, H, W) -> (N, classes)`` logits (put it in eval mode).
        layers: ``(name, module)`` pairs whose outputs are compared (e.g. from
            :func:`~shiftaug.harness.models.feature_layers`).
        render: ``render(index, positions) -> (images, labels)``: draws test object ``index[i]``
            at ``positions[i]`` (see :class:`shiftaug.harness.data.Task`).
        index: ``(O,)`` int64 test objects, ``O >= 2``.
        positions: ``(Q, 2)`` int64 ``(x, y)`` positions, ``Q >= 2``.

    Returns:
        ``{layer name: index}``, each in ``[-2, 2]``.
    """
    if len(index) < 2 or len(positions) < 2:
        raise ValueError(
            f"`index` and `positions` must hold >= 2 entries each, but got {len(index)} and "
            f"{len(positions)}."
        )
    with capture(layers) as captured:
        obj = index.repeat(len(positions))  # (Q * O,): position-major
        images, _ = render(obj, positions.repeat_interleave(len(index), 0))
        model(images.to(_device(model)))
    o, q = len(index), len(positions)
    same_obj = ~torch.eye(q, dtype=torch.bool)
    same_pos = ~torch.eye(o, dtype=torch.bool)
    result = {}
    for name, _ in layers:
        if name not in captured:
            raise ValueError(f"`layers` must output tensors, but {name!r} gave none.")
        z = F.normalize(captured[name].flatten(1), dim=1).reshape(q, o, -1)
        across_pos = torch.einsum("qod,pod->opq", z, z)[:, same_obj].mean()  # object fixed
        across_obj = torch.einsum("qod,qpd->qop", z, z)[:, same_pos].mean()  # position fixed
        result[name] = (across_pos - across_obj).item()
    return result


@torch.no_grad()
def equivariance_error(
    model: nn.Module,
    layers: Sequence[tuple[str, nn.Module]],
    images: torch.Tensor,
    *,
    step: int,
    margin: int,
) -> dict[str, float | None]:
    """Relative error of each layer's output against the shifted output of the unshifted input.

    The input is cropped from the scene with every shift ``d`` in ``{-m, .., m}^2 \\ {0}`` that
    is a multiple of ``step`` (``m = margin``, mode ``"crop"``). A layer whose map has stride
    ``s`` (input side / map side) is compared with its unshifted map moved by ``d / s``, over
    the positions both maps cover:

    ``error = ||phi(T_d x) - T_{d/s} phi(x)|| / ||T_{d/s} phi(x)||`` (sums over images and
    shifts). 0 is exact equivariance. Vector outputs (pooled features, logits) are compared
    unmoved, i.e. the error measures their *invariance*. ``None`` where ``step`` is not a
    multiple of the layer's stride.

    Args:
        model: the classifier, ``(N, C, H, W) -> (N, classes)`` logits (put it in eval mode).
        layers: ``(name, module)`` pairs whose outputs are compared (e.g. from
            :func:`~shiftaug.harness.models.feature_layers`).
        images: ``(N, C, H, W)`` scenes with ``margin`` pixels of context on every side.
        step: shifts are the multiples of ``step`` pixels (the coarsest stride: exact targets).
        margin: context pixels in ``images``; also the largest shift.

    Returns:
        ``{layer name: error}`` (``None`` where ``step`` does not fit the layer's stride).

    Example:
        >>> import torch
        >>> from shiftaug.harness.metrics import equivariance_error
        >>> conv = torch.nn.Conv2d(1, 2, 3, padding=1, bias=False)
        >>> scenes = torch.zeros(2, 1, 16, 16); scenes[:, :, 6:10, 6:10] = 1  # object inside
        >>> equivariance_error(conv, [("conv", conv)], scenes, step=2, margin=2)["conv"] < 1e-6
        True
    """
    steps = torch.arange(-margin, margin + 1)
    steps = steps[steps % step == 0]
    shifts = torch.cartesian_prod(steps, steps)
    shifts = shifts[(shifts != 0).any(1)]
    device = _device(model)
    view = images.shape[-1] - 2 * margin
    with capture(layers) as base:
        model(
            shift_images(images, torch.zeros(len(images), 2, dtype=torch.long), "crop", margin).to(
                device
            )
        )
    base = dict(base)
    num = dict.fromkeys(base, 0.0)
    den = dict.fromkeys(base, 0.0)
    for d in shifts:
        moved = shift_images(images, d.expand(len(images), 2), "crop", margin).to(device)
        with capture(layers) as out:
            model(moved)
        for name, ref in base.items():
            if ref.dim() >= 4:  # a map (group-equivariant maps carry an extra axis)
                ref = ref.flatten(1, -3)
                stride = view // ref.shape[-1]
                if view % ref.shape[-1] or step % stride:
                    num[name] = float("nan")
                    continue
                k = (d // stride).expand(len(ref), 2)
                target = translate_image(ref, k)
                valid = translate_image(torch.ones_like(ref[:, :1]), k) > 0
                diff = (out[name].flatten(1, -3) - target) * valid
                target = target * valid
            else:
                diff, target = out[name] - ref, ref
            num[name] += diff.square().sum().item()
            den[name] += target.square().sum().item()
    return {
        name: None if num[name] != num[name] or den[name] == 0 else (num[name] / den[name]) ** 0.5
        for name in base
    }
