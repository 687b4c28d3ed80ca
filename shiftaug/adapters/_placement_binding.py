"""The :class:`~shiftaug.adapters._common.Binding` of the placement transforms, shared by the
torchvision and albumentations adapters.

Placement parameters depend on the instance masks, not only on the image size, so
:meth:`PlacementBinding.draw` needs ``targets`` (``image``, ``masks``, optionally ``valid``,
``labels``, ``keypoints``): it runs the core transform once and returns a
:class:`PlacementRecord`; the target methods then read their part of that output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from .._checks import describe
from ..functional import masks_to_boxes
from ..functional._boxes import convert_boxes_
from ..params import PlacementParams
from ..transforms import CopyPaste, PlacementOutput, RandomRelocate
from ..transforms._objects import parse_objects
from ._common import Binding

__all__ = [
    "BOX_TOLERANCE",
    "CopyPasteBinding",
    "PlacementBinding",
    "PlacementRecord",
    "RelocateBinding",
    "check_boxes_match",
]

# Boxes given with instance masks must match the masks' own boxes within this many pixels per
# coordinate: a COCO polygon's box and its rasterised mask differ by up to about a pixel.
BOX_TOLERANCE = 2.0


@dataclass(frozen=True)
class PlacementRecord:
    """One call's result: placement parameters depend on the masks, so the binding runs the
    core transform once when drawing, and the target methods read their part of the output."""

    output: PlacementOutput

    @property
    def params(self) -> PlacementParams:
        return self.output.params

    def __len__(self) -> int:
        return len(self.output.params)


class PlacementBinding(Binding):
    """:class:`~shiftaug.adapters._common.Binding` for the placement transforms (targets needed)."""

    params_class = PlacementParams
    core: RandomRelocate | CopyPaste

    def draw(
        self,
        count: int,
        image_size: tuple[int, int],
        device: torch.device | str = "cpu",
        *,
        generator: torch.Generator | None = None,
        targets: dict[str, Any] | None = None,
    ) -> PlacementRecord:
        if not targets or "image" not in targets or "masks" not in targets:
            raise ValueError(
                "Placement transforms need the image and its instance masks to draw parameters; "
                f"pass targets={{'image': ..., 'masks': ...}}, but got {describe(targets)}."
            )
        inputs = {k: targets.get(k) for k in ("valid", "labels", "keypoints")}
        image, objects = parse_objects(targets["image"], targets["masks"], **inputs)
        params = self.core.make_params(image, objects.masks, objects.valid, generator=generator)
        output = self.core(targets["image"], targets["masks"], **inputs, params=params)
        return PlacementRecord(output)

    def image(self, image: torch.Tensor, params: Any) -> torch.Tensor:
        return params.output.image

    def mask(self, mask: torch.Tensor, params: Any) -> torch.Tensor:
        return params.output.masks.to(mask.dtype)

    def boxes(
        self,
        boxes: torch.Tensor,
        params: Any,
        *,
        canvas_size: tuple[int, int],
        format: str = "xyxy",
        clip: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        moved = convert_boxes_(params.output.boxes, "xyxy", format, check_values=False)
        return moved, params.output.valid

    def keypoints(
        self, keypoints: torch.Tensor, params: Any, *, canvas_size: tuple[int, int]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return params.output.keypoints, params.output.keypoints_visible


class RelocateBinding(PlacementBinding):
    core_class = RandomRelocate


class CopyPasteBinding(PlacementBinding):
    core_class = CopyPaste


def check_boxes_match(
    xyxy: torch.Tensor, masks: torch.Tensor, boxes_name: str, masks_name: str
) -> None:
    """Boxes given with instance masks must be those masks' boxes, object for object.

    ``xyxy (..., K, 4)`` pixel boxes, ``masks (..., K, H, W)`` bool. Placement transforms
    recompute boxes from the moved masks, so a box that belongs to another object (or none)
    would silently take the wrong object's box and label.
    """
    if tuple(xyxy.shape) != (*masks.shape[:-2], 4):
        raise ValueError(
            f"`{boxes_name}` must hold one box per mask of `{masks_name}`, shape "
            f"{(*masks.shape[:-2], 4)}, but got {describe(xyxy)}."
        )
    expected, present = masks_to_boxes(masks)
    wrong = present & ((xyxy.double() - expected.double()).abs() > BOX_TOLERANCE).any(-1)
    if bool(wrong.any()):
        index = tuple(int(i) for i in torch.nonzero(wrong)[0])
        raise ValueError(
            f"`{boxes_name}` must be the boxes of `{masks_name}` (XYXY pixels within "
            f"{BOX_TOLERANCE} px, in the same order), but box {index[0] if len(index) == 1 else index} "
            f"is {xyxy[index].tolist()} while its mask spans {expected[index].tolist()}."
        )
