"""What the albumentations placement adapters share: the per-call record, array <-> tensor
conversions, and the base that replays one draw on every target of a call."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._checks import describe
from ._albumentations import ShiftaugDualTransform
from ._placement_binding import PlacementRecord, check_boxes_match

__all__ = [
    "CALL",
    "Call",
    "PlacementDual",
    "image_tensor",
    "masks_tensor",
    "normalized",
    "owner",
    "pixel_boxes",
]

CALL = "shiftaug_call"  # key of the call's Call in albumentations' params dict


class Call:
    """One call's draw, the core inputs it was drawn from (to replay it on other images), the
    number of the image's own objects, and what else the targets need (``extras``: the
    donor's boxes for ``CopyPaste``)."""

    def __init__(
        self,
        record: PlacementRecord,
        inputs: dict[str, torch.Tensor],
        objects: int,
        extras: dict[str, Any],
    ) -> None:
        self.record, self.inputs, self.objects, self.extras = record, inputs, objects, extras

    @property
    def slots(self) -> int:
        """Mask slots per image of the core's batch (the image's objects, then padding)."""
        return int(self.inputs["masks"].shape[1])


def image_tensor(image: Any, name: str = "image") -> torch.Tensor:
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3):
        raise TypeError(
            f"`{name}` must be an (H, W) or (H, W, C) array, but got {describe(image)}."
        )
    planes = image[..., None] if image.ndim == 2 else image
    return torch.from_numpy(np.ascontiguousarray(planes.transpose(2, 0, 1)))[None]


def masks_tensor(masks: Any, size: tuple[int, int], name: str = "masks") -> torch.Tensor:
    """``(1, K, H, W)`` bool masks; ``(1, 0, H, W)`` for a call without any."""
    if masks is None:
        return torch.zeros(1, 0, *size, dtype=torch.bool)
    array = np.asarray(masks)
    if array.size == 0 and array.ndim < 3:  # an empty list
        return torch.zeros(1, 0, *size, dtype=torch.bool)
    if array.ndim != 3 or tuple(array.shape[1:]) != size:
        raise ValueError(
            f"`{name}` must be K masks of the image's size (K, {size[0]}, {size[1]}), but got "
            f"shape {array.shape}."
        )
    return torch.from_numpy(array != 0)[None]


def _to_image(tensor: torch.Tensor, like: np.ndarray) -> np.ndarray:
    array = tensor[0].permute(1, 2, 0).numpy()
    return np.ascontiguousarray(array[..., 0] if like.ndim == 2 else array)


def pixel_boxes(bboxes: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """albumentations' normalized xyxy -> pixel xyxy."""
    height, width = size
    return torch.from_numpy(bboxes[:, :4].astype(np.float64) * [width, height, width, height])


def normalized(boxes: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    height, width = size
    return boxes.double().numpy() / np.array([width, height, width, height], dtype=np.float64)


class PlacementDual(ShiftaugDualTransform):
    """Shared target handling; subclasses say how to build the core's batch in ``_inputs``."""

    def get_params_dependent_on_data(
        self, params: dict[str, Any], data: dict[str, Any]
    ) -> dict[str, Any]:
        generator = self.torch_generator()
        # albumentations requires one of the two (its own shape lookup fails first otherwise)
        image = data["image"] if data.get("image") is not None else data["images"][0]
        tensor = image_tensor(image)
        size = (tensor.shape[-2], tensor.shape[-1])
        masks = masks_tensor(data.get("masks"), size)
        if masks.shape[1] == 0:
            if len(data.get("bboxes", ())):
                raise ValueError(
                    "`masks` (instance masks) must be given for the objects of `bboxes`: these "
                    f"transforms move objects by their masks, but got {len(data['bboxes'])} "
                    "boxes and no mask."
                )
            return {CALL: None}  # no object: every target passes through unchanged
        inputs, extras = self._inputs(tensor, masks, data)
        record = self.binding.draw(len(inputs["image"]), size, generator=generator, targets=inputs)
        return {CALL: Call(record, inputs, masks.shape[1], extras)}

    def _inputs(
        self, image: torch.Tensor, masks: torch.Tensor, data: dict[str, Any]
    ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """The core's batch for this call, and what the targets need besides."""
        raise NotImplementedError

    def _place(self, img: np.ndarray, call: Call) -> np.ndarray:
        """The output for image ``img`` of the call: the drawn one, or a replay of the draw."""
        tensor = image_tensor(img)
        drawn = call.inputs["image"]
        if tensor.shape == drawn[:1].shape and torch.equal(tensor, drawn[:1]):
            return _to_image(call.record.output.image[:1], img)
        batch = torch.cat([tensor, drawn[1:].to(tensor.dtype)])
        valid = call.inputs.get("valid")
        out = self.binding.core(batch, call.inputs["masks"], valid, params=call.record.params)
        return _to_image(out.image[:1], img)

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        call = params[CALL]
        return img if call is None else self._place(img, call)

    def apply_to_images(self, images: np.ndarray, **params: Any) -> np.ndarray:
        call = params[CALL]
        if call is None:
            return images
        return np.stack([self._place(image, call) for image in images])

    def apply_to_mask(self, mask: np.ndarray, **params: Any) -> np.ndarray:
        raise ValueError(
            "`mask` (a semantic mask) cannot follow moved objects: the vacated pixels have no "
            "label. Pass instance masks as `masks` instead."
        )

    def apply_to_masks(self, masks: Any, **params: Any) -> Any:
        call = params[CALL]
        if call is None:
            return masks
        array = np.asarray(masks)
        moved = self.binding.mask(torch.from_numpy(array != 0), call.record)[0]
        return moved.numpy().astype(array.dtype)

    def _check_bboxes(self, bboxes: np.ndarray, call: Call, size: tuple[int, int]) -> None:
        pixels = pixel_boxes(bboxes, size) if len(bboxes) else torch.zeros(0, 4)  # may be 1-D
        own = call.inputs["masks"][0, : call.objects]  # the image's objects, not the padding
        check_boxes_match(pixels, own, "bboxes", "masks")


def owner(masks: torch.Tensor, keypoints: np.ndarray) -> torch.Tensor:
    """``(P,)`` the last mask of ``masks (K, H, W)`` covering each keypoint's pixel, or -1."""
    height, width = masks.shape[-2:]
    xy = torch.from_numpy(np.ascontiguousarray(keypoints[:, :2], dtype=np.float64))
    col, row = xy.floor().long().unbind(-1)
    inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
    on = masks[:, row.clamp(0, height - 1), col.clamp(0, width - 1)] & inside  # (K, P)
    return torch.where(on.any(0), masks.shape[0] - 1 - on.flip(0).int().argmax(0), -1)
