"""Pure translation kernels: no randomness, no state, batched, device-agnostic.

Each kernel takes plain tensors plus explicit metadata and returns new tensors; inputs are never
modified. Conventions (axes, signs, pixel grid, box formats) are in ``docs/conventions.md``.
"""

from ._blend import BLEND_MODES, blend_images, blend_margin, dilate_mask
from ._boxes import BOX_FORMATS, clip_boxes, convert_boxes, masks_to_boxes, translate_boxes
from ._image import IMAGE_DTYPES, INTERPOLATIONS, translate_image
from ._index import PADDING_MODES, source_index
from ._keypoints import translate_keypoints
from ._mask import MASK_DTYPES, translate_mask
from ._placement import (
    label_map_to_masks,
    masks_to_label_map,
    occlude_masks,
    paste_objects,
    scale_points,
    top_round,
)

__all__ = [
    "BLEND_MODES",
    "BOX_FORMATS",
    "IMAGE_DTYPES",
    "INTERPOLATIONS",
    "MASK_DTYPES",
    "PADDING_MODES",
    "blend_images",
    "blend_margin",
    "clip_boxes",
    "convert_boxes",
    "dilate_mask",
    "label_map_to_masks",
    "masks_to_boxes",
    "masks_to_label_map",
    "occlude_masks",
    "paste_objects",
    "scale_points",
    "source_index",
    "top_round",
    "translate_boxes",
    "translate_image",
    "translate_keypoints",
    "translate_mask",
]
