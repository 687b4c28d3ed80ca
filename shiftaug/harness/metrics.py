r"""Shift-invariance metrics for any classifier ``f: (N, C, H, W) -> (N, classes)`` logits.

All shifts are exact integer shifts by :func:`shiftaug.functional.translate_image` (``+dx``
moves content right, ``+dy`` down). Each metric takes a ``mode``:

- ``"circular"``: the image is rolled (``torch.roll``); nothing leaves or enters the frame.
- ``"crop"``: the images carry ``margin`` pixels of real context on every side and the model
  sees the centre window moved against the content, i.e. a crop of a larger scene (Zhang 2019).
  Needs ``margin >= max_shift``.
- any other :data:`~shiftaug.functional.PADDING_MODES` name (``"zeros"``, ``"reflect"``, ...):
  the view is shifted and the uncovered border padded.

Definitions (``T_d`` shifts by ``d``, ``ŷ(x) = argmax_k f(x)_k``, ``p = softmax f``):

$$\text{consistency} = P_{x, a, b}\big[\hat y(T_a x) = \hat y(T_b x)\big],\quad a, b \sim U\{-S..S\}^2$$

$$\text{flip rate} = P_{x, d}\big[\hat y(T_d x) \ne \hat y(T_{d + (1, 1)} x)\big],\qquad
\text{MAC} = E_{x, d}\,\big|p_k(T_d x) - p_k(T_{d + (1, 1)} x)\big|,\ k = \hat y(T_d x)$$

$$\text{worst-of-}k = P_x\big[\hat y(T_{d_i} x) = y\ \ \forall i \le k\big],\quad d_i \sim U\{-S..S\}^2$$

$$\text{invariance index}_\ell = \overline{\cos}\big(\phi_\ell(o, q), \phi_\ell(o, q')\big)
- \overline{\cos}\big(\phi_\ell(o, q), \phi_\ell(o', q)\big)$$

where ``phi_l(o, q)`` is the flattened output of layer ``l`` for object ``o`` at position
``q``: positive when the layer represents *what* more than *where*.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..functional import translate_image

__all__ = [
    "accuracy_vs_shift",
    "consistency",
    "flip_rate",
    "frame_shift_accuracy",
    "invariance_index",
    "position_accuracy",
    "predict",
    "realistic_shift_accuracy",
    "shift_images",
    "worst_of_k",
]

Render = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def _device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def shift_images(
    images: torch.Tensor, shift: torch.Tensor, mode: str = "circular", margin: int = 0
) -> torch.Tensor:
    """The model's view of ``images`` with its content moved by ``shift`` (``(N, 2)`` ``(dx, dy)``).

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


def position_accuracy(
    model: nn.Module,
    render: Render,
    index: torch.Tensor,
    positions: torch.Tensor,
    *,
    batch_size: int = 512,
) -> torch.Tensor:
    """``(P,)`` accuracy with every object ``index`` drawn at each of ``positions`` ``(P, 2)``.

    ``render(index, positions) -> (images, labels)`` draws object ``index[i]`` at
    ``positions[i]`` (see :class:`shiftaug.harness.data.Task`).
    """
    per_chunk = max(1, batch_size // max(1, len(index)))
    hits = []
    for start in range(0, len(positions), per_chunk):
        pos = positions[start : start + per_chunk]
        obj = index.repeat(len(pos))
        images, labels = render(obj, pos.repeat_interleave(len(index), 0))
        pred = predict(model, images, batch_size=batch_size).argmax(1)
        hits.append((pred == labels).float().reshape(len(pos), len(index)).mean(1))
    return torch.cat(hits)


@torch.no_grad()
def invariance_index(
    model: nn.Module,
    layers: Sequence[tuple[str, nn.Module]],
    render: Render,
    index: torch.Tensor,
    positions: torch.Tensor,
) -> dict[str, float]:
    """Per-layer embedding invariance index (see the module docstring); needs >= 2 objects and positions."""
    if len(index) < 2 or len(positions) < 2:
        raise ValueError(
            f"`index` and `positions` must hold >= 2 entries each, but got {len(index)} and "
            f"{len(positions)}."
        )
    captured: dict[str, torch.Tensor] = {}

    def hook(name: str) -> Callable[..., None]:
        def save(module: nn.Module, args: object, output: object) -> None:
            out = output[0] if isinstance(output, (tuple, list)) else output
            if isinstance(out, torch.Tensor):
                captured[name] = out.detach().float().flatten(1).cpu()

        return save

    handles = [m.register_forward_hook(hook(n)) for n, m in layers]
    try:
        obj = index.repeat(len(positions))  # (Q * O,): position-major
        images, _ = render(obj, positions.repeat_interleave(len(index), 0))
        model(images.to(_device(model)))
    finally:
        for h in handles:
            h.remove()
    o, q = len(index), len(positions)
    same_obj = ~torch.eye(q, dtype=torch.bool)
    same_pos = ~torch.eye(o, dtype=torch.bool)
    result = {}
    for name, _ in layers:
        if name not in captured:
            raise ValueError(f"`layers` must output tensors, but {name!r} gave none.")
        z = F.normalize(captured[name], dim=1).reshape(q, o, -1)
        across_pos = torch.einsum("qod,pod->opq", z, z)[:, same_obj].mean()  # object fixed
        across_obj = torch.einsum("qod,qpd->qop", z, z)[:, same_pos].mean()  # position fixed
        result[name] = (across_pos - across_obj).item()
    return result


def realistic_shift_accuracy(
    model: nn.Module,
    render: Render,
    index: torch.Tensor,
    positions: torch.Tensor,
    shifts: torch.Tensor,
    *,
    free: int,
    batch_size: int = 512,
) -> float:
    """Accuracy when each object moves by ``shifts`` over its own, unmoved background.

    Object ``index[i]``, originally at ``positions[i]``, is rendered afresh at
    ``positions[i] + shifts[i]`` (clamped to ``[0, free]``): a *realistic* shift, the object
    moves in the scene and the camera stays, unlike a frame shift (:func:`frame_shift_accuracy`),
    where the background moves with it and new context enters at the border.

    Example:
        >>> import torch
        >>> from shiftaug.harness.metrics import realistic_shift_accuracy
        >>> def render(index, pos):  # a bright pixel at pos on a 4x4 canvas; class = its column
        ...     images = torch.zeros(len(index), 1, 4, 4)
        ...     images[torch.arange(len(index)), 0, pos[:, 1], pos[:, 0]] = 1.0
        ...     return images, pos[:, 0]
        >>> class Column(torch.nn.Module):  # logits: how bright each column is
        ...     def forward(self, x):
        ...         return x[:, 0].sum(1)
        >>> realistic_shift_accuracy(Column(), render, torch.arange(2), torch.tensor([[0, 0], [1, 2]]),
        ...                          torch.tensor([[1, 1], [9, 0]]), free=3)
        1.0
    """
    moved = (positions + shifts).clamp(0, free)
    images, labels = render(index, moved)
    logits = predict(model, images, batch_size=batch_size)
    return (logits.argmax(1) == labels).float().mean().item()


def frame_shift_accuracy(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    shifts: torch.Tensor,
    *,
    margin: int,
    batch_size: int = 512,
) -> float:
    """Accuracy when the camera moves by ``shifts``: crops of the scene with real context.

    ``images`` carry ``margin`` pixels of context (``mode="crop"`` of :func:`shift_images`), so
    the whole view, object and background, moves by ``shifts[i]``.
    """
    logits = predict(model, images, shifts, mode="crop", margin=margin, batch_size=batch_size)
    return (logits.argmax(1) == labels).float().mean().item()
