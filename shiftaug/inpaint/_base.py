"""The inpainting protocol and the backend registry.

A backend fills holes: ``(images (N, C, H, W), holes (N, 1, H, W) bool) -> images`` where pixels
outside the holes are returned unchanged (bit for bit) and the dtype/device of ``images`` is kept.
Backends register under a short name so transforms and configs can refer to them by string.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, runtime_checkable

import torch

from .._checks import describe

__all__ = [
    "Inpainter",
    "available_inpainters",
    "check_inpaint_inputs",
    "get_inpainter",
    "inpaint",
    "register_inpainter",
]


@runtime_checkable
class Inpainter(Protocol):
    """Anything callable as ``inpainter(images, holes) -> images``."""

    def __call__(self, images: torch.Tensor, holes: torch.Tensor) -> torch.Tensor: ...


_REGISTRY: dict[str, Callable[..., Inpainter]] = {}
T = TypeVar("T", bound=Callable[..., Inpainter])


def register_inpainter(name: str) -> Callable[[T], T]:
    """Class decorator: make a backend available as ``get_inpainter(name, **options)``.

    The factory is called with the options and must return a callable following the protocol
    (the module docstring); the placement transforms still keep only the hole pixels of its
    result.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"`name` must be a non-empty str, but got {describe(name)}.")

    def decorate(factory: T) -> T:
        if name in _REGISTRY:
            raise ValueError(f"An inpainting backend named {name!r} is already registered.")
        if not callable(factory):
            raise TypeError(f"`factory` must be callable, but got {describe(factory)}.")
        _REGISTRY[name] = factory
        return factory

    return decorate


def available_inpainters() -> tuple[str, ...]:
    """Names accepted by :func:`get_inpainter`."""
    return tuple(sorted(_REGISTRY))


_MISSING: Any = object()


def get_inpainter(inpainter: str | Inpainter = _MISSING, **options: Any) -> Inpainter:
    """A backend by name (built with ``options``), or ``inpainter`` itself if it is callable.

    Example:
        >>> from shiftaug.inpaint import get_inpainter
        >>> get_inpainter("harmonic", cycles=2)
        HarmonicInpainter(cycles=2, sweeps=1)
    """
    inpainter = _renamed(inpainter, options)
    if isinstance(inpainter, str):
        if inpainter not in _REGISTRY:
            raise ValueError(
                f"`inpainter` must be one of {available_inpainters()} or a callable "
                f"(images, holes) -> images, but got {inpainter!r}."
            )
        return _REGISTRY[inpainter](**options)
    if callable(inpainter):
        if options:
            raise ValueError(
                f"Options {sorted(options)} can only be given with a backend name, not with a "
                "ready-made backend object."
            )
        return inpainter
    raise TypeError(
        f"`inpainter` must be a backend name or a callable (images, holes) -> images, but got "
        f"{describe(inpainter)}."
    )


def _renamed(inpainter: Any, options: dict[str, Any]) -> Any:
    """Accept the argument's old name ``backend=`` (before 0.2) with a warning."""
    if "backend" not in options:
        if inpainter is _MISSING:
            raise TypeError(
                "get_inpainter() missing the argument `inpainter` (a name or callable)."
            )
        return inpainter
    if inpainter is not _MISSING:
        raise TypeError("Give the backend once: as `inpainter` (`backend` is its old name).")
    warnings.warn(
        "`backend=` is deprecated: the argument is called `inpainter` everywhere.",
        FutureWarning,
        stacklevel=3,
    )
    return options.pop("backend")


def inpaint(
    images: torch.Tensor,
    holes: torch.Tensor,
    inpainter: str | Inpainter = _MISSING,
    **options: Any,
) -> torch.Tensor:
    """Fill ``holes`` in ``images`` with ``inpainter`` (a name, built with ``options``, or a
    callable; default ``"harmonic"``).

    Shape:
        ``images`` ``(N, C, H, W)``, ``holes`` ``(N, 1, H, W)`` bool -> ``(N, C, H, W)`` in
        ``images``' dtype and device; pixels outside the holes are returned unchanged.

    Example:
        >>> import torch
        >>> from shiftaug.inpaint import inpaint
        >>> images = torch.tensor([[[[1.0, 0.0, 3.0]]]])
        >>> inpaint(images, torch.tensor([[[[False, True, False]]]]), "harmonic", cycles=4)
        tensor([[[[1., 2., 3.]]]])
    """
    if inpainter is _MISSING and "backend" not in options:
        inpainter = "harmonic"
    return get_inpainter(inpainter, **options)(images, holes)


def check_inpaint_inputs(images: object, holes: object) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate the protocol's inputs; returns them unchanged."""
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"`images` must be a torch.Tensor, but got {type(images).__name__}.")
    if not isinstance(holes, torch.Tensor):
        raise TypeError(f"`holes` must be a torch.Tensor, but got {type(holes).__name__}.")
    if images.ndim != 4:
        raise ValueError(
            f"`images` must have shape (N, C, H, W), but got a tensor of shape {tuple(images.shape)}."
        )
    expected = (images.shape[0], 1, *images.shape[-2:])
    if tuple(holes.shape) != expected:
        raise ValueError(
            f"`holes` must have shape {expected} to match `images`, but got {tuple(holes.shape)}."
        )
    if holes.dtype != torch.bool:
        raise TypeError(f"`holes` must be a bool tensor, but got dtype {holes.dtype}.")
    if holes.device != images.device:
        raise ValueError(
            f"`holes` must be on the images' device {images.device}, but got {holes.device}."
        )
    return images, holes
