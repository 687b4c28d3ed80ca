"""Detection samples in, detection samples out: checks, the objects' keys, torchvision types.

A sample is ``(image, target)``: ``image`` a ``(C, H, W)`` tensor (``tv_tensors.Image`` or
plain), ``target`` a dict whose *object keys* hold one entry per object (``masks (K, H, W)``,
``boxes (K, 4)``, ``labels (K,)``, ``area``, ``iscrowd``, ``keypoints (K, P, 2)``, as tensors,
torchvision ``tv_tensors`` or lists) and whose other keys (``image_id``, ...) pass through. A
target without ``masks`` has no objects (the COCO v2 wrapper returns ``{"image_id": ...}`` for
images without annotations).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from .._checks import describe
from ..functional._boxes import convert_boxes_
from ..functional._wide import narrow

__all__ = ["OBJECT_KEYS", "Layout", "Sample", "entry_count", "parse_samples", "select", "wrap_like"]

OBJECT_KEYS = ("boxes", "labels", "masks", "area", "iscrowd", "keypoints")
_FORMATS = ("xyxy", "xywh", "cxcywh")


@dataclass
class Sample:
    """One parsed sample: plain tensors on the working device, plus the caller's originals."""

    image: torch.Tensor  # (C, H, W)
    image_like: Any  # the caller's image, to give the output the same type
    target: dict[str, Any]  # the caller's target (never modified)
    count: int  # K objects
    masks: torch.Tensor | None = None  # (K, H, W) bool, or uint8 holding 0/1
    boxes: torch.Tensor | None = None  # (K, 4) float32 xyxy
    values: dict[str, Any] = field(default_factory=dict)  # other object keys: tensors or lists

    @property
    def size(self) -> tuple[int, int]:
        return int(self.image.shape[-2]), int(self.image.shape[-1])


@dataclass(frozen=True)
class Layout:
    """What the batch's targets share: the object keys in use and a template for each."""

    keys: tuple[str, ...]
    templates: dict[str, Any]  # the first value of each key (type, dtype, box format)
    box_format: str  # for plain-tensor boxes


def parse_samples(
    samples: object, object_keys: Sequence[str], box_format: str, device: torch.device | None
) -> tuple[list[Sample], Layout]:
    """Check a batch of ``(image, target)`` samples and bring it to the working form."""
    if not isinstance(samples, (list, tuple)) or not samples:
        raise TypeError(
            "`samples` must be a non-empty list of (image, target) pairs, as a DataLoader passes "
            f"to its collate_fn, but got {describe(samples)}."
        )
    parsed = [_parse(i, s, object_keys, box_format, device) for i, s in enumerate(samples)]
    _binarise(parsed)
    first = parsed[0].image
    for i, sample in enumerate(parsed):
        if sample.image.dtype != first.dtype or sample.image.shape[0] != first.shape[0]:
            raise ValueError(
                f"`samples[{i}][0]` must have the channels and dtype of the first image "
                f"({first.shape[0]}, {first.dtype}), but got {describe(sample.image)}."
            )
    keys: list[str] = []
    templates: dict[str, Any] = {}
    for sample in parsed:
        for key in object_keys:
            if key in sample.target and key not in templates:
                keys.append(key)
                templates[key] = sample.target[key]
    _check_same_keys(parsed, keys)
    return parsed, Layout(tuple(keys), templates, box_format)


def _parse(
    index: int,
    sample: object,
    object_keys: Sequence[str],
    box_format: str,
    device: torch.device | None,
) -> Sample:
    if not (isinstance(sample, (tuple, list)) and len(sample) == 2):
        raise TypeError(
            f"`samples[{index}]` must be an (image, target) pair, but got {describe(sample)}."
        )
    image, target = sample
    if not isinstance(image, torch.Tensor) or image.ndim != 3:
        raise TypeError(
            f"`samples[{index}][0]` must be a (C, H, W) image tensor (use v2.ToImage() for PIL "
            f"images), but got {describe(image)}."
        )
    if not isinstance(target, Mapping):
        raise TypeError(f"`samples[{index}][1]` must be a dict target, but got {describe(target)}.")
    pixels = _plain(image, device)
    size = tuple(pixels.shape[-2:])
    masks = _masks(index, target.get("masks"), size, device) if "masks" in target else None
    count = 0 if masks is None else int(masks.shape[0])
    parsed = Sample(pixels, image, dict(target), count, masks)
    _read_objects(index, target, parsed, object_keys, box_format, device)
    return parsed


