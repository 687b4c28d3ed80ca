"""Hole-filling backends behind one protocol: ``(images, holes) -> images``.

Importing this package registers every backend; OpenCV, diffusers and safetensors are imported
only when a backend that needs them is called or built. The ``learned`` backend
(:mod:`shiftaug.inpaint.learned`) is a GAN inpainter shiftaug trains itself.

Example:
    >>> import torch
    >>> from shiftaug.inpaint import available_inpainters, get_inpainter
    >>> available_inpainters()
    ('blur', 'constant', 'diffusers', 'generative', 'harmonic', 'learned', 'mean', 'navier_stokes', 'pull_push', 'repaint', 'telea')
    >>> images = torch.rand(4, 3, 32, 32)
    >>> holes = torch.zeros(4, 1, 32, 32, dtype=torch.bool)
    >>> holes[..., 8:20, 10:24] = True
    >>> filled = get_inpainter("harmonic")(images, holes)
    >>> filled.shape, bool((filled == images)[~holes.expand_as(images)].all())
    (torch.Size([4, 3, 32, 32]), True)
"""

from ._base import (
    Inpainter,
    available_inpainters,
    check_inpaint_inputs,
    get_inpainter,
    inpaint,
    register_inpainter,
)
from ._baselines import BlurInpainter, ConstantInpainter, MeanInpainter
from ._classical import OpenCVInpainter
from ._generative import DiffusersInpainter, RePaintInpainter, load_pipeline
from ._harmonic import HarmonicInpainter, PullPushInpainter, harmonic_fill, pull_push_fill
from .learned import LearnedInpainter

__all__ = [
    "BlurInpainter",
    "ConstantInpainter",
    "DiffusersInpainter",
    "HarmonicInpainter",
    "Inpainter",
    "LearnedInpainter",
    "MeanInpainter",
    "OpenCVInpainter",
    "PullPushInpainter",
    "RePaintInpainter",
    "available_inpainters",
    "check_inpaint_inputs",
    "get_inpainter",
    "harmonic_fill",
    "inpaint",
    "load_pipeline",
    "pull_push_fill",
    "register_inpainter",
]
