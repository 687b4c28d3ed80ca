"""shiftaug transforms as torchvision ``transforms.v2`` transforms.

:class:`RandomTranslate` composes with stock v2 transforms in ``v2.Compose`` and handles
``tv_tensors`` (``Image``, ``Video``, ``Mask``, ``BoundingBoxes``, ``KeyPoints``), plain tensors
and PIL images the way torchvision does. Unlike stock v2 transforms, a batch ``(N, C, H, W)``
gets one shift **per sample**; its targets follow their own image (see
``docs/adapters/torchvision.md`` for the batch layout).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from .._checks import describe
from ._common import Binding, TranslateBinding, missing_framework, single_thread_after_fork

try:
    import PIL.Image
    from torchvision import tv_tensors
    from torchvision.transforms.v2 import Transform
    from torchvision.transforms.v2 import functional as F
except ModuleNotFoundError as error:  # name the extra that installs torchvision
    raise missing_framework(error, "torchvision", "torchvision") from error

__all__ = ["RandomTranslate", "ShiftaugTransform"]

_IMAGES = (tv_tensors.Image, tv_tensors.Video, PIL.Image.Image)
_PER_SAMPLE = (tv_tensors.BoundingBoxes, tv_tensors.Mask, tv_tensors.KeyPoints)
# Keys a per-type ``fill`` dict may use, as in torchvision v2 ("others": every other image type).
_FILL_KEYS = (tv_tensors.Image, tv_tensors.Video, torch.Tensor, PIL.Image.Image, "others")


class ShiftaugTransform(Transform):
    """Base of the torchvision adapters: a v2 ``Transform`` driven by a :class:`Binding`.

    ``make_params`` reads the batch size ``N`` and ``(H, W)`` from the images and draws one
    parameter set per sample; ``transform`` applies them to each input by type. Randomness
    comes from torch's global generator, as for every stock v2 transform, so
    ``torch.manual_seed`` reproduces a pipeline and ``DataLoader`` workers (seeded per worker)
    draw different shifts. ``last_params`` holds the latest call's parameter record.
    ``typed_bindings`` maps input types to bindings that apply the same parameters with other
    settings (a per-type ``fill``).
    """

    def __init__(
        self, binding: Binding, typed_bindings: Mapping[type, Binding] | None = None
    ) -> None:
        super().__init__()
        self.binding = binding
        self.typed_bindings = dict(typed_bindings or {})
        self.last_params: Any = None  # the record of the latest call, for replay and tests

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        single_thread_after_fork()
        count, size, device = _batch_layout(flat_inputs)
        owners: dict[int, int] = {}
        for kind in _PER_SAMPLE:
            leaves = [x for x in flat_inputs if isinstance(x, kind)]
            if count > 1 and len(leaves) == count:  # a list of per-image targets, in order
                owners.update((id(leaf), index) for index, leaf in enumerate(leaves))
            elif count > 1 and kind is tv_tensors.BoundingBoxes and leaves:
                raise ValueError(
                    f"`BoundingBoxes` must come one per image of the batch ({count}), in image "
                    f"order, but got {len(leaves)}; torchvision keeps boxes 2-D, so a batch of "
                    "images needs a list of BoundingBoxes."
                )
        record = self.binding.draw(count, size, device)
        self.last_params = record
        return {"params": record, "owners": owners}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        record = params["params"]
        index = params["owners"].get(id(inpt))
        if index is not None:
            record = record.select(index)
        if isinstance(inpt, PIL.Image.Image):
            moved = self._binding_for(inpt).image(F.pil_to_tensor(inpt), record)
            return F.to_pil_image(moved, mode=inpt.mode)
        if isinstance(inpt, tv_tensors.BoundingBoxes):
            return self._boxes(inpt, record)
        if isinstance(inpt, tv_tensors.KeyPoints):
            moved, _ = self.binding.keypoints(
                inpt.as_subclass(torch.Tensor), record, canvas_size=tuple(inpt.canvas_size)
            )
            return tv_tensors.wrap(moved, like=inpt)
        if isinstance(inpt, tv_tensors.Mask):
            return tv_tensors.wrap(
                self.binding.mask(inpt.as_subclass(torch.Tensor), record), like=inpt
            )
        if isinstance(inpt, torch.Tensor):  # Image, Video, or the plain tensor v2 treats as image
            moved = self._binding_for(inpt).image(inpt.as_subclass(torch.Tensor), record)
            return (
                tv_tensors.wrap(moved, like=inpt)
                if isinstance(inpt, tv_tensors.TVTensor)
                else moved
            )
        return inpt

    def _binding_for(self, inpt: Any) -> Binding:
        for kind, binding in self.typed_bindings.items():
            if type(inpt) is kind or (kind is PIL.Image.Image and isinstance(inpt, kind)):
                return binding
        return self.binding

    def _boxes(self, boxes: tv_tensors.BoundingBoxes, record: Any) -> tv_tensors.BoundingBoxes:
        box_format = boxes.format.name.lower()
        if box_format not in ("xyxy", "xywh", "cxcywh"):
            raise ValueError(
                f"`BoundingBoxes` must be axis-aligned (XYXY, XYWH or CXCYWH), but got format "
                f"{boxes.format.name}; convert rotated boxes with "
                "v2.ConvertBoundingBoxFormat('XYXY') after dropping the angle."
            )
        # As stock transforms do, boxes whose clamping_mode is None are moved but never clamped
        # (nor collapsed): v2.SanitizeBoundingBoxes then drops those that leave the canvas.
        clamp = getattr(boxes, "clamping_mode", "soft") is not None
        moved, visible = self.binding.boxes(
            boxes.as_subclass(torch.Tensor), record, canvas_size=tuple(boxes.canvas_size),
            format=box_format, clip=clamp,
        )  # fmt: skip
        if not clamp:
            return tv_tensors.wrap(moved, like=boxes)
        # An invisible box (outside the canvas, or below min_visibility / min_area) is collapsed
        # to zero size where it was clipped, so v2.SanitizeBoundingBoxes drops it with its label.
        hidden = ~visible[..., None]
        if box_format == "xyxy":
            moved[..., 2:] = torch.where(hidden, moved[..., :2], moved[..., 2:])
        else:
            moved[..., 2:] = moved[..., 2:].masked_fill(hidden, 0)
        return tv_tensors.wrap(moved, like=boxes)

    # torchvision < 0.21 calls the private names.
    def _get_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        return self.make_params(flat_inputs)

    def _transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self.transform(inpt, params)

    def extra_repr(self) -> str:
        return self.binding.core.extra_repr()


class RandomTranslate(ShiftaugTransform):
    """:class:`shiftaug.RandomTranslate` as a torchvision v2 transform.

    Args:
        shift_px: shift range in pixels (``docs/conventions.md``: ``4``, ``(4, 2)``,
            ``((0, 8), 2)``).
        shift_frac: the same grammar as a fraction of the image size. Give exactly one.
        padding_mode: ``"zeros"``, ``"constant"``, ``"reflect"``, ``"symmetric"``,
            ``"replicate"`` (or torchvision's name for it, ``"edge"``) or ``"circular"``.
            Default: ``"constant"`` if a ``fill`` is given (as in torchvision), else ``"zeros"``.
        fill: image value(s) for ``padding_mode="constant"``, in the image's range: one number,
            one per channel, or torchvision's per-type dict, e.g.
            ``{tv_tensors.Image: 114, tv_tensors.Mask: 0}`` (keys ``tv_tensors.Image``,
            ``tv_tensors.Video``, ``torch.Tensor``, ``PIL.Image.Image``, ``"others"`` for the
            remaining image types, and ``tv_tensors.Mask`` for the masks' label).
        interpolation: ``"nearest"`` (whole-pixel shifts, exact copies) or ``"bilinear"``.
        distribution: ``"uniform"`` or ``"normal"``; ``normal_scale`` as in the core.
        p: probability that a **sample** is shifted (drawn per sample, not per call); 1.0 by
            default, as for the core and every torchvision transform that has no ``p``.
        same_on_batch: one shift for the whole batch (what stock v2 transforms do).
        mask_fill: label of vacated mask pixels (default 0; also settable as
            ``fill[tv_tensors.Mask]``). Masks are never padded with image content
            (``docs/conventions.md``).
        min_visibility: boxes keeping less than this fraction of their area are collapsed to
            zero size (``v2.SanitizeBoundingBoxes`` then drops them).
        min_area: boxes whose visible area falls below this many pixels are collapsed too.

    Shape:
        - ``Image``/plain tensor ``(C, H, W)`` is one sample; ``(N, C, H, W)`` is ``N``.
        - ``Video`` ``(T, C, H, W)`` is one clip (one shift); ``(N, T, C, H, W)`` is ``N``.
        - ``Mask``/``KeyPoints`` of a batch carry ``N`` first (``(N, H, W)``, ``(N, K, 2)``), or
          come as a list of ``N`` (one per image, in image order); ``BoundingBoxes`` of a batch
          always come as such a list.

    Example:
        >>> import torch
        >>> from torchvision import tv_tensors
        >>> from torchvision.transforms import v2
        >>> from shiftaug.adapters.torchvision import RandomTranslate
        >>> image = tv_tensors.Image(torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8))
        >>> boxes = tv_tensors.BoundingBoxes([[4, 4, 20, 20]], format="XYXY", canvas_size=(32, 32))
        >>> pipeline = v2.Compose([RandomTranslate(shift_px=4), v2.ToDtype(torch.float32, scale=True)])
        >>> out_image, out_boxes = pipeline(image, boxes)
        >>> out_image.shape, out_boxes.canvas_size
        (torch.Size([3, 32, 32]), (32, 32))
        >>> letterbox = RandomTranslate(shift_px=8, fill={tv_tensors.Image: 114, tv_tensors.Mask: 0})
        >>> letterbox.binding.core.padding_mode  # a fill implies constant padding
        'constant'
    """

    def __init__(
        self,
        shift_px: object = None,
        shift_frac: object = None,
        *,
        padding_mode: str | None = None,
        fill: float | tuple[float, ...] | dict[type | str, Any] | None = None,
        interpolation: str = "nearest",
        distribution: str = "uniform",
        normal_scale: float = 0.5,
        p: float = 1.0,
        same_on_batch: bool = False,
        mask_fill: int | None = None,
        min_visibility: float = 0.0,
        min_area: float = 0.0,
    ) -> None:
        fills, mask_fill = _split_fill(fill, mask_fill)
        if padding_mode is None:
            padding_mode = "constant" if fill is not None else "zeros"
        elif padding_mode == "edge":
            padding_mode = "replicate"
        options = {
            "shift_px": shift_px, "shift_frac": shift_frac, "padding_mode": padding_mode,
            "interpolation": interpolation, "distribution": distribution,
            "normal_scale": normal_scale, "p": p, "same_on_batch": same_on_batch,
            "mask_fill": mask_fill, "min_visibility": min_visibility, "min_area": min_area,
        }  # fmt: skip
        default = fills.pop("others", 0.0)
        typed = {
            kind: TranslateBinding.build(fill=value, **options) for kind, value in fills.items()
        }
        super().__init__(TranslateBinding.build(fill=default, **options), typed)


def _split_fill(fill: object, mask_fill: int | None) -> tuple[dict[Any, Any], int]:
    """``fill`` as ``{image type or "others": fill}`` and the masks' label, checked."""
    if not isinstance(fill, dict):
        return ({} if fill is None else {"others": fill}), (0 if mask_fill is None else mask_fill)
    fills = dict(fill)
    if tv_tensors.Mask in fills:
        label = fills.pop(tv_tensors.Mask)
        if mask_fill is not None and mask_fill != label:
            raise ValueError(
                f"`mask_fill` must not contradict `fill[tv_tensors.Mask]`, but got "
                f"mask_fill={mask_fill!r} and fill[tv_tensors.Mask]={label!r}; give the masks' "
                "label once."
            )
        mask_fill = 0 if label is None else label
    unknown = [key for key in fills if key not in _FILL_KEYS]
    if unknown:
        names = [getattr(key, "__name__", key) for key in _FILL_KEYS] + ["Mask"]
        raise ValueError(
            f"`fill` keys must be among {names}, but got {[describe(k) for k in unknown]}; boxes "
            "and keypoints have no fill."
        )
    fills = {key: 0.0 if value is None else value for key, value in fills.items()}
    return fills, (0 if mask_fill is None else mask_fill)


def _batch_layout(flat_inputs: list[Any]) -> tuple[int, tuple[int, int], torch.device]:
    """Samples ``N``, ``(H, W)`` and device of a call, from its images (or, lacking any, targets)."""
    images = [x for x in flat_inputs if isinstance(x, _IMAGES) or _is_plain(x)]
    sized = images + [x for x in flat_inputs if isinstance(x, _PER_SAMPLE)]
    if not sized:
        raise TypeError(
            "The inputs must hold an image (tv_tensors.Image or Video, a plain tensor or a PIL "
            f"image) or a target with a size, but got {[type(x).__name__ for x in flat_inputs]}."
        )
    sizes = {tuple(F.get_size(x)) for x in sized}
    if len(sizes) > 1:
        raise ValueError(
            f"The images and targets of one call must share one (H, W), but got {sorted(sizes)}."
        )
    counts = {_sample_count(x) for x in images} or {1}
    if len(counts) > 1:
        raise ValueError(
            f"The images of one call must hold the same number of samples, but got "
            f"{sorted(counts)} ({[describe(x) for x in images if isinstance(x, torch.Tensor)]})."
        )
    tensors = [x for x in sized if isinstance(x, torch.Tensor)]
    device = tensors[0].device if tensors else torch.device("cpu")
    height, width = sizes.pop()
    return counts.pop(), (int(height), int(width)), device


def _sample_count(image: Any) -> int:
    """``N`` of one image input: a ``Video`` has a frame axis before ``C, H, W``."""
    if isinstance(image, PIL.Image.Image):
        return 1
    item_ndim = 4 if isinstance(image, tv_tensors.Video) else 3
    if image.ndim < 3:
        raise ValueError(
            f"Images must have shape (C, H, W) or (N, C, H, W), but got {describe(image)}; add "
            "the channel dimension (e.g. image[None] for one grey image)."
        )
    return 1 if image.ndim <= item_ndim else int(image.shape[0])


def _is_plain(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and not isinstance(value, tv_tensors.TVTensor)
