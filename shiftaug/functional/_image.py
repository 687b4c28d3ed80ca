"""``translate_image``: exact integer and sub-pixel translation of image batches."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from .._checks import check_choice, check_tensor
from ._bilinear import shift_bilinear
from ._fill import Fill, normalize_fill, resolve_padding
from ._nearest import as_bits, interleaved, shift_interleaved, shift_nearest
from ._shift import as_shift, broadcast_shift, whole_shift
from ._slicing import shift_by_slicing

__all__ = [
    "IMAGE_DTYPES",
    "INTERPOLATIONS",
    "like",
    "normalize_fill",
    "shift_planes",
    "translate_image",
    "use_host_slicing",
]

IMAGE_DTYPES = (torch.uint8, torch.float16, torch.bfloat16, torch.float32, torch.float64)
INTERPOLATIONS = ("nearest", "bilinear")


def translate_image(
    image: torch.Tensor,
    shift: torch.Tensor | Sequence[float] | Sequence[Sequence[float]],
    *,
    padding_mode: str | None = None,
    fill: Fill | None = None,
    interpolation: str = "nearest",
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """Translate images by per-sample ``(dx, dy)`` pixel shifts.

    ``+dx`` moves content right, ``+dy`` moves it down. With ``interpolation="nearest"`` shifts
    are rounded (half to even, as :func:`torch.round`) and the result is bit-identical to plain
    slicing (NaN payloads and -0.0 included): pixels are copied, never resampled. With
    ``"bilinear"`` the shift may be fractional; pixels outside the image take the value the
    padding mode gives them, an integer shift gives exactly the ``nearest`` result (for finite
    images), and the output is differentiable with respect to the image and the shift. Shifts
    of any size are exact (see [Conventions](../conventions.md#padding-modes)).

    Args:
        image: ``(..., C, H, W)`` images; uint8, float16, bfloat16, float32 or float64. A 3-D
            tensor is one image: pass an ``(N, H, W)`` stack of greyscale images as
            ``image[:, None]``.
        shift: ``(*batch, 2)`` shifts in pixels, ``(dx, dy)`` last; ``batch`` broadcasts against
            ``image.shape[:-3]`` (``(N, 2)`` for ``(N, C, H, W)``, ``(2,)`` for one image,
            ``(B, 1, 2)`` for ``(B, T, C, H, W)`` video). A list or tuple is accepted too; a
            tensor on another device is moved to the image's.
        padding_mode: what appears where no source pixel exists: ``"zeros"``, ``"constant"``
            (``fill``), ``"reflect"``, ``"symmetric"``, ``"replicate"`` (or ``"edge"``) or
            ``"circular"`` (equals :func:`torch.roll` and inverts exactly). ``None`` (default)
            means ``"constant"`` if a ``fill`` is given and ``"zeros"`` otherwise.
        fill: constant for ``padding_mode="constant"``: one number or one per channel, in the
            image's value range (integral for uint8). ``None`` means 0.
        interpolation: ``"nearest"`` (exact, integer) or ``"bilinear"`` (sub-pixel).
        out: optional tensor of the output's shape, dtype and device to write into (reusing a
            buffer saves allocating, and on CPU page-faulting, a fresh output every call); it
            must not overlap ``image`` in memory (a disjoint slice of the same buffer is
            fine). Not differentiable.

    Returns:
        The translated images, shape ``(*broadcast(batch, image.shape[:-3]), C, H, W)``, same
        dtype, device and memory format (``channels_last`` stays ``channels_last``) as
        ``image`` (``out`` itself when given). The input is never modified.

    Shape:
        - image: ``(..., C, H, W)``
        - shift: ``(*batch, 2)``
        - output: ``(..., C, H, W)``

    Example:
        >>> import torch
        >>> from shiftaug.functional import translate_image
        >>> x = torch.arange(9.0).reshape(1, 1, 3, 3)
        >>> translate_image(x, torch.tensor([[1, 0]]))
        tensor([[[[0., 0., 1.],
                  [0., 3., 4.],
                  [0., 6., 7.]]]])
        >>> torch.equal(translate_image(x, (2, -1), padding_mode="circular"),
        ...             torch.roll(x, (-1, 2), dims=(-2, -1)))
        True
        >>> translate_image(x, (1, 0), fill=9.0)[0, 0, 0]  # a fill alone pads with it
        tensor([9., 0., 1.])
    """
    return translate_image_(
        image, shift, padding_mode, fill, interpolation, check_values=True, out=out
    )


def translate_image_(
    image: torch.Tensor,
    shift: object,
    padding_mode: str | None,
    fill: object,
    interpolation: str,
    *,
    check_values: bool,
    out: torch.Tensor | None = None,
    fill_name: str = "fill",
    mode_name: str = "padding_mode",
) -> torch.Tensor:
    """:func:`translate_image`; ``check_values=False`` for shifts our samplers drew (finite by
    construction), which spares accelerators the synchronisation a NaN check costs.
    ``fill_name``/``mode_name`` are the caller's argument names, for its error messages."""
    check_tensor("image", image, min_ndim=3, layout="(..., C, H, W)", dtypes=IMAGE_DTYPES)
    mode, fill = resolve_padding(padding_mode, fill, mode_name=mode_name, fill_name=fill_name)
    check_choice("interpolation", interpolation, INTERPOLATIONS)
    channels, height, width = image.shape[-3:]
    if height == 0 or width == 0:
        raise ValueError(f"`image` must have H, W >= 1, but got shape {tuple(image.shape)}.")
    fill_values = normalize_fill(
        fill, mode, image.dtype, channels, name=fill_name, mode_name=mode_name
    )
    offsets = as_shift(shift, image.device, check_values=check_values)
    batch = broadcast_shift(offsets, image.shape[:-3])
    shape = (*batch, channels, height, width)
    target = _check_out(out, image, shape, offsets)
    if math.prod(shape) == 0:  # no batch, or no channels: nothing to move
        return out if out is not None else _empty_like(image, shape)
    planes = image.expand(shape).reshape(math.prod(batch), channels, height, width)
    offsets = offsets.expand(*batch, 2).reshape(-1, 2)
    result = shift_planes(planes, offsets, mode, fill_values, interpolation, out=target)
    if out is not None:
        if target is None or result.data_ptr() != target.data_ptr():
            out.copy_(result.view(shape))
        return out
    return like(result.view(shape), image)


def shift_planes(
    planes: torch.Tensor,
    shift: torch.Tensor,
    padding_mode: str,
    fill: tuple[float, ...] | None,
    interpolation: str,
    *,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """Shift ``(B, C, H, W)`` planes by ``(B, 2)`` shifts; the dispatch behind every kernel.

    ``out`` (``(B, C, H, W)``) may receive the result when its layout suits the kernel (NCHW
    contiguous, or channels-last for a channels-last batch); callers compare pointers.
    """
    if interpolation != "nearest":
        return shift_bilinear(planes, shift, padding_mode, fill, out=out)
    whole = whole_shift(shift, (planes.shape[-2], planes.shape[-1]), padding_mode)
    data, values = as_bits(planes, fill)
    if out is not None:
        out = out.view(data.dtype)
    if use_host_slicing(data, whole):
        dx, dy = whole[0].tolist()
        result = shift_by_slicing(data[0], dx, dy, 1, padding_mode, values, channel_axis=0)[None]
    elif interleaved(data, padding_mode, values):
        result = shift_interleaved(data, whole, padding_mode, values, out=out)
    else:
        result = shift_nearest(
            data,
            whole,
            padding_mode,
            values,
            out=out if out is None or out.is_contiguous() else None,
        )
    # Back from integers (a dtype view is not differentiable: skipped when nothing changed).
    return result if data.dtype == planes.dtype else result.view(planes.dtype)


def _may_overlap(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether the byte ranges ``a`` and ``b`` span in one storage intersect (conservative:
    interleaved views count as overlapping; disjoint slices of one buffer do not)."""
    if not (a.numel() and b.numel()):
        return False
    if a.untyped_storage().data_ptr() != b.untyped_storage().data_ptr():
        return False
    spans = []
    for t in (a, b):
        start = t.storage_offset() * t.element_size()
        extent = sum((n - 1) * s for n, s in zip(t.shape, t.stride(), strict=True)) + 1
        spans.append((start, start + extent * t.element_size()))
    return bool(spans[0][0] < spans[1][1] and spans[1][0] < spans[0][1])


def _check_out(
    out: object, image: torch.Tensor, shape: tuple[int, ...], shift: torch.Tensor
) -> torch.Tensor | None:
    """Validate ``out=``; return it as ``(B, C, H, W)`` planes (``None`` without it, or when no
    such view exists)."""
    if out is None:
        return None
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"`out` must be a torch.Tensor or None, but got {type(out).__name__}.")
    if tuple(out.shape) != shape or out.dtype != image.dtype or out.device != image.device:
        raise ValueError(
            f"`out` must have shape {shape}, dtype {image.dtype} and device {image.device}, but "
            f"got shape {tuple(out.shape)}, dtype {out.dtype} and device {out.device}."
        )
    if out.numel() and any(s == 0 and n > 1 for s, n in zip(out.stride(), out.shape, strict=True)):
        raise ValueError(
            "`out` must not be an expanded tensor (several of its elements share memory)."
        )
    if _may_overlap(out, image):
        raise ValueError("`out` must not share memory with `image` (shifts cannot run in place).")
    if torch.is_grad_enabled() and (image.requires_grad or shift.requires_grad):
        raise ValueError("`out` does not support automatic differentiation; call without it.")
    try:  # as (B, C, H, W) planes when its strides allow a view; else filled by a copy
        return out.view(math.prod(shape[:-3]), *shape[-3:])
    except RuntimeError:
        return None


def like(result: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    """``result`` laid out in memory like ``image`` (``channels_last`` or any dense permutation).

    The kernels work on contiguous planes; an image that is not contiguous but dense (a
    ``channels_last`` batch, an HWC array seen as CHW) gets its strides back, as
    :func:`torch.empty_like` would give them. Broadcast or sliced inputs give contiguous output.
    """
    if image.is_contiguous() or result.shape != image.shape:
        return result
    if image.ndim == 4 and image.is_contiguous(memory_format=torch.channels_last):
        return result.contiguous(memory_format=torch.channels_last)
    formatted = torch.empty_like(image)  # keeps the strides of a dense, non-overlapping input
    return result if formatted.is_contiguous() else formatted.copy_(result)


def _empty_like(image: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    return torch.empty_like(image) if tuple(image.shape) == shape else image.new_empty(shape)


def use_host_slicing(planes: torch.Tensor, shift: torch.Tensor) -> bool:
    """One sample whose shift is on the host: plain slicing beats the batched set-up."""
    return (
        planes.shape[0] == 1
        and planes.device.type == "cpu"
        and shift.device.type == "cpu"
        and not (planes.requires_grad and torch.is_grad_enabled())
        and not torch.compiler.is_compiling()
    )