def _read_objects(
    index: int,
    target: Mapping[str, Any],
    parsed: Sample,
    object_keys: Sequence[str],
    box_format: str,
    device: torch.device | None,
) -> None:
    """Fill ``parsed.boxes`` / ``parsed.values`` from the target's per-object entries.

    ``area`` is recomputed from the masks, so its values (which transforms such as
    ``v2.SanitizeBoundingBoxes`` leave unfiltered) are never read.
    """
    keys = [key for key in object_keys if key in target and key not in ("masks", "area")]
    if parsed.masks is None:
        holding = {key: entry_count(target[key]) for key in keys if entry_count(target[key])}
        if holding:
            raise ValueError(
                f"`samples[{index}][1]` has objects ({holding}) but no 'masks': copy-paste needs "
                "instance masks (for COCO: wrap_dataset_for_transforms_v2(dataset, "
                "target_keys=[..., 'masks']))."
            )
    for key in keys:
        value = target[key]
        sized = isinstance(value, (list, tuple)) or (isinstance(value, torch.Tensor) and value.ndim)
        if not sized or entry_count(value) != parsed.count:
            raise ValueError(
                f"`samples[{index}][1][{key!r}]` must hold one entry per object ({parsed.count}, "
                f"the number of masks), but got {describe(value)}."
            )
        if key == "boxes":
            parsed.boxes = _xyxy(index, value, box_format, device)
        elif isinstance(value, torch.Tensor):
            parsed.values[key] = _plain(value, device)
        else:
            parsed.values[key] = list(value)


def entry_count(value: object) -> int:
    """Entries of a per-object value (tensor rows or list items; 0 for anything else)."""
    if isinstance(value, torch.Tensor):
        return int(value.shape[0]) if value.ndim else 0
    return len(value) if isinstance(value, (list, tuple)) else 0


def _masks(
    index: int, value: object, size: tuple[int, ...], device: torch.device | None
) -> torch.Tensor:
    name = f"`samples[{index}][1]['masks']`"
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a (K, H, W) tensor, but got {describe(value)}.")
    if value.dtype.is_floating_point or value.is_complex():
        raise TypeError(
            f"{name} must hold bool or integer instance masks, but got dtype {value.dtype}; "
            "threshold soft masks first (e.g. masks > 0.5)."
        )
    if value.ndim != 3 or tuple(value.shape[-2:]) != size:
        raise ValueError(
            f"{name} must have shape (K, {size[0]}, {size[1]}) to match its image, but got "
            f"{tuple(value.shape)}."
        )
    masks = _plain(value, device)
    if masks.dtype not in (torch.bool, torch.uint8):
        masks = (masks != 0).to(torch.uint8)
    return masks.contiguous()


def _binarise(samples: list[Sample]) -> None:
    """A mask is ``!= 0``, and the fast pixel counts want 0/1 bytes: ``uint8`` masks holding
    larger values (255) become 0/1. One host synchronisation for the whole batch."""
    byte_masks = [s for s in samples if s.masks is not None and s.masks.dtype == torch.uint8]
    byte_masks = [s for s in byte_masks if s.masks is not None and s.masks.numel()]
    if not byte_masks:
        return
    peaks = torch.stack([s.masks.amax() for s in byte_masks if s.masks is not None]).tolist()
    for sample, peak in zip(byte_masks, peaks, strict=True):
        if peak > 1 and sample.masks is not None:
            sample.masks = (sample.masks != 0).to(torch.uint8)


