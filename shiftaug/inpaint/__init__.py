"""Hole-filling backends behind one protocol: ``(images, holes) -> images``."""

from ._base import (
    Inpainter,
    available_inpainters,
    check_inpaint_inputs,
    get_inpainter,
    register_inpainter,
)

__all__ = [
    "Inpainter",
    "available_inpainters",
    "check_inpaint_inputs",
    "get_inpainter",
    "register_inpainter",
]
