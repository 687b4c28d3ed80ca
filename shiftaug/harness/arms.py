"""The augmentation arms of the experiment grid.

Every arm is a callable ``arm(images, masks) -> images`` on a batch that already lives on the
training device. Ours draw one set of parameters per sample on the device; the torchvision
baseline draws one crop per call, so it is applied per sample, as a ``Dataset`` would.

| arm | what it does |
|---|---|
| ``none`` | nothing |
| ``translate`` | :class:`shiftaug.RandomTranslate`, integer shifts far enough to carry the object from the training positions to every position of the canvas |
| ``jitter`` | :class:`shiftaug.RandomTranslate`, integer shifts in ``[-jitter_px, jitter_px]`` |
| ``roll`` | :class:`shiftaug.RandomTranslate` with ``padding_mode="circular"`` (a per-sample ``torch.roll``) |
| ``crop`` | torchvision ``v2.RandomCrop(size, padding=crop_padding)``: the baseline in use today |
| ``relocate`` | :class:`shiftaug.RandomRelocate`: the object cut out along its mask, moved anywhere it fits, the hole inpainted |
| ``rotate`` | kornia ``RandomRotation(rotate_degrees)``: a rotation about the image centre per sample (bilinear) |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .._checks import check_choice
from ..params import RangeSpec
from .config import ArmConfig
from .data import Task

__all__ = ["ARMS", "Arm", "make_arm", "translate_range"]

ARMS = ("none", "translate", "jitter", "roll", "crop", "relocate", "rotate")


@dataclass(frozen=True)
class Arm:
    """An augmentation ``arm(images, masks) -> images``; ``needs_masks``: whether it reads masks
    (the training loop only gathers the batch's masks for arms that do)."""

    name: str
    apply: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]
    needs_masks: bool = False

    def __call__(self, images: torch.Tensor, masks: torch.Tensor | None = None) -> torch.Tensor:
        return self.apply(images, masks)


def translate_range(cfg: ArmConfig, task: Task) -> RangeSpec:
    """The ``shift_px`` range of the ``translate`` arm.

    With ``translate_px`` unset on a canvas dataset, ``x in [-x1, free - x0]`` (likewise for
    ``y``), where ``[x0, x1]`` are the training positions and ``free`` the largest position:
    every training position can reach every position of the canvas.

    Example:
        >>> from shiftaug.harness.arms import translate_range
        >>> from shiftaug.harness.config import ArmConfig, DataConfig
        >>> from shiftaug.harness.data import make_task
        >>> task = make_task(DataConfig("sklearn", canvas=24, object_size=8, train_size=8,
        ...                             test_size=8), margin=0)
        >>> translate_range(ArmConfig(), task)  # training positions 6..10 of 0..16
        ((-10, 10), (-10, 10))
    """
    if cfg.translate_px is not None:
        return cfg.translate_px
    if task.train_box is None:  # natural images: a quarter of the image each way
        return (task.image_size[1] // 4, task.image_size[0] // 4)
    x0, y0, x1, y1 = task.train_box
    return ((-x1, task.free - x0), (-y1, task.free - y0))


def make_arm(name: str, cfg: ArmConfig, task: Task, *, generator: torch.Generator) -> Arm | None:
    """Build arm ``name`` (``None`` for ``"none"``); ``generator`` lives on the training device.

    Example:
        >>> import torch
        >>> from shiftaug.harness.arms import make_arm
        >>> from shiftaug.harness.config import ArmConfig, DataConfig
        >>> from shiftaug.harness.data import make_task
        >>> task = make_task(DataConfig("sklearn", canvas=24, object_size=8, train_size=8,
        ...                             test_size=8), margin=0)
        >>> arm = make_arm("jitter", ArmConfig(), task, generator=torch.Generator())
        >>> arm(task.train_images, task.train_masks).shape
        torch.Size([8, 1, 24, 24])
    """
    check_choice("arm", name, ARMS)
    if name == "none":
        return None
    from .. import RandomTranslate

    if name in ("translate", "jitter"):
        shift = translate_range(cfg, task) if name == "translate" else cfg.jitter_px
        t = RandomTranslate(shift_px=shift, generator=generator)
        return Arm(name, lambda images, masks: t(images))
    if name == "roll":
        r = RandomTranslate(shift_frac=cfg.roll_frac, padding_mode="circular", generator=generator)
        return Arm(name, lambda images, masks: r(images))
    if name == "crop":
        return Arm(name, _torchvision_crop(task.image_size, cfg.crop_padding))
    if name == "rotate":
        from kornia.augmentation import RandomRotation

        rotate = RandomRotation(degrees=cfg.rotate_degrees, p=1.0)

        def rotated(images: torch.Tensor, masks: torch.Tensor | None) -> torch.Tensor:
            # kornia draws from the global RNG, which the training loop seeds every epoch.
            return (
                rotate(images.float()).to(images.dtype)
                if images.is_floating_point()
                else (rotate(images.float().div(255)).mul(255).round().to(images.dtype))
            )

        return Arm(name, rotated)
    if task.train_masks is None:
        raise ValueError(
            f"`arm` 'relocate' needs object masks, but dataset {task.name!r} has none."
        )
    from .. import RandomRelocate

    # The exact mode of 0.1 (hard paste, hole = the mask): the arm's digits are pasted pixel
    # for pixel, as the committed results were made (0.2's defaults add a soft edge).
    relocate = RandomRelocate(
        cfg.inpainter, policy="uniform", blend="hard", hole_margin=0, generator=generator
    )
    return Arm(name, lambda images, masks: relocate(images, masks).image, needs_masks=True)


def _torchvision_crop(
    size: tuple[int, int], padding: int
) -> Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]:
    from torchvision.transforms import v2

    crop = v2.RandomCrop(size, padding=padding)

    def arm(images: torch.Tensor, masks: torch.Tensor | None) -> torch.Tensor:
        # v2 draws one crop per call (vision#2929): per-sample crops need one call per sample.
        return torch.stack([crop(image) for image in images])

    return arm
