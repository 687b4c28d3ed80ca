"""shiftaug: batched, exact translation and object-placement augmentation for PyTorch.

The public surface:

- :mod:`shiftaug.functional`: pure kernels (``translate_image``, ``translate_mask``, ...)
- :mod:`shiftaug.params`: samplers returning typed parameter records
- :mod:`shiftaug.inpaint`: hole-filling backends behind one protocol (classical, torch, diffusers)
- transforms such as :class:`shiftaug.RandomTranslate`
- :mod:`shiftaug.adapters`: kornia, torchvision, albumentations and DataLoader integration
- :mod:`shiftaug.detection`: Simple Copy-Paste as a ``collate_fn`` for detection batches

The names below are imported on first use (PEP 562), so ``import shiftaug`` and the
``shiftaug`` command start without loading torch; ``shiftaug.RandomTranslate`` works as usual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._import_hooks import register_with_frameworks
from ._version import __version__

if TYPE_CHECKING:  # what _LAZY loads on first use, for type checkers and the API docs
    from . import detection, functional, inpaint, params
    from ._checks import get_validate_args, set_validate_args
    from .params import PlacementParams, TranslateParams
    from .transforms import (
        CopyPaste,
        PlacementOutput,
        RandomRelocate,
        RandomTransform,
        RandomTranslate,
        TranslateOutput,
    )

# Public name -> the module that defines it (the module itself where the name is a submodule).
# A new top-level export goes here, in the TYPE_CHECKING block above and in __all__.
_LAZY = {
    "CopyPaste": ".transforms",
    "PlacementOutput": ".transforms",
    "PlacementParams": ".params",
    "RandomRelocate": ".transforms",
    "RandomTransform": ".transforms",
    "RandomTranslate": ".transforms",
    "TranslateOutput": ".transforms",
    "TranslateParams": ".params",
    "detection": ".detection",
    "functional": ".functional",
    "get_validate_args": "._checks",
    "inpaint": ".inpaint",
    "params": ".params",
    "set_validate_args": "._checks",
}

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
    "detection",
    "functional",
    "get_validate_args",
    "inpaint",
    "params",
    "set_validate_args",
]


def __getattr__(name: str) -> Any:
    source = _LAZY.get(name)
    if source is None:
        raise AttributeError(f"module 'shiftaug' has no attribute {name!r}")
    module = importlib.import_module(source, __name__)
    value = module if source == f".{name}" else getattr(module, name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