def _xyxy(index: int, value: object, box_format: str, device: torch.device | None) -> torch.Tensor:
    name = f"`samples[{index}][1]['boxes']`"
    fmt = box_format_of(value, box_format)
    if fmt not in _FORMATS:
        raise ValueError(
            f"{name} must use one of the formats {_FORMATS}, but got {fmt!r} (rotated boxes "
            "cannot follow a mask)."
        )
    if not isinstance(value, torch.Tensor) or value.ndim != 2 or value.shape[-1] != 4:
        raise ValueError(f"{name} must be a (K, 4) tensor, but got {describe(value)}.")
    # float32 boxes: no overflow check, so no host synchronisation per image (see the module)
    return convert_boxes_(_plain(value, device).to(torch.float32), fmt, "xyxy", check_values=False)


def box_format_of(value: object, default: str) -> str:
    """The format of ``BoundingBoxes``, or ``default`` for plain tensors."""
    fmt = getattr(value, "format", None)
    return default if fmt is None else str(getattr(fmt, "name", fmt)).lower()


def _plain(value: torch.Tensor, device: torch.device | None) -> torch.Tensor:
    plain = value.as_subclass(torch.Tensor)
    return plain if device is None else plain.to(device, non_blocking=True)


def _check_same_keys(samples: list[Sample], keys: list[str]) -> None:
    """Samples with objects must carry every object key the batch uses (else pasting an object
    into them, or theirs into others, would leave a key without a value)."""
    for i, sample in enumerate(samples):
        if not sample.count:
            continue
        missing = [key for key in keys if key not in sample.target]
        if missing:
            raise ValueError(
                f"`samples[{i}][1]` must hold every object key the batch uses ({list(keys)}) "
                f"since it has objects, but lacks {missing}."
            )


def select(value: Any, rows: torch.Tensor | list[int]) -> Any:
    """Rows of a tensor or list of per-object values."""
    if isinstance(value, torch.Tensor):
        index = torch.as_tensor(rows, dtype=torch.long, device=value.device)
        return value.index_select(0, index)
    return [value[i] for i in (rows.tolist() if isinstance(rows, torch.Tensor) else rows)]


def wrap_like(value: torch.Tensor, like: Any, size: tuple[int, int]) -> Any:
    """``value`` as the torchvision type of ``like`` (canvas set to ``size``), else plain."""
    if type(like).__module__.split(".")[0] != "torchvision" or not isinstance(like, torch.Tensor):
        return value
    from torchvision import tv_tensors

    if isinstance(like, (tv_tensors.BoundingBoxes, tv_tensors.KeyPoints)):
        return tv_tensors.wrap(value, like=like, canvas_size=size)
    return tv_tensors.wrap(value, like=like)


def build_target(
    sample: Sample,
    layout: Layout,
    masks: torch.Tensor | None,
    boxes: torch.Tensor | None,
    area: list[int],
    values: dict[str, Any],
) -> dict[str, Any]:
    """The output target of ``sample``: its own keys, every object key the batch uses, each
    object key in the type of the caller's value (``masks``/``boxes`` ``xyxy`` plain tensors,
    ``values`` plain tensors or lists), ``area`` the masks' pixel counts."""
    size = sample.size
    device = sample.image.device
    out = dict(sample.target)
    for key in layout.keys:
        like = sample.target.get(key, layout.templates[key])
        if key == "masks":
            value: Any = masks if masks is not None else _empty(like, size, device)
        elif key == "boxes":
            value = boxes if boxes is not None else torch.zeros(0, 4, device=device)
            value = convert_boxes_(
                value, "xyxy", box_format_of(like, layout.box_format), check_values=False
            )
            value = narrow(
                value, like, f"target['{key}']", check_values=False, action="after pasting"
            )
        elif key == "area":
            value = [float(a) for a in area]
            if isinstance(like, torch.Tensor):
                value = torch.tensor(value, dtype=like.dtype, device=device)
        else:
            value = values.get(key)
            if value is None:
                value = (
                    _empty(like, like.shape[1:], device) if isinstance(like, torch.Tensor) else []
                )
        out[key] = wrap_like(value, like, size) if isinstance(value, torch.Tensor) else value
    return out


def _empty(like: torch.Tensor, rest: Sequence[int], device: torch.device) -> torch.Tensor:
    """No objects: ``(0, *rest)`` in the dtype of ``like``."""
    return torch.zeros((0, *rest), dtype=like.dtype, device=device)
