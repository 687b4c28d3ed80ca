"""shiftaug: batched, exact translation and object-placement augmentation for PyTorch.

The public surface:

- :mod:`shiftaug.functional`: pure kernels (``translate_image``, ``translate_mask``, ...)
- :mod:`shiftaug.params`: samplers returning typed parameter records
- :mod:`shiftaug.inpaint`: hole-filling backends behind one protocol (classical, torch, diffusers)
- transforms such as :class:`shiftaug.RandomTranslate`
- :mod:`shiftaug.adapters`: kornia, torchvision, albumentations and DataLoader integration
"""

from . import functional, inpaint, params
from ._checks import get_validate_args, set_validate_args
from ._version import __version__
from .adapters._common import register_with_frameworks
from .params import PlacementParams, TranslateParams
from .transforms import (
    CopyPaste,
    PlacementOutput,
    RandomRelocate,
    RandomTransform,
    RandomTranslate,
    TranslateOutput,
)

# Saved albumentations pipelines name our transforms: register them once albumentations is
# imported (before or after shiftaug), without importing it here.
register_with_frameworks()

__all__ = [
    "CopyPaste",
    "PlacementOutput",
    "PlacementParams",
    "RandomRelocate",
    "RandomTransform",
    "RandomTranslate",
    "TranslateOutput",
    "TranslateParams",
    "__version__",
    "functional",
    "get_validate_args",
    "inpaint",
    "params",
    "set_validate_args",
]
