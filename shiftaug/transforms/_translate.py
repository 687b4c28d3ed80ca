"""``RandomTranslate``: random per-sample translation of images and their targets."""

from __future__ import annotations

from typing import NamedTuple

import torch

from .._checks import check_choice, describe
from ..functional import INTERPOLATIONS, PADDING_MODES, translate_boxes
from ..functional._boxes import translate_boxes_
from ..functional._image import normalize_fill, translate_image_
from ..functional._keypoints import translate_keypoints_
from ..functional._mask import translate_mask_
from ..functional._shift import leading_shift
from ..params import DISTRIBUTIONS, TranslateParams, resolve_shift_range
from ..params._translate import draw_translate
from ._base import RandomTransform, sample_layout

__all__ = ["RandomTranslate", "TranslateOutput"]


class TranslateOutput(NamedTuple):
    """Everything :class:`RandomTranslate` returns when called with targets."""

    image: torch.Tensor
    mask: torch.Tensor | None
    boxes: torch.Tensor | None
    boxes_visible: torch.Tensor | None
    keypoints: torch.Tensor | None
    keypoints_visible: torch.Tensor | None
    params: TranslateParams


class RandomTranslate(RandomTransform):
    """Shift every sample of a batch by its own random ``(dx, dy)``, targets included.

    Args:
        shift_px: shift range in pixels: ``a`` (``[-a, a]`` on both axes), ``(ax, ay)``, or per
            axis a ``(low, high)`` interval, e.g. ``((0, 8), 2)``.
        shift_frac: the same grammar as a fraction of the image size (x of ``W``, y of ``H``).
            Give exactly one of ``shift_px`` and ``shift_frac``.
        padding_mode: ``"zeros"``, ``"constant"``, ``"reflect"``, ``"symmetric"``,
            ``"replicate"`` or ``"circular"``.
        fill: value(s) for ``padding_mode="constant"``; masks use ``mask_fill``.
        interpolation: ``"nearest"`` draws whole-pixel shifts and copies pixels exactly;
            ``"bilinear"`` draws continuous shifts and resamples.
        distribution: ``"uniform"`` (integers inclusive, or continuous) or ``"normal"``
            (centred, clipped to the range; see :func:`shiftaug.params.sample_translate`).
        p: probability that a sample is shifted.
        same_on_batch: one shift for the whole batch.
        generator: random source for reproducible draws.
        mask_fill: label written into vacated mask pixels with ``padding_mode="constant"``.
        box_format: format of ``boxes``: ``"xyxy"``, ``"xywh"`` or ``"cxcywh"``.
        min_visibility: boxes keeping less than this fraction of their area are marked invisible.
        min_area: boxes whose visible area falls below this many pixels are marked invisible.

    Shape:
        - image: ``(C, H, W)``, ``(N, C, H, W)``, or ``(N, T, C, H, W)`` (frames share a shift)
        - mask: ``(H, W)``/``(K, H, W)`` for one image, ``(N, H, W)``/``(N, K, H, W)`` for a batch
        - boxes: ``(M, 4)`` or ``(N, M, 4)``; keypoints: ``(K, 2)`` or ``(N, K, 2)``
        - output: the image's shape; with targets a :class:`TranslateOutput`

    Example:
        >>> import torch
        >>> from shiftaug import RandomTranslate
        >>> images = torch.rand(8, 3, 32, 32)
        >>> t = RandomTranslate(shift_px=4, generator=torch.Generator().manual_seed(0))
        >>> out = t(images)  # each image moved by its own whole-pixel shift in [-4, 4]^2
        >>> t.last_params.shift.shape
        torch.Size([8, 2])
        >>> roll = RandomTranslate(shift_frac=0.5, padding_mode="circular")
        >>> torch.equal(roll.inverse(roll(images)), images)  # circular shifts invert exactly
        True
    """

    def __init__(
        self,
        shift_px: object = None,
        shift_frac: object = None,
        *,
        padding_mode: str = "zeros",
        fill: float | tuple[float, ...] = 0.0,
        interpolation: str = "nearest",
        distribution: str = "uniform",
        p: float = 1.0,
        same_on_batch: bool = False,
        generator: torch.Generator | None = None,
        normal_scale: float = 0.5,
        mask_fill: int = 0,
        box_format: str = "xyxy",
        min_visibility: float = 0.0,
        min_area: float = 0.0,
    ) -> None:
        super().__init__(p=p, same_on_batch=same_on_batch, generator=generator)
        self.shift_range = resolve_shift_range(shift_px, shift_frac)
        self.shift_px, self.shift_frac = shift_px, shift_frac
        self.padding_mode = check_choice("padding_mode", padding_mode, PADDING_MODES)
        self.interpolation = check_choice("interpolation", interpolation, INTERPOLATIONS)
        self.distribution = check_choice("distribution", distribution, DISTRIBUTIONS)
        # Channel count and dtype are unknown until the first call; check what can be checked.
        normalize_fill(fill, padding_mode, torch.float64, _fill_len(fill))
        normalize_fill(mask_fill, padding_mode, torch.int64, 1, name="mask_fill")
        self.fill, self.mask_fill = fill, mask_fill
        if (
            isinstance(normal_scale, bool)
            or not isinstance(normal_scale, (int, float))
            or not (0 < normal_scale < float("inf"))
        ):
            raise ValueError(
                f"`normal_scale` must be a number > 0, but got {describe(normal_scale)}."
            )
        self.normal_scale = float(normal_scale)
        translate_boxes(  # validates box_format, min_visibility and min_area once, up front
            torch.zeros(0, 4), (0, 0), canvas_size=(1, 1), format=box_format,
            min_visibility=min_visibility, min_area=min_area,
        )  # fmt: skip
        self.box_format, self.min_visibility, self.min_area = box_format, min_visibility, min_area

    def make_params(
        self, image: torch.Tensor, *, generator: torch.Generator | None = None
    ) -> TranslateParams:
        """Draw shifts for ``image`` (see :func:`shiftaug.params.sample_translate`).

        ``generator`` overrides the module's own for this draw only (frameworks that seed one
        generator per call use it; the module's state is not touched, so this is thread-safe).
        Only ``image``'s shape and device are read.
        """
        count, _ = sample_layout(image)
        return draw_translate(
            self.shift_range, count, (image.shape[-2], image.shape[-1]),
            integer=self.interpolation == "nearest", distribution=self.distribution,
            normal_scale=self.normal_scale, p=self.p, same_on_batch=self.same_on_batch,
            generator=generator if generator is not None else self.generator,
            device=image.device,
        )  # fmt: skip

    def forward(
        self,
        image: torch.Tensor,
        mask: torch.Tensor | None = None,
        boxes: torch.Tensor | None = None,
        keypoints: torch.Tensor | None = None,
        *,
        params: TranslateParams | None = None,
    ) -> torch.Tensor | TranslateOutput:
        """Shift ``image`` and any targets; ``params`` replays an earlier draw."""
        count, shape = sample_layout(image)
        if params is None:
            params = self.make_params(image)
        else:
            _check_params(params, count, image)
        out = self._run(image, mask, boxes, keypoints, params, params.shift, shape)
        self.last_params = params  # only once the call succeeded
        return out

    def inverse(
        self,
        image: torch.Tensor,
        mask: torch.Tensor | None = None,
        boxes: torch.Tensor | None = None,
        keypoints: torch.Tensor | None = None,
        *,
        params: TranslateParams | None = None,
    ) -> torch.Tensor | TranslateOutput:
        """Undo a call (``params`` defaults to :attr:`last_params`).

        Exact for ``padding_mode="circular"``; for the other modes the pixels that were pushed
        out of the frame are gone and the border shows the padding instead.
        """
        params = self.last_params if params is None else params
        if params is None:
            raise ValueError("`params` must be given: this transform has not been called yet.")
        count, shape = sample_layout(image)
        _check_params(params, count, image)
        return self._run(image, mask, boxes, keypoints, params, -params.shift, shape)

    def _run(
        self,
        image: torch.Tensor,
        mask: torch.Tensor | None,
        boxes: torch.Tensor | None,
        keypoints: torch.Tensor | None,
        params: TranslateParams,
        shift: torch.Tensor,
        shape: tuple[int, ...],
    ) -> torch.Tensor | TranslateOutput:
        shift = shift.to(image.device)
        if self.interpolation == "nearest" and shift.is_floating_point():
            shift = torch.round(shift).to(torch.int64)  # every target moves by whole pixels
        canvas = (image.shape[-2], image.shape[-1])
        image_shift = shift.reshape(*shape, 2)
        # Shifts drawn by our sampler are finite: skip the NaN check (a device sync on GPUs).
        out = translate_image_(
            image, image_shift, self.padding_mode, self.fill, self.interpolation, check_values=False
        )
        if mask is None and boxes is None and keypoints is None:
            return out
        # A target's first dimension is the sample (for a batch): align the (N, 2) shift with
        # leading dimensions, so (N, M, 4) boxes and (N, M, P, 2) keypoints both work.
        target_shift = shift.reshape(*shape[:1], 2)
        moved_mask = boxes_out = boxes_visible = kp_out = kp_visible = None
        if mask is not None:
            _check_target_size("mask", mask, canvas)
            moved_mask = translate_mask_(
                mask, target_shift, padding_mode=self.padding_mode, fill=self.mask_fill,
                check_values=False,
            )  # fmt: skip
        if boxes is not None:
            _check_target_rank("boxes", boxes, len(shape), "(N, ..., M, 4)")
            boxes_out, boxes_visible = translate_boxes_(
                boxes, leading_shift(target_shift, boxes.shape[:-2], "shift", "boxes"),
                canvas_size=canvas, format=self.box_format, min_visibility=self.min_visibility,
                min_area=self.min_area, check_values=False,
            )  # fmt: skip
        if keypoints is not None:
            _check_target_rank("keypoints", keypoints, len(shape), "(N, ..., K, 2)")
            kp_out, kp_visible = translate_keypoints_(
                keypoints,
                leading_shift(target_shift, keypoints.shape[:-2], "shift", "keypoints"),
                canvas_size=canvas,
                check_values=False,
            )
        return TranslateOutput(
            out, moved_mask, boxes_out, boxes_visible, kp_out, kp_visible, params
        )

    def extra_repr(self) -> str:
        unit = (
            f"shift_px={self.shift_px!r}"
            if self.shift_px is not None
            else f"shift_frac={self.shift_frac!r}"
        )
        parts = [
            unit,
            f"padding_mode={self.padding_mode!r}",
            f"interpolation={self.interpolation!r}",
        ]
        if self.padding_mode == "constant":
            parts.append(f"fill={self.fill!r}")
        if self.distribution != "uniform":
            parts.append(f"distribution={self.distribution!r}, normal_scale={self.normal_scale}")
        parts += [f"p={self.p}", f"same_on_batch={self.same_on_batch}"]
        return ", ".join(parts)


