"""The augmentation arms of the experiment grid.

Every arm is a callable ``arm(images, masks) -> images`` on a batch that already lives on the
training device. Ours draw one set of parameters per sample on the device; the torchvision
baseline draws one crop per call, so it is applied per sample, as a ``Dataset`` would.

| arm | what it does |
|---|---|
| ``none`` | nothing |
| ``translate`` | :class:`shiftaug.RandomTranslate`, integer shifts far enough to carry the object from the training positions to every position of the canvas |
| ``translate_reflect`` | the same shifts with ``padding_mode="reflect"`` (no black border) |
| ``jitter`` | :class:`shiftaug.RandomTranslate`, integer shifts in ``[-jitter_px, jitter_px]`` |
| ``roll`` | :class:`shiftaug.RandomTranslate` with ``padding_mode="circular"`` (a per-sample ``torch.roll``) |
| ``crop`` | torchvision ``v2.RandomCrop(size, padding=crop_padding)``: the baseline in use today |
| ``relocate`` | :class:`shiftaug.RandomRelocate`: the object cut out along its mask, moved anywhere it fits, the hole inpainted by ``inpainter`` |
| ``relocate_<backend>`` | the same with the hole filled by inpainting backend ``<backend>`` (``relocate_constant``, ``relocate_harmonic``, ``relocate_learned``, ...) |
| ``rotate`` | kornia ``RandomRotation(rotate_degrees)``: a rotation about the image centre per sample (bilinear) |
| ``copypaste`` | Simple Copy-Paste (Ghiasi et al. 2021) restricted to donors of the *same* class: each image receives the object of another image of its class in the batch, pasted whole where it overlaps nothing (``shiftaug.functional.paste_objects``, the kernel behind :class:`shiftaug.CopyPaste`), so the label stays true |

The ``learned`` backend is deterministic and costs far more than a training step of the small
models here, so its relocate arm memoises each image's fill (keyed by the image's and hole's
bytes): every epoch sees exactly the fill it would have computed, at the cost of one pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .._checks import check_choice
from ..params import RangeSpec
from .config import ArmConfig
from .data import Task

__all__ = ["ARMS", "Arm", "check_arm_name", "make_arm", "translate_range"]

ARMS = (
    "none", "translate", "translate_reflect", "jitter", "roll", "crop", "relocate", "copypaste",
    "rotate",
)  # fmt: skip


@dataclass(frozen=True)
class Arm:
    """An augmentation ``arm(images, masks, labels) -> images``.

    ``needs_masks``: it reads object masks (the training loop only gathers the batch's masks for
    arms that do); ``needs_labels``: ``apply`` also takes the labels; ``removes``: it cuts
    objects out of their background (what the removal probe measures).
    """

    name: str
    apply: Callable[..., torch.Tensor]
    needs_masks: bool = False
    needs_labels: bool = False
    removes: bool = False

    def __call__(
        self,
        images: torch.Tensor,
        masks: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if self.needs_labels:
            return self.apply(images, masks, labels)
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


def check_arm_name(name: str) -> str | None:
    """Raise unless ``name`` is an arm; return the backend of a ``relocate_<backend>`` arm.

    Example:
        >>> from shiftaug.harness.arms import check_arm_name
        >>> check_arm_name("relocate_harmonic"), check_arm_name("crop")
        ('harmonic', None)
    """
    if isinstance(name, str) and name.startswith("relocate_"):
        from ..inpaint import available_inpainters

        check_choice("arm", name, [f"relocate_{b}" for b in available_inpainters()])
        return name.removeprefix("relocate_")
    check_choice("arm", name, ARMS)
    return None


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
    inpainter = check_arm_name(name)
    if name == "none":
        return None
    from .. import RandomTranslate

    if name in ("translate", "translate_reflect", "jitter"):
        shift = cfg.jitter_px if name == "jitter" else translate_range(cfg, task)
        mode = "reflect" if name == "translate_reflect" else "zeros"
        t = RandomTranslate(shift_px=shift, padding_mode=mode, generator=generator)
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
        raise ValueError(f"`arm` {name!r} needs object masks, but dataset {task.name!r} has none.")
    if name == "copypaste":
        return Arm(name, _class_copy_paste(generator), needs_masks=True, needs_labels=True)
    from .. import RandomRelocate
    from ..inpaint import get_inpainter

    backend = inpainter or cfg.inpainter
    fill: Any = get_inpainter(backend)
    if backend == "learned":  # one memo per process: every run trains on the same images
        # Keyed by the model file's path, size and time: a retrained model is never served
        # the fills of the one it replaced.
        stat = Path(fill.checkpoint).stat()
        key = f"{backend}:{Path(fill.checkpoint).resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
        fill = _MEMOS.setdefault(key, _MemoFill(fill))
    # The exact mode of 0.1 (hard paste, hole = the mask): the arm's objects are pasted pixel
    # for pixel, as the committed results were made (0.2's defaults add a soft edge).
    relocate = RandomRelocate(
        fill, policy="uniform", blend="hard", hole_margin=0, generator=generator
    )
    return Arm(
        name, lambda images, masks: relocate(images, masks).image, needs_masks=True, removes=True
    )


class _MemoFill:
    """A deterministic fill, computed once per distinct ``(image, hole)`` (see the module doc)."""

    def __init__(self, fill: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
        self.fill = fill
        self.memo: dict[bytes, torch.Tensor] = {}

    def __call__(self, images: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
        keys = [
            hashlib.blake2b(
                image.cpu().numpy().tobytes() + hole.cpu().numpy().tobytes(), digest_size=16
            ).digest()
            for image, hole in zip(images, holes, strict=True)
        ]
        missing = [n for n, key in enumerate(keys) if key not in self.memo]
        if missing:
            filled = self.fill(images[missing], holes[missing])
            for n, image in zip(missing, filled, strict=True):
                self.memo[keys[n]] = image
        return torch.stack([self.memo[key] for key in keys]).to(images.device)


_MEMOS: dict[str, _MemoFill] = {}


def _class_copy_paste(
    generator: torch.Generator,
) -> Callable[[torch.Tensor, torch.Tensor | None, torch.Tensor | None], torch.Tensor]:
    from ..functional import paste_objects
    from ..params import sample_positions

    def arm(
        images: torch.Tensor, masks: torch.Tensor | None, labels: torch.Tensor | None
    ) -> torch.Tensor:
        if masks is None or labels is None:
            raise ValueError("`arm` 'copypaste' needs the batch's masks and labels.")
        count = len(labels)
        device = labels.device
        # Donors: the batch grouped by class in a random order; each image takes the next one of
        # its group (cyclically), so every paste keeps the label true. A class alone: no paste.
        tie = torch.randperm(count, generator=generator, device=generator.device).to(device)
        order = torch.argsort(labels * count + tie)
        ranked = labels[order]
        first = torch.searchsorted(ranked, ranked)  # start of each image's group
        after = torch.arange(1, count + 1, device=device)
        after = torch.where(
            (after < count) & (ranked[after.clamp(max=count - 1)] == ranked), after, first
        )
        donor = torch.empty_like(order)
        donor[order] = order[after]
        # Anywhere the donor's object fits whole without touching the image's own object.
        shift, found = sample_positions(
            masks[donor, 0], policy="non_overlapping", occupied=masks[:, 0], generator=generator
        )
        placed = found & (donor != torch.arange(count, device=device))
        out, _ = paste_objects(
            images, images, masks, donor[:, None], shift[:, None], placed[:, None]
        )
        return out

    return arm


def _torchvision_crop(
    size: tuple[int, int], padding: int
) -> Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]:
    from torchvision.transforms import v2

    crop = v2.RandomCrop(size, padding=padding)

    def arm(images: torch.Tensor, masks: torch.Tensor | None) -> torch.Tensor:
        # v2 draws one crop per call (vision#2929): per-sample crops need one call per sample.
        return torch.stack([crop(image) for image in images])

    return arm
