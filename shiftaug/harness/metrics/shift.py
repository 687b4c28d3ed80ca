"""Shift metrics: consistency, 1-pixel flips, accuracy under shifts, logit-level invariance.

All shifts are exact integer shifts by :func:`shiftaug.functional.translate_image`; ``mode`` is
``"circular"``, ``"crop"`` or a padding mode (see :mod:`shiftaug.harness.metrics`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ...functional import translate_image

__all__ = [
    "accuracy_vs_shift",
    "consistency",
    "flip_rate",
    "max_logit_change",
    "predict",
    "shift_images",
    "worst_of_k",
    "worst_over_shifts",
]


def _device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def shift_images(
    images: torch.Tensor, shift: torch.Tensor, mode: str = "circular", margin: int = 0
) -> torch.Tensor:
    """The model's view of ``images`` with its content moved by ``shift`` (``(N, 2)`` ``(dx, dy)``).

    Args:
        images: ``(N, C, H, W)`` images (scenes with ``margin`` pixels of context for ``"crop"``).
        shift: ``(N, 2)`` integer ``(dx, dy)`` shifts in pixels.
        mode: ``"circular"``, ``"crop"`` or a padding mode (see :mod:`shiftaug.harness.metrics`).
        margin: context pixels around the view, cropped away (``>= |shift|`` for ``"crop"``).

    Returns:
        ``(N, C, H - 2 margin, W - 2 margin)`` views.

    Example:
        >>> import torch
        >>> from shiftaug.harness.metrics import shift_images
        >>> scene = torch.arange(36.0).reshape(1, 1, 6, 6)  # a 4x4 view with 1 pixel of context
        >>> shift_images(scene, torch.tensor([[1, 0]]), "crop", margin=1)[0, 0, 0].tolist()
        [6.0, 7.0, 8.0, 9.0]
    """
    if mode == "crop":
        if shift.numel() and int(shift.abs().max()) > margin:
            raise ValueError(
                f"`shift` must stay within the margin of {margin} pixels in mode 'crop', but got "
                f"{int(shift.abs().max())}."
            )
        moved = translate_image(images, shift)
    else:
        moved = images
    h, w = images.shape[-2:]
    view = moved[..., margin : h - margin, margin : w - margin]
    return view if mode == "crop" else translate_image(view, shift, padding_mode=mode)


@torch.no_grad()
def predict(
    model: nn.Module,
    images: torch.Tensor,
    shift: torch.Tensor | None = None,
    *,
    mode: str = "circular",
    margin: int = 0,
    batch_size: int = 512,
) -> torch.Tensor:
    """Logits of ``model`` on (shifted views of) ``images``, in batches, as float32 on the CPU.

    Args:
        model: the classifier, ``(N, C, H, W) -> (N, classes)`` logits (put it in eval mode).
        images: ``(N, C, H, W)`` float or uint8 images; in mode ``"crop"`` scenes with
            ``margin`` pixels of context on every side.
        shift: ``(N, 2)`` integer ``(dx, dy)`` shifts in pixels; ``None``: no shift.
        mode: ``"circular"``, ``"crop"`` or a padding mode (see :mod:`shiftaug.harness.metrics`).
        margin: context pixels around the view in ``images`` (``>= max_shift`` for ``"crop"``).
        batch_size: images per forward pass.

    Returns:
        ``(N, classes)`` float32 logits.

    Example:
        >>> import torch
        >>> from shiftaug.harness.metrics import predict
        >>> predict(torch.nn.Flatten(), torch.rand(5, 1, 2, 2), batch_size=2).shape
        torch.Size([5, 4])
    """
    device = _device(model)
    shift = torch.zeros(len(images), 2, dtype=torch.long) if shift is None else shift
    out = []
    for start in range(0, len(images), batch_size):
        chunk = images[start : start + batch_size].to(device)
        view = shift_images(chunk, shift[start : start + batch_size].to(device), mode, margin)
        view = view.float().div(255) if view.dtype == torch.uint8 else view
        out.append(model(view).float().cpu())
    return torch.cat(out) if out else torch.zeros(0, 0)


def _shifts(
    count: int, max_shift: int, generator: torch.Generator | None, high: int | None = None
) -> torch.Tensor:
    high = max_shift if high is None else high
    return torch.randint(-max_shift, high + 1, (count, 2), generator=generator)


def consistency(
    model: nn.Module,
    images: torch.Tensor,
    *,
    max_shift: int,
    mode: str = "circular",
    margin: int = 0,
    generator: torch.Generator | None = None,
    batch_size: int = 512,
) -> float:
    """Probability that two random shifts in ``{-S..S}^2`` give the same top-1 class.

    Args:
        model: the classifier, ``(N, C, H, W) -> (N, classes)`` logits (put it in eval mode).
        images: ``(N, C, H, W)`` float or uint8 images; in mode ``"crop"`` scenes with
            ``margin`` pixels of context on every side.
        max_shift: ``S``: shifts are drawn from ``{-S..S}^2`` pixels.
        mode: ``"circular"``, ``"crop"`` or a padding mode (see :mod:`shiftaug.harness.metrics`).
        margin: context pixels around the view in ``images`` (``>= max_shift`` for ``"crop"``).
        generator: source of the random shifts (``None``: torch's global generator).
        batch_size: images per forward pass.

    Returns:
        The consistency in ``[0, 1]``.

    Example:
        >>> import torch
        >>> from shiftaug.harness.metrics import consistency
        >>> gap = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
        >>> consistency(gap, torch.rand(8, 3, 8, 8), max_shift=4)  # pooling is roll invariant
        1.0
    """
    a, b = _shifts(len(images), max_shift, generator), _shifts(len(images), max_shift, generator)
    pa = predict(model, images, a, mode=mode, margin=margin, batch_size=batch_size).argmax(1)
    pb = predict(model, images, b, mode=mode, margin=margin, batch_size=batch_size).argmax(1)
    return (pa == pb).float().mean().item()


def flip_rate(
    model: nn.Module,
    images: torch.Tensor,
    *,
    max_shift: int,
    mode: str = "crop",
    margin: int = 0,
    generator: torch.Generator | None = None,
    batch_size: int = 512,
) -> tuple[float, float]:
    """``(flip rate, MAC)`` between shifts ``d`` and ``d + (1, 1)``, ``d in {-S..S-1}^2``.

    Args:
        model: the classifier, ``(N, C, H, W) -> (N, classes)`` logits (put it in eval mode).
        images: ``(N, C, H, W)`` float or uint8 images; in mode ``"crop"`` scenes with
            ``margin`` pixels of context on every side.
        max_shift: ``S``: the first shift ``d`` is drawn from ``{-S..S-1}^2`` pixels.
        mode: ``"circular"``, ``"crop"`` or a padding mode (see :mod:`shiftaug.harness.metrics`).
        margin: context pixels around the view in ``images`` (``>= max_shift`` for ``"crop"``).
        generator: source of the random shifts (``None``: torch's global generator).
        batch_size: images per forward pass.

    Returns:
        ``(flip rate, MAC)``, both in ``[0, 1]``.

    Example:
        >>> import torch
        >>> from shiftaug.harness.metrics import flip_rate
        >>> gap = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
        >>> flips, mac = flip_rate(gap, torch.rand(8, 3, 8, 8), max_shift=2, mode="circular")
        >>> flips, round(mac, 6)
        (0.0, 0.0)
    """
    d = _shifts(len(images), max_shift, generator, high=max_shift - 1)
    p0 = predict(model, images, d, mode=mode, margin=margin, batch_size=batch_size).softmax(1)
    p1 = predict(model, images, d + 1, mode=mode, margin=margin, batch_size=batch_size).softmax(1)
    top = p0.argmax(1, keepdim=True)
    flips = (top[:, 0] != p1.argmax(1)).float().mean().item()
    mac = (p0.gather(1, top) - p1.gather(1, top)).abs().mean().item()
    return flips, mac


def accuracy_vs_shift(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    shifts: torch.Tensor | Sequence[Sequence[int]],
    *,
    mode: str = "crop",
    margin: int = 0,
    batch_size: int = 512,
) -> torch.Tensor:
    """``(K,)`` accuracy with every image shifted by ``shifts[k]``.

    Args:
        model: the classifier, ``(N, C, H, W) -> (N, classes)`` logits (put it in eval mode).
        images: ``(N, C, H, W)`` float or uint8 images; in mode ``"crop"`` scenes with
            ``margin`` pixels of context on every side.
        labels: ``(N,)`` int64 true classes.
        shifts: ``(K, 2)`` integer ``(dx, dy)`` shifts in pixels (a tensor or nested sequence).
        mode: ``"circular"``, ``"crop"`` or a padding mode (see :mod:`shiftaug.harness.metrics`).
        margin: context pixels around the view in ``images`` (``>= max_shift`` for ``"crop"``).
        batch_size: images per forward pass.

    Example:
        >>> import torch
        >>> from shiftaug.harness.metrics import accuracy_vs_shift
        >>> x = torch.eye(4)[:, None, None, :]  # one bright pixel per image; the label is its column
        >>> accuracy_vs_shift(torch.nn.Flatten(), x, torch.arange(4), [[0, 0], [1, 0]], mode="circular")
        tensor([1., 0.])
    """
    shifts = torch.as_tensor(shifts, dtype=torch.long).reshape(-1, 2)
    out = []
    for d in shifts:
        logits = predict(
            model, images, d.expand(len(images), 2), mode=mode, margin=margin, batch_size=batch_size
        )
        out.append((logits.argmax(1) == labels.cpu()).float().mean())
    return torch.stack(out) if out else torch.zeros(0)


def worst_of_k(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    k: int = 10,
    max_shift: int,
    mode: str = "crop",
    margin: int = 0,
    generator: torch.Generator | None = None,
    batch_size: int = 512,
) -> float:
    """Fraction of images classified correctly under all of ``k`` random shifts (Engstrom 2019).

    Args:
        model: the classifier, ``(N, C, H, W) -> (N, classes)`` logits (put it in eval mode).
        images: ``(N, C, H, W)`` float or uint8 images; in mode ``"crop"`` scenes with
            ``margin`` pixels of context on every side.
        labels: ``(N,)`` int64 true classes.
        k: the number of random shifts per image.
        max_shift: ``S``: shifts are drawn from ``{-S..S}^2`` pixels.
        mode: ``"circular"``, ``"crop"`` or a padding mode (see :mod:`shiftaug.harness.metrics`).
        margin: context pixels around the view in ``images`` (``>= max_shift`` for ``"crop"``).
        generator: source of the random shifts (``None``: torch's global generator).
        batch_size: images per forward pass.

    Example:
        >>> import torch
        >>> from shiftaug.harness.metrics import worst_of_k
        >>> x = torch.eye(4)[:, None, None, :]
        >>> worst_of_k(torch.nn.Flatten(), x, torch.arange(4), max_shift=0, mode="circular")
        1.0
    """
    correct = torch.ones(len(images), dtype=torch.bool)
    for _ in range(k):
        d = _shifts(len(images), max_shift, generator)
        logits = predict(model, images, d, mode=mode, margin=margin, batch_size=batch_size)
        correct &= logits.argmax(1) == labels.cpu()
    return correct.float().mean().item()


def worst_over_shifts(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    max_shift: int,
    mode: str = "crop",
    margin: int = 0,
    batch_size: int = 512,
) -> float:
    """Fraction of images classified correctly under *every* shift in ``{-S..S}^2``.

    The exhaustive (adversarial) version of :func:`worst_of_k` for small ``S``.

    Args:
        model: the classifier, ``(N, C, H, W) -> (N, classes)`` logits (put it in eval mode).
        images: ``(N, C, H, W)`` float or uint8 images; in mode ``"crop"`` scenes with
            ``margin`` pixels of context on every side.
        labels: ``(N,)`` int64 true classes.
        max_shift: ``S``: every shift in ``{-S..S}^2`` pixels is tried.
        mode: ``"circular"``, ``"crop"`` or a padding mode (see :mod:`shiftaug.harness.metrics`).
        margin: context pixels around the view in ``images`` (``>= max_shift`` for ``"crop"``).
        batch_size: images per forward pass.

    Example:
        >>> import torch
        >>> from shiftaug.harness.metrics import worst_over_shifts
        >>> x = torch.eye(4)[:, None, None, :]
        >>> worst_over_shifts(torch.nn.Flatten(), x, torch.arange(4), max_shift=1, mode="circular")
        0.0
    """
    steps = torch.arange(-max_shift, max_shift + 1)
    grid = torch.cartesian_prod(steps, steps)
    correct = torch.ones(len(images), dtype=torch.bool)
    for d in grid:
        logits = predict(
            model, images, d.expand(len(images), 2), mode=mode, margin=margin, batch_size=batch_size
        )
        correct &= logits.argmax(1) == labels.cpu()
    return correct.float().mean().item()


@torch.no_grad()
def max_logit_change(
    model: nn.Module, images: torch.Tensor, *, batch_size: int = 512
) -> tuple[float, float]:
    """``(change, spread)``: the largest ``|f(roll_d x) - f(x)|`` over *every* circular shift ``d``
    of the ``(H, W)`` grid, and the standard deviation of the logits over images and classes.

    A model is invariant to circular shifts at the logit level when ``change`` is at rounding
    level *and* ``spread`` is not (the model does respond to its input). Unlike consistency this
    is meaningful for an untrained network that predicts one class for every image.

    Args:
        model: the classifier, ``(N, C, H, W) -> (N, classes)`` logits (put it in eval mode).
        images: ``(N, C, H, W)`` images (the model's own view size).
        batch_size: images per forward pass.

    Example:
        >>> import torch
        >>> from shiftaug.harness.metrics import max_logit_change
        >>> gap = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
        >>> change, spread = max_logit_change(gap, torch.rand(3, 2, 4, 4))
        >>> change < 1e-6 < spread
        True
    """
    h, w = images.shape[-2:]
    n = len(images)
    base = predict(model, images, mode="circular", batch_size=batch_size)
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    shifts = torch.stack([xs.flatten(), ys.flatten()], 1)[1:]  # every roll but the identity
    per_chunk = max(1, batch_size // max(1, n))
    change = 0.0
    for start in range(0, len(shifts), per_chunk):
        chunk = shifts[start : start + per_chunk]
        out = predict(
            model,
            images.repeat(len(chunk), 1, 1, 1),
            chunk.repeat_interleave(n, 0),
            mode="circular",
            batch_size=batch_size,
        )
        change = max(change, (out - base.repeat(len(chunk), 1)).abs().max().item())
    return change, base.std().item() if base.numel() > 1 else 0.0