def _fill_len(fill: object) -> int:
    if isinstance(fill, (list, tuple)):
        return len(fill)
    if isinstance(fill, torch.Tensor) and fill.ndim == 1:
        return fill.shape[0]
    return 1


def _check_params(params: object, count: int, image: torch.Tensor) -> None:
    if not isinstance(params, TranslateParams):
        raise TypeError(f"`params` must be TranslateParams, but got {type(params).__name__}.")
    if len(params) != count:
        raise ValueError(
            f"`params` were drawn for {len(params)} samples, but `image` of shape "
            f"{tuple(image.shape)} holds {count}."
        )


def _check_target_size(name: str, target: torch.Tensor, canvas: tuple[int, ...]) -> None:
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"`{name}` must be a torch.Tensor, but got {type(target).__name__}.")
    if target.ndim < 2 or tuple(target.shape[-2:]) != canvas:
        raise ValueError(
            f"`{name}` must have the image's size (..., {canvas[0]}, {canvas[1]}), but got a "
            f"tensor of shape {tuple(target.shape)}."
        )


def _check_target_rank(name: str, target: object, batched: int, layout: str) -> None:
    """A batched call needs batched targets: at least (N, M, 4) boxes / (N, K, 2) keypoints."""
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"`{name}` must be a torch.Tensor, but got {type(target).__name__}.")
    if batched and target.ndim < 3:
        raise ValueError(
            f"`{name}` must have shape {layout} for a batch of images, but got a tensor of "
            f"shape {tuple(target.shape)}."
        )
