"""Random transforms: ``nn.Module`` = sampler + kernel."""

from ._base import RandomTransform
from ._copy_paste import CopyPaste
from ._objects import PlacementOutput
from ._relocate import RandomRelocate
from ._translate import RandomTranslate, TranslateOutput

__all__ = [
    "CopyPaste",
    "PlacementOutput",
    "RandomRelocate",
    "RandomTransform",
    "RandomTranslate",
    "TranslateOutput",
]
