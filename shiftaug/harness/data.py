"""Offline datasets for the harness: objects on canvases, the position probe, natural images.

Canvas datasets paste a small object (a digit) on a larger canvas (black, noise or a crop of a
real photo) at a position drawn from the *training position distribution*: ``"centre"`` (the
centre +- ``jitter`` pixels), ``"region"`` (a box given as fractions of the free range) or
``"full"`` (anywhere the object fits). The test side renders the same objects at every
position of a grid, which gives the position heatmap and the seen/unseen split.

Test images carry a ``margin`` of real context on every side, so a non-circular shift of up
to ``margin`` pixels is a crop of a larger scene (Zhang 2019's protocol), never a padded
border. The model's view is the centre ``canvas x canvas`` window.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .._checks import check_choice, describe
from ..functional import translate_image, translate_mask
from .config import BACKGROUNDS, DATASETS, POSITIONS, DataConfig
from .sources import load_digits, texture_bank
from .task import Task

__all__ = ["BACKGROUNDS", "DATASETS", "POSITIONS", "Task", "make_task", "probe_patch"]


def make_task(cfg: DataConfig, *, margin: int) -> Task:
    """Load or render the dataset ``cfg`` describes; nothing is downloaded.

    Args:
        cfg: the data section of the experiment config.
        margin: context pixels around the test views (the largest shift the metrics use).

    Returns:
        The :class:`Task`.

    Example:
        >>> from shiftaug.harness.config import DataConfig
        >>> from shiftaug.harness.data import make_task
        >>> task = make_task(DataConfig(dataset="sklearn", canvas=24, object_size=8,
        ...                             train_size=64, test_size=16), margin=4)
        >>> task.train_images.shape, task.test_images.shape, task.train_box
        (torch.Size([64, 1, 24, 24]), torch.Size([16, 1, 32, 32]), (6, 6, 10, 10))
    """
    check_choice("dataset", cfg.dataset, DATASETS)
    if isinstance(margin, bool) or not isinstance(margin, int) or margin < 0:
        raise ValueError(f"`margin` must be an int >= 0, but got {describe(margin)}.")
    if cfg.dataset in ("cifar10", "imagefolder"):
        from .natural import natural_task

        return natural_task(cfg, margin=margin)
    check_choice("background", cfg.background, BACKGROUNDS)
    check_choice("positions", cfg.positions, POSITIONS)
    for name in ("canvas", "object_size", "train_size", "test_size"):
        value = getattr(cfg, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`data.{name}` must be an int >= 1, but got {describe(value)}.")
    if cfg.object_size > cfg.canvas:
        raise ValueError(
            f"`data.object_size` must be <= data.canvas={cfg.canvas}, but got {cfg.object_size}."
        )
    return _canvas_task(cfg, margin)


def probe_patch(size: int) -> torch.Tensor:
    """The position probe's object, ``(3, size, size)``: left half red, right half green.

    Example:
        >>> from shiftaug.harness.data import probe_patch
        >>> probe_patch(4)[:, 0].tolist()
        [[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]]
    """
    patch = torch.zeros(3, size, size)
    patch[0, :, : size // 2] = 1.0
    patch[1, :, size // 2 :] = 1.0
    return patch


def _objects(cfg: DataConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """``(objects (K, C, s, s) colour, alpha (K, 1, s, s))`` and ``labels (K,)`` before the split."""
    s = cfg.object_size
    if cfg.dataset == "probe":
        count = cfg.train_size + cfg.test_size
        alpha = torch.ones(count, 1, s, s)
        return probe_patch(s).expand(count, 3, s, s).contiguous(), alpha
    images, _, _ = load_digits(cfg.dataset)
    if images.shape[-1] != s:
        mode = "area" if images.shape[-1] > s else "bilinear"
        images = F.interpolate(images, size=(s, s), mode=mode).clamp(0, 1)
    return torch.ones_like(images), images


def _canvas_task(cfg: DataConfig, margin: int) -> Task:
    g = torch.Generator().manual_seed(cfg.seed)
    colour, alpha = _objects(cfg)
    if cfg.dataset == "probe":
        labels = torch.zeros(alpha.shape[0], dtype=torch.int64)  # set by position below
    else:
        labels = load_digits(cfg.dataset)[2]
    total = cfg.train_size + cfg.test_size
    if total > alpha.shape[0]:
        raise ValueError(
            f"`data.train_size + data.test_size` must be <= {alpha.shape[0]} for "
            f"{cfg.dataset!r}, but got {total}."
        )
    order = torch.randperm(alpha.shape[0], generator=g)[:total]
    colour, alpha, labels = colour[order], alpha[order], labels[order]
    channels = 3 if cfg.dataset == "probe" or cfg.background == "texture" else 1
    colour = colour.expand(-1, channels, -1, -1) if colour.shape[1] == 1 else colour
    size, s = cfg.canvas, cfg.object_size
    box = _train_box(cfg, size - s)
    backgrounds = _backgrounds(cfg.background, total, size + 2 * margin, channels, g)
    train = slice(0, cfg.train_size)
    test = slice(cfg.train_size, total)
    positions = _draw_positions(box, total, g)

    def paste(index: torch.Tensor, pos: torch.Tensor, bg: torch.Tensor) -> torch.Tensor:
        side = bg.shape[-1]
        layer = torch.zeros(len(index), channels + 1, side, side)
        layer[:, :channels, :s, :s] = colour[index]
        layer[:, channels:, :s, :s] = alpha[index]
        layer = translate_image(layer, pos)  # exact integer placement by the core kernel
        a = layer[:, channels:]
        return bg * (1 - a) + layer[:, :channels] * a

    def label_of(index: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        if cfg.dataset != "probe":
            return labels[index]
        # The probe's class is absolute position: is the patch in the left or right half?
        return (pos[:, 0] * 2 + s > size).long()

    crop = backgrounds[..., margin : margin + size, margin : margin + size]
    train_index = torch.arange(cfg.train_size)
    train_pos = positions[train]
    train_images = paste(train_index, train_pos, crop[train])
    # Every ink pixel (alpha > 0), so that a relocated digit leaves no faint ghost behind.
    train_masks = translate_mask(F.pad(alpha[train] > 0, (0, size - s, 0, size - s)), train_pos)
    test_index = torch.arange(cfg.train_size, total)
    test_images = paste(test_index, positions[test] + margin, backgrounds[test])

    def render(index: torch.Tensor, pos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return paste(cfg.train_size + index, pos, crop[cfg.train_size + index]), label_of(
            cfg.train_size + index, pos
        )

    return Task(
        name=cfg.dataset,
        train_images=train_images,
        train_labels=label_of(train_index, train_pos),
        train_masks=train_masks,
        test_images=test_images,
        test_labels=label_of(test_index, positions[test]),
        margin=margin,
        num_classes=2 if cfg.dataset == "probe" else 10,
        train_box=box,
        free=size - s,
        render=render,
    )


def _train_box(cfg: DataConfig, free: int) -> tuple[int, int, int, int]:
    if cfg.positions == "full":
        return (0, 0, free, free)
    if cfg.positions == "centre":
        c, j = free // 2, cfg.jitter
        if isinstance(j, bool) or not isinstance(j, int) or not 0 <= j <= c:
            raise ValueError(f"`data.jitter` must be an int in [0, {c}], but got {describe(j)}.")
        return (c - j, c - j, c + j, c + j)
    region = cfg.region
    if len(region) != 4 or not (
        0 <= region[0] <= region[2] <= 1 and 0 <= region[1] <= region[3] <= 1
    ):
        raise ValueError(
            f"`data.region` must be [x0, y0, x1, y1] with 0 <= x0 <= x1 <= 1 and "
            f"0 <= y0 <= y1 <= 1, but got {region!r}."
        )
    x0, y0, x1, y1 = (round(v * free) for v in region)
    return (x0, y0, x1, y1)


def _draw_positions(box: tuple[int, int, int, int], count: int, g: torch.Generator) -> torch.Tensor:
    x0, y0, x1, y1 = box
    low = torch.tensor([x0, y0])
    return (
        low + (torch.rand(count, 2, generator=g) * torch.tensor([x1 - x0 + 1, y1 - y0 + 1])).long()
    )


def _backgrounds(
    kind: str, count: int, side: int, channels: int, g: torch.Generator
) -> torch.Tensor:
    if kind == "black":
        return torch.zeros(count, channels, side, side)
    if kind == "noise":
        # Dim enough that a white digit stays the brightest thing in the image.
        return torch.rand(count, channels, side, side, generator=g) * 0.5
    return texture_bank(count, side, channels=channels, generator=g) * 0.6
