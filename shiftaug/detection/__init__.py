"""Detection and instance segmentation: Simple Copy-Paste as a one-line ``collate_fn``.

- :class:`CopyPasteCollate`: takes the ``(image, target)`` samples of a ``DataLoader`` batch
  (torchvision style, any image sizes, ``tv_tensors`` or plain tensors, images without objects
  too) and pastes objects between them, keeping every per-object key consistent;
- :class:`LargeScaleJitter`: resize by 0.1-2.0 and crop/pad to a fixed size, per sample or
  inside the collate (``jitter=``), as Simple Copy-Paste is trained;
- :class:`AddEmptyObjects`: empty per-object entries for images without annotations, so that
  stock ``v2.SanitizeBoundingBoxes`` keeps them as negatives.

``import shiftaug.detection`` does not import torchvision; ``tv_tensors`` in the samples come
back as the same types. See ``docs/detection.md``.
"""

from ._collate import CopyPasteCollate, CopyPasteParams
from ._empty import AddEmptyObjects
from ._jitter import JitterParams, LargeScaleJitter
from ._samples import OBJECT_KEYS

__all__ = [
    "OBJECT_KEYS",
    "AddEmptyObjects",
    "CopyPasteCollate",
    "CopyPasteParams",
    "JitterParams",
    "LargeScaleJitter",
]
