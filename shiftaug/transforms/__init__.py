"""Random transforms: ``nn.Module`` = sampler + kernel."""

from ._base import RandomTransform
from ._translate import RandomTranslate, TranslateOutput

__all__ = ["RandomTransform", "RandomTranslate", "TranslateOutput"]
