"""``RandomTranslate``: random per-sample translation of images and their targets."""

from __future__ import annotations

import numpy as np
import torch

from .._checks import check_choice, check_real, describe
from ..functional import INTERPOLATIONS, translate_boxes
from ..functional._boxes import translate_boxes_
from ..functional._fill import Fill, normalize_fill, resolve_padding
from ..functional._image import translate_image_
from ..functional._keypoints import translate_keypoints_
from ..functional._mask import translate_mask_
from ..functional._shift import leading_shift
from ..params import DISTRIBUTIONS, RangeSpec, TranslateParams, resolve_shift_range
from ..params._translate import draw_translate, whole_pixels
from ._base import RandomTransform, sample_layout
from ._targets import TranslateOutput, check_target

__all__ = ["RandomTranslate", "TranslateOutput"]


class RandomTranslate(RandomTransform):
    """Shift every sample of a batch by its own random ``(dx, dy)``, targets included.

    Args:
        shift_px: shift range in pixels (:data:`~shiftaug.params.RangeSpec`): ``a``
            (``[-a, a]`` on both axes), ``(ax, ay)``, or per axis a ``(low, high)`` interval,
            e.g. ``((0, 8), 2)``; within +-2**24.
        shift_frac: the same grammar as a fraction of the image size (x of ``W``, y of ``H``),
            within [-1, 1]. Give exactly one of ``shift_px`` and ``shift_frac``.
        padding_mode: ``"zeros"``, ``"constant"``, ``"reflect"``, ``"symmetric"``,
            ``"replicate"`` (or ``"edge"``) or ``"circular"``. ``None`` (default) means
            ``"constant"`` when ``fill`` is given and ``"zeros"`` otherwise, so ``fill=114``
            alone pads with 114 as in torchvision.
        fill: value(s) for ``padding_mode="constant"``: one number or one per channel, in the
            image's range; ``None`` means 0. Masks use ``mask_fill``.
        interpolation: ``"nearest"`` draws whole-pixel shifts and copies pixels exactly;
            ``"bilinear"`` draws continuous shifts and resamples.
        distribution: ``"uniform"`` (integers inclusive, or continuous) or ``"normal"``
            (centred, clipped to the range; see :func:`shiftaug.params.sample_translate`).
        p: probability in [0, 1] that a sample is shifted.
        same_on_batch: a bool: one shift for the whole batch.
        generator: a :class:`torch.Generator` for reproducible draws, or ``None`` (torch's
            global generator).
        normal_scale: a number > 0: with ``distribution="normal"``, the standard deviation as a
            multiple of the range's half-width.
        mask_fill: label written into vacated pixels of ``mask`` and ``masks`` (default 0,
            background), whatever the image's ``padding_mode``; with ``"circular"`` masks wrap
            like the image (see [Conventions](../conventions.md#masks)).
        mask_padding_mode: ``None`` (default) applies the rule above; a padding mode pads
            masks like that instead (``"reflect"`` mirrors labels into the border, like the
            image), with ``mask_fill`` for ``"constant"``.
        box_format: format of ``boxes``: ``"xyxy"``, ``"xywh"`` or ``"cxcywh"``.
        min_visibility: a number in [0, 1]: boxes keeping less than this fraction of their area
            are marked invisible.
        min_area: a number >= 0: boxes whose visible area falls below this many pixels are
            marked invisible.

    Attributes:
        padding_mode: the resolved image padding (``None`` and ``"edge"`` resolved).
        fill: the resolved image fill (0 when none was given).
        mask_padding: ``(mode, fill)`` the masks are padded with under the mask rule (the
            adapters pad masks with it too).
        last_params: the :class:`~shiftaug.TranslateParams` of the last successful call.

    Shape:
        - image: ``(C, H, W)``, ``(N, C, H, W)``, or ``(N, T, C, H, W)`` (frames share a shift).
          A 3-D tensor is always **one** image, as in torchvision and kornia: pass an
          ``(N, H, W)`` stack of greyscale images as ``image[:, None]`` (``(N, 1, H, W)``) to
          give each its own shift.
        - mask: ``(N, H, W)`` dense maps (``(H, W)`` for one image); extra leading dims share
          their sample's shift
        - masks: ``(N, K, H, W)`` instance masks (``(K, H, W)`` for one image)
        - boxes: ``(N, M, 4)`` (``(M, 4)``); keypoints: ``(N, K, 2)`` (``(K, 2)``)
        - output: the image's shape and memory format; with targets a :class:`TranslateOutput`

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
        shift_px: RangeSpec | None = None,
        shift_frac: RangeSpec | None = None,
        *,
        padding_mode: str | None = None,
        fill: Fill | None = None,
        interpolation: str = "nearest",
        distribution: str = "uniform",
        p: float = 1.0,
        same_on_batch: bool = False,
        generator: torch.Generator | None = None,
        normal_scale: float = 0.5,
        mask_fill: float = 0,
        mask_padding_mode: str | None = None,
        box_format: str = "xyxy",
        min_visibility: float = 0.0,
        min_area: float = 0.0,
    ) -> None:
        super().__init__(p=p, same_on_batch=same_on_batch, generator=generator)
        self.shift_range = resolve_shift_range(shift_px, shift_frac)
        self.shift_px, self.shift_frac = shift_px, shift_frac
        self.padding_mode, self.fill = resolve_padding(padding_mode, fill)
        self.interpolation = check_choice("interpolation", interpolation, INTERPOLATIONS)
        if self.interpolation == "nearest" and self.shift_range.unit == "px":
            whole_pixels(self.shift_range.x, "x", "px")  # a pixel range is checkable now
            whole_pixels(self.shift_range.y, "y", "px")
        self.distribution = check_choice("distribution", distribution, DISTRIBUTIONS)
        # Channel count and dtype are unknown until the first call; check what can be checked.
        normalize_fill(self.fill, self.padding_mode, torch.float64, _fill_len(self.fill))
        if isinstance(self.fill, (torch.Tensor, np.ndarray)):  # read once (a device sync)
            self.fill = self.fill.tolist()
        self.mask_fill = mask_fill
        self.mask_padding_mode = mask_padding_mode
        self.mask_padding = _mask_padding(self.padding_mode, mask_padding_mode, mask_fill)
        self.normal_scale = check_real("normal_scale", normal_scale, low=0.0, low_open=True)
        translate_boxes(  # validates box_format, min_visibility and min_area once, up front
            torch.zeros(0, 4), (0, 0), canvas_size=(1, 1), format=box_format,
            min_visibility=min_visibility, min_area=min_area,
        )  # fmt: skip
        self.box_format, self.min_visibility, self.min_area = box_format, min_visibility, min_area

    def make_params(
        self, image: torch.Tensor, *, generator: torch.Generator | None = None
    ) -> TranslateParams:
        """Draw shifts for ``image`` (see :func:`shiftaug.params.sample_translate`).

        Args:
            image: the images the shifts are for; only their shape and device are read.
            generator: overrides the module's own generator for this draw only (frameworks
                that seed one generator per call use it; the module's state is not touched, so
                this is thread-safe).

        Returns:
            The drawn :class:`~shiftaug.TranslateParams`.
        """
        count, _ = sample_layout(image)
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(
                f"`generator` must be a torch.Generator or None, but got {describe(generator)}."
            )
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
        masks: torch.Tensor | None = None,
        params: TranslateParams | None = None,
    ) -> torch.Tensor | TranslateOutput:
        """Shift ``image`` and any targets by one draw (or a replayed one).

        Args:
            image: ``(C, H, W)``, ``(N, C, H, W)`` or ``(N, T, C, H, W)`` images.
            mask: dense map(s) with the image's ``(H, W)``: ``(N, H, W)`` (extra leading dims
                share their sample's shift), ``(H, W)`` for one image.
            boxes: ``(N, M, 4)`` boxes in ``box_format`` (``(M, 4)`` for one image).
            keypoints: ``(N, K, 2)`` ``(x, y)`` keypoints (``(K, 2)`` for one image).
            masks: ``(N, K, H, W)`` instance masks (``(K, H, W)`` for one image).
            params: replays an earlier draw; validated like a fresh one
                (:meth:`~shiftaug.TranslateParams.validate`).

        Returns:
            The moved images (same shape, dtype and memory format) when no target is given,
            else a :class:`TranslateOutput`.
        """
        if params is None:
            params = self.make_params(image)
            shift = params.shift
        else:
            shift = self._replayed(params, image).shift
        out = self._run(image, mask, masks, boxes, keypoints, params, shift)
        self.last_params = params  # only once the call succeeded
        return out

    def inverse(
        self,
        image: torch.Tensor,
        mask: torch.Tensor | None = None,
        boxes: torch.Tensor | None = None,
        keypoints: torch.Tensor | None = None,
        *,
        masks: torch.Tensor | None = None,
        params: TranslateParams | None = None,
    ) -> torch.Tensor | TranslateOutput:
        """Undo a call: move everything back by the call's shifts.

        Exact for ``padding_mode="circular"``; for the other modes the pixels that were pushed
        out of the frame are gone and the border shows the padding instead.

        Args:
            image: the moved images, as passed to :meth:`forward`.
            mask: as in :meth:`forward`.
            boxes: as in :meth:`forward`.
            keypoints: as in :meth:`forward`.
            masks: as in :meth:`forward`.
            params: the draw to undo; defaults to :attr:`last_params`.

        Returns:
            As :meth:`forward`.
        """
        params = self.last_params if params is None else params
        if params is None:
            raise ValueError("`params` must be given: this transform has not been called yet.")
        shift = -self._replayed(params, image).shift
        return self._run(image, mask, masks, boxes, keypoints, params, shift)

    @staticmethod
    def _replayed(params: object, image: torch.Tensor) -> TranslateParams:
        """``params`` checked against ``image`` (the one path every replay takes)."""
        count, _ = sample_layout(image)
        if not isinstance(params, TranslateParams):
            raise TypeError(f"`params` must be TranslateParams, but got {type(params).__name__}.")
        params.validate(count, (image.shape[-2], image.shape[-1]))
        return params

    def _run(
        self,
        image: torch.Tensor,
        mask: torch.Tensor | None,
        masks: torch.Tensor | None,
        boxes: torch.Tensor | None,
        keypoints: torch.Tensor | None,
        params: TranslateParams,
        shift: torch.Tensor,
    ) -> torch.Tensor | TranslateOutput:
        count, shape = sample_layout(image)
        shift = shift.to(image.device)
        if self.interpolation == "nearest" and shift.is_floating_point():
            # Every target moves by whole pixels. Rounded in its own dtype: a replayed float
            # shift beyond int64 stays exact (the kernels reduce it), never saturated.
            shift = torch.round(shift)
        # Shifts drawn by our sampler are finite and replayed ones were validated: skip the
        # NaN check (a device sync on GPUs).
        out = translate_image_(
            image, shift.reshape(*shape, 2), self.padding_mode, self.fill, self.interpolation,
            check_values=False,
        )  # fmt: skip
        if mask is None and masks is None and boxes is None and keypoints is None:
            return out
        # A target's first dimension is the sample (for a batch): align the shift with
        # leading dimensions, so (N, M, 4) boxes and (N, M, P, 2) keypoints both work.
        shift = shift.reshape(*shape[:1], 2)
        moved_mask = self._mask("mask", mask, count, image, shift)
        moved_masks = self._mask("masks", masks, count, image, shift)
        boxes_out = boxes_visible = kp_out = kp_visible = None
        canvas = (image.shape[-2], image.shape[-1])
        if boxes is not None:
            boxes = check_target("boxes", boxes, count, image.ndim > 3, image)
            boxes_out, boxes_visible = translate_boxes_(
                boxes, leading_shift(shift, boxes.shape[:-2], "shift", "boxes"),
                canvas_size=canvas, format=self.box_format, min_visibility=self.min_visibility,
                min_area=self.min_area, check_values=False,
            )  # fmt: skip
        if keypoints is not None:
            keypoints = check_target("keypoints", keypoints, count, image.ndim > 3, image)
            kp_out, kp_visible = translate_keypoints_(
                keypoints, leading_shift(shift, keypoints.shape[:-2], "shift", "keypoints"),
                canvas_size=canvas, check_values=False,
            )  # fmt: skip
        return TranslateOutput(
            out, moved_mask, boxes_out, boxes_visible, kp_out, kp_visible, params, moved_masks
        )

    def _mask(
        self, name: str, target: object, count: int, image: torch.Tensor, shift: torch.Tensor
    ) -> torch.Tensor | None:
        """Move ``mask`` or ``masks`` with the mask padding (see :attr:`mask_padding`)."""
        if target is None:
            return None
        target = check_target(name, target, count, image.ndim > 3, image)
        mode, fill = self.mask_padding
        return translate_mask_(
            target, leading_shift(shift, target.shape[:-2], "shift", name), padding_mode=mode,
            fill=fill, check_values=False, fill_name="mask_fill", mode_name="mask_padding_mode",
        )  # fmt: skip

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
    if isinstance(fill, (torch.Tensor, np.ndarray)) and fill.ndim == 1:
        return int(fill.shape[0])
    return 1


def _mask_padding(
    padding_mode: str, mask_padding_mode: str | None, mask_fill: object
) -> tuple[str, object]:
    """How masks are padded (see docs/conventions.md#masks): vacated mask pixels take
    ``mask_fill`` whatever the image's padding, except that circular shifts wrap masks too;
    ``mask_padding_mode`` opts into another mode."""
    if mask_padding_mode is None and padding_mode == "circular":
        normalize_fill(mask_fill, "constant", torch.float64, 1, name="mask_fill")  # its type
        if mask_fill != 0:
            raise ValueError(
                "`mask_fill` is not used with padding_mode='circular' (masks wrap like the image: "
                f"no pixel is vacated), but got mask_fill={mask_fill!r}; drop it, or choose "
                "`mask_padding_mode`."
            )
        return "circular", 0
    mode = "constant"
    if mask_padding_mode is not None:
        mode, _ = resolve_padding(mask_padding_mode, None, mode_name="mask_padding_mode")
    normalize_fill(
        mask_fill, mode, torch.float64, 1, name="mask_fill", mode_name="mask_padding_mode"
    )
    return mode, mask_fill
