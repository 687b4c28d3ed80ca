"""shiftaug transforms as kornia augmentations.

:class:`RandomTranslate` works alone or inside ``kornia.augmentation.AugmentationSequential``
with ``data_keys`` such as ``["input", "mask", "bbox_xyxy", "keypoints"]``, honouring ``p``,
``same_on_batch``, ``keepdim``, parameter replay (``aug(x, params=aug._params)``) and
``AugmentationSequential.inverse()``. With ``interpolation="nearest"`` it moves pixels by
exact whole-pixel shifts (kornia's own ``RandomTranslate`` resamples them bilinearly).
"""

from __future__ import annotations

from typing import Any

import torch
from kornia.augmentation import GeometricAugmentationBase2D
from kornia.geometry.boxes import Boxes
from kornia.geometry.keypoints import Keypoints

from .._checks import check_probability, describe, get_validate_args
from ._common import Binding, TranslateBinding

__all__ = ["RandomTranslate", "ShiftaugAugmentation"]


class ShiftaugAugmentation(GeometricAugmentationBase2D):
    """Base of the kornia adapters: a geometric kornia augmentation driven by a :class:`Binding`.

    kornia draws the per-sample gate (``p``, ``p_batch``) and blends skipped samples back; the
    binding draws the parameters (stored flat in ``_params``) and moves each data key. The
    parameters of a skipped sample say so (``applied`` False, no shift), so replaying them with
    the core transform or inverting them moves exactly the samples kornia moved. A replayed
    dict is checked like a drawn one (entries, shapes, dtypes, finite values, agreement with
    ``batch_prob``). The inverse is computed from the parameters, not by inverting and
    resampling a matrix.
    """

    def __init__(
        self, binding: Binding, *, p: float, p_batch: float, same_on_batch: bool, keepdim: bool
    ) -> None:
        if not isinstance(keepdim, bool):
            raise TypeError(f"`keepdim` must be a bool, but got {describe(keepdim)}.")
        super().__init__(
            p=check_probability("p", p), p_batch=check_probability("p_batch", p_batch),
            same_on_batch=same_on_batch, keepdim=keepdim,
        )  # fmt: skip
        self.binding = binding

    def __repr__(self) -> str:
        core = self.binding.core.extra_repr().split(", p=")[0]  # kornia owns p and the batch
        gate = f"p={self.p}, p_batch={self.p_batch}, same_on_batch={self.same_on_batch}"
        return f"{type(self).__name__}({core}, {gate}, keepdim={self.keepdim})"

    def generate_parameters(self, batch_shape: tuple[int, ...]) -> dict[str, torch.Tensor]:
        size = (int(batch_shape[-2]), int(batch_shape[-1]))
        record = self.binding.draw(int(batch_shape[0]), size, self.device)
        return self.binding.to_tensors(record)

    def forward_parameters(self, batch_shape: tuple[int, ...]) -> dict[str, torch.Tensor]:
        params = super().forward_parameters(batch_shape)
        gate = self._applied(params, int(batch_shape[0]))
        if gate is not None:  # samples kornia skips are not applied, and not moved
            size = (int(batch_shape[-2]), int(batch_shape[-1]))
            record = self.binding.from_tensors(params, size, check_values=False)
            params.update(self.binding.to_tensors(self.binding.restrict(record, gate)))
        names = (*self.binding.tensor_fields, "batch_prob")
        self._drawn = {name: (params[name], params[name]._version) for name in names}
        return params

    def _is_drawn(self, params: dict[str, torch.Tensor]) -> bool:
        """Whether ``params`` holds this module's own latest draw, unmodified (no value checks)."""
        drawn = getattr(self, "_drawn", None)
        if drawn is None or torch.compiler.is_compiling():
            return drawn is not None
        return all(
            tensor._version == version and params.get(name) is tensor
            for name, (tensor, version) in drawn.items()
        )

    def transform_tensor(
        self, input: torch.Tensor, *, shape: torch.Tensor | None = None, match_channel: bool = True
    ) -> torch.Tensor:
        if isinstance(input, torch.Tensor) and not input.is_floating_point():
            raise TypeError(
                "kornia augmentations take floating-point (B, C, H, W) images, but got "
                f"{describe(input)}; convert with x.float() / 255, or use "
                "shiftaug.RandomTranslate, which shifts uint8 images exactly."
            )
        return super().transform_tensor(input, shape=shape, match_channel=match_channel)

    def _record(
        self, params: dict[str, torch.Tensor], size: tuple[int, ...], count: int | None = None
    ) -> Any:
        """The binding's record of ``params`` for ``count`` samples of an ``(..., H, W)`` size."""
        drawn = self._is_drawn(params)
        record = self.binding.from_tensors(
            params, (int(size[-2]), int(size[-1])), count=count, check_values=not drawn
        )
        if not drawn and get_validate_args():
            self._check_gate(params, record)
        return record

    def _check_gate(self, params: dict[str, torch.Tensor], record: Any) -> None:
        gate = self._applied(params, len(record))
        if gate is not None and bool((record.applied & ~gate.to(record.applied.device)).any()):
            raise ValueError(
                "`params['applied']` must be False for the samples `params['batch_prob']` skips, "
                f"but got applied={record.applied.tolist()} with batch_prob="
                f"{params['batch_prob'].tolist()}; replay the dict the transform returned."
            )

    def _canvas(self, params: dict[str, torch.Tensor]) -> tuple[int, int]:
        shape = params["forward_input_shape"].tolist()
        return int(shape[-2]), int(shape[-1])

    def apply_transform(
        self,
        input: torch.Tensor,
        params: dict[str, torch.Tensor],
        flags: dict[str, Any],
        transform: torch.Tensor | None = None,
    ) -> torch.Tensor:
        return self.binding.image(input, self._record(params, input.shape, input.shape[0]))

    def apply_transform_mask(
        self,
        input: torch.Tensor,
        params: dict[str, torch.Tensor],
        flags: dict[str, Any],
        transform: torch.Tensor | None = None,
    ) -> torch.Tensor:
        return self.binding.mask(input, self._record(params, input.shape, input.shape[0]))

    def apply_transform_box(
        self,
        input: Boxes,
        params: dict[str, torch.Tensor],
        flags: dict[str, Any],
        transform: torch.Tensor | None = None,
    ) -> Boxes:
        return self._move_boxes(input, params, self._record(params, self._canvas(params)))

    def apply_transform_keypoint(
        self,
        input: Keypoints,
        params: dict[str, torch.Tensor],
        flags: dict[str, Any],
        transform: torch.Tensor | None = None,
    ) -> Keypoints:
        record = self._record(params, self._canvas(params))
        return self._move_keypoints(input, params, record)

    def _move_boxes(self, boxes: Boxes, params: dict[str, torch.Tensor], record: Any) -> Boxes:
        data = boxes.to_tensor(mode="xyxy", as_padded_sequence=True)
        assert isinstance(data, torch.Tensor)
        moved, visible = self.binding.boxes(data, record, canvas_size=self._canvas(params))
        out = Boxes.from_tensor(moved, mode="xyxy", validate_boxes=False)
        # kornia marks filtered boxes invalid (they export as zero rows), as its own
        # Boxes.filter_boxes_by_area does; boxes that left the canvas or fell below
        # min_visibility / min_area are filtered that way.
        out._valid = out._valid & visible & boxes._valid
        return out

    def _move_keypoints(
        self, keypoints: Keypoints, params: dict[str, torch.Tensor], record: Any
    ) -> Keypoints:
        data = keypoints.to_tensor()
        assert isinstance(data, torch.Tensor)
        moved, _ = self.binding.keypoints(data, record, canvas_size=self._canvas(params))
        return Keypoints.from_tensor(moved)

    # The inverse: the same kernels with inverted parameters, for the samples kornia's gate
    # applied (static p = p_batch = 1 applies all, as kornia documents).
    def _inverse_record(self, params: dict[str, torch.Tensor], size: tuple[int, ...]) -> Any:
        return self.binding.invert(self._record(params, size))

    def _applied(self, params: dict[str, torch.Tensor], count: int) -> torch.Tensor | None:
        if (self.p == 1.0 and self.p_batch == 1.0) or "batch_prob" not in params:
            return None
        applied = torch.atleast_1d(params["batch_prob"] > 0.5)
        if applied.ndim != 1 or applied.numel() not in (1, count):
            raise ValueError(
                f"`params['batch_prob']` must hold one entry or one per sample ({count}), but got "
                f"{describe(params['batch_prob'])}."
            )
        return applied.expand(count) if applied.numel() == 1 else applied

    def _blend(
        self, moved: torch.Tensor, kept: torch.Tensor, params: dict[str, Any]
    ) -> torch.Tensor:
        applied = self._applied(params, kept.shape[0])
        if applied is None:
            return moved
        gate = applied.to(kept.device).view(-1, *([1] * (kept.ndim - 1)))
        return torch.where(gate, moved, kept)

    def inverse_inputs(
        self,
        input: torch.Tensor,
        params: dict[str, torch.Tensor],
        flags: dict[str, Any],
        transform: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> torch.Tensor:
        in_tensor = self.transform_tensor(input)
        moved = self.binding.image(in_tensor, self._inverse_record(params, in_tensor.shape))
        return self._blend(moved, in_tensor, params)

    def inverse_masks(
        self,
        input: torch.Tensor,
        params: dict[str, torch.Tensor],
        flags: dict[str, Any],
        transform: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> torch.Tensor:
        shape = params.get("forward_input_shape")
        in_tensor = self.transform_tensor(input, shape=shape, match_channel=False)
        moved = self.binding.mask(in_tensor, self._inverse_record(params, in_tensor.shape))
        output = self._blend(moved, in_tensor, params)
        return self.transform_output_tensor(output, input.shape) if self.keepdim else output

    def inverse_boxes(
        self,
        input: Boxes,
        params: dict[str, torch.Tensor],
        flags: dict[str, Any],
        transform: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> Boxes:
        moved = self._move_boxes(input, params, self._inverse_record(params, self._canvas(params)))
        data = self._blend(
            moved.to_tensor(mode="xyxy", as_padded_sequence=True),  # type: ignore[arg-type]
            input.to_tensor(mode="xyxy", as_padded_sequence=True),  # type: ignore[arg-type]
            params,
        )
        out = Boxes.from_tensor(data, mode="xyxy", validate_boxes=False)
        out._valid = self._blend(moved._valid, input._valid, params)
        return out

    def inverse_keypoints(
        self,
        input: Keypoints,
        params: dict[str, torch.Tensor],
        flags: dict[str, Any],
        transform: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> Keypoints:
        record = self._inverse_record(params, self._canvas(params))
        moved = self._move_keypoints(input, params, record)
        kept = input.to_tensor()
        return Keypoints.from_tensor(self._blend(moved.data, kept, params))  # type: ignore[arg-type]


class RandomTranslate(ShiftaugAugmentation):
    """:class:`shiftaug.RandomTranslate` as a kornia augmentation.

    Args:
        shift_px: shift range in pixels (``docs/conventions.md``: ``4``, ``(4, 2)``,
            ``((0, 8), 2)``).
        shift_frac: the same grammar as a fraction of the image size. Give exactly one.
        padding_mode: ``"zeros"``, ``"constant"``, ``"reflect"``, ``"symmetric"``,
            ``"replicate"`` (or ``"edge"``) or ``"circular"``; ``None`` (default): ``"constant"``
            if a ``fill`` is given, else ``"zeros"``, as in torchvision.
        fill: value(s) for ``padding_mode="constant"``.
        interpolation: ``"nearest"`` (whole-pixel shifts, exact copies) or ``"bilinear"``.
        distribution: ``"uniform"`` or ``"normal"``; ``normal_scale`` as in the core.
        mask_fill: label written into vacated mask pixels, whatever the image padding (masks
            wrap with ``padding_mode="circular"``; see docs/conventions.md#masks).
        min_visibility: boxes keeping less than this fraction of their area are filtered
            (exported as zero rows, kornia's representation of filtered boxes).
        min_area: boxes whose visible area falls below this many pixels are filtered too.
        p: probability that a sample is shifted (kornia's per-sample gate).
        p_batch: probability that the batch is processed at all.
        same_on_batch: one shift (and one ``p`` draw) for the whole batch.
        keepdim: keep the input's rank (``(C, H, W)`` in, ``(C, H, W)`` out).

    Shape:
        - input: ``(C, H, W)`` or ``(B, C, H, W)``, floating point
        - output: ``(B, C, H, W)``, or the input's shape with ``keepdim=True``

    Example:
        >>> import torch
        >>> import kornia.augmentation as K
        >>> from shiftaug.adapters.kornia import RandomTranslate
        >>> aug = K.AugmentationSequential(
        ...     RandomTranslate(shift_px=4), K.RandomHorizontalFlip(),
        ...     data_keys=["input", "mask", "bbox_xyxy"],
        ... )
        >>> images, masks = torch.rand(2, 3, 32, 32), torch.zeros(2, 1, 32, 32)
        >>> boxes = torch.tensor([[[4.0, 4.0, 12.0, 12.0]], [[8.0, 8.0, 20.0, 20.0]]])
        >>> out_images, out_masks, out_boxes = aug(images, masks, boxes)
        >>> out_boxes.shape
        torch.Size([2, 1, 4])
        >>> restored = aug.inverse(out_images, data_keys=["input"])
    """

    binding: TranslateBinding

    def __init__(
        self,
        shift_px: object = None,
        shift_frac: object = None,
        *,
        padding_mode: str | None = None,
        fill: float | tuple[float, ...] | None = None,
        interpolation: str = "nearest",
        distribution: str = "uniform",
        normal_scale: float = 0.5,
        mask_fill: int = 0,
        min_visibility: float = 0.0,
        min_area: float = 0.0,
        p: float = 0.5,
        p_batch: float = 1.0,
        same_on_batch: bool = False,
        keepdim: bool = False,
    ) -> None:
        # kornia draws the per-sample gate (p, p_batch); the core shifts every sample it gets.
        binding = TranslateBinding.build(
            shift_px=shift_px, shift_frac=shift_frac, padding_mode=padding_mode, fill=fill,
            interpolation=interpolation, distribution=distribution, normal_scale=normal_scale,
            mask_fill=mask_fill, min_visibility=min_visibility, min_area=min_area, p=1.0,
            same_on_batch=same_on_batch,
        )  # fmt: skip
        super().__init__(
            binding, p=p, p_batch=p_batch, same_on_batch=same_on_batch, keepdim=keepdim
        )

    def compute_transformation(
        self, input: torch.Tensor, params: dict[str, torch.Tensor], flags: dict[str, Any]
    ) -> torch.Tensor:
        """The ``(B, 3, 3)`` translation matrices (input pixel -> output pixel)."""
        record = self._record(params, input.shape, input.shape[0])
        shift = self.binding.applied_shift(record)
        matrix = torch.eye(3, device=input.device, dtype=input.dtype).repeat(shift.shape[0], 1, 1)
        matrix[:, :2, 2] = shift.to(device=input.device, dtype=input.dtype)
        return matrix
