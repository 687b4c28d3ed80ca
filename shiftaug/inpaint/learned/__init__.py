"""A learned inpainter the package trains itself: network, model files, backend, GAN loop.

- :class:`FillNet` / :class:`PatchCritic`: the fast-Fourier-convolution generator (refining a
  harmonic fill) and the spectral-normalised patch critic (:mod:`.network`);
- :func:`save_inpainter` / :func:`load_inpainter`: ``.safetensors`` or ``.pt`` model files
  (:mod:`.io`); :data:`DEFAULT_MODEL` is the model shipped with shiftaug;
- :class:`LearnedInpainter`: the ``"learned"`` backend of :func:`shiftaug.inpaint.get_inpainter`;
- :func:`train_inpainter` (``shiftaug train-inpainter``): the training loop (:mod:`.train`),
  with its settings (:mod:`.config`), photos (:mod:`.data`) and holes (:mod:`.holes`).

Example:
    >>> from shiftaug.inpaint import available_inpainters
    >>> "learned" in available_inpainters()
    True
"""

from .backend import LearnedInpainter
from .config import InpainterConfig, inpainter_presets, load_inpainter_config
from .holes import HOLE_KINDS, default_shapes, sample_holes
from .io import DEFAULT_MODEL, InpainterFileError, load_inpainter, save_inpainter
from .network import COARSE_FILLS, FillNet, NetConfig, PatchCritic
from .train import hole_psnr, train_inpainter

__all__ = [
    "COARSE_FILLS",
    "DEFAULT_MODEL",
    "HOLE_KINDS",
    "FillNet",
    "InpainterConfig",
    "InpainterFileError",
    "LearnedInpainter",
    "NetConfig",
    "PatchCritic",
    "default_shapes",
    "hole_psnr",
    "inpainter_presets",
    "load_inpainter",
    "load_inpainter_config",
    "sample_holes",
    "save_inpainter",
    "train_inpainter",
]
