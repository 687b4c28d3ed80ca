"""The one mechanism behind every framework adapter: a :class:`Binding` per core transform.

kornia, torchvision and albumentations all call a transform **target by target**: the image,
then the mask, then the boxes, each with the parameters drawn once for the call. A core
transform (:class:`shiftaug.RandomTranslate`) instead takes everything in one ``forward``. A
:class:`Binding` bridges the two. It owns one core transform (built from the adapter's
arguments, so every argument is validated by the core, with the core's messages) and offers:

- :meth:`Binding.draw`: parameters for ``count`` samples of an ``(H, W)`` image, from the
  core's sampler (the only place randomness happens), optionally with a framework's generator;
- :meth:`Binding.image`, :meth:`Binding.mask`, :meth:`Binding.boxes`, :meth:`Binding.keypoints`:
  apply those parameters to one target at a time, giving exactly the core kernel's result;
- :meth:`Binding.invert`: parameters that undo a draw (for ``inverse`` in kornia);
- :meth:`Binding.to_tensors` / :meth:`Binding.from_tensors`: the record as a flat dict of
  ``(N, ...)`` tensors, for frameworks that store parameters as dicts (kornia's ``_params``).

**Sample layout.** Parameters hold ``N`` samples. With ``N == 1`` they apply to a whole target
of any shape (one image, a ``(T, C, H, W)`` clip, ``(M, 4)`` boxes, ``(P, K, 2)`` keypoints);
with ``N > 1`` a target's first dimension must be ``N`` and sample ``i`` moves entry ``i``.
``params.select(i)`` gives sample ``i``'s parameters for per-sample target lists.

**How to wrap another core transform** (for example ``RandomRelocate``):

1. Subclass :class:`Binding`; set ``core_class`` (the :class:`~shiftaug.RandomTransform`
   subclass) and ``params_class`` (its frozen parameter dataclass). Implement the four target methods and, where meaningful, :meth:`invert`;
   override :meth:`draw` if its parameters depend on more than the image size (then
   adapters pass the targets through ``draw``'s ``targets`` argument), and
   :meth:`from_tensors` if the record holds metadata other than ``image_size``. The record
   must support ``len()`` and ``select(index)`` like :class:`~shiftaug.TranslateParams`.
2. In each framework module, subclass that framework's adapter base
   (``shiftaug.adapters.torchvision.ShiftaugTransform``,
   ``shiftaug.adapters.albumentations.ShiftaugDualTransform``,
   ``shiftaug.adapters.kornia.ShiftaugAugmentation``): write an ``__init__`` with the
   transform's explicit arguments and pass ``YourBinding.build(**core_kwargs)`` to the base.
   The base does the framework's plumbing (target dispatch, batching, randomness, replay,
   serialization); the new class only lists its arguments. ``RandomTranslate`` in each
   module is the worked example.
3. Add the new class to the parametrised lists in ``tests/adapters/`` (they check the pixels
   against the core kernel for the parameters the adapter reports).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from .._checks import check_finite_tensor, check_tensor, describe, get_validate_args

# The framework hooks live in a torch-free module (``import shiftaug`` installs them); they are
# re-exported here, beside the adapters they register.
from .._import_hooks import REGISTERING_MODULES, register_with_frameworks, run_after_import
from ..functional import IMAGE_DTYPES
from ..functional._boxes import translate_boxes_
from ..functional._image import normalize_fill
from ..functional._keypoints import translate_keypoints_
from ..functional._mask import translate_mask_
from ..functional._slicing import shift_by_slicing
from ..params import TranslateParams
from ..transforms import RandomTransform, RandomTranslate
from ._frameworks import missing_framework, single_thread_after_fork

__all__ = [
    "REGISTERING_MODULES",
    "Binding",
    "TranslateBinding",
    "check_sample_count",
    "missing_framework",
    "register_with_frameworks",
    "run_after_import",
    "shift_by_slicing",
    "single_thread_after_fork",
]


class Binding:
    """Drive one core transform target by target (see the module docstring).

    Attributes:
        core_class: the core transform class this binding drives.
        params_class: the parameter record (a frozen dataclass) its sampler returns.
        tensor_fields: the record's ``(N, ...)`` tensor fields, each with the shape of one
            sample's entry and the dtype kind it must have (``"float"`` or ``"bool"``): what
            :meth:`to_tensors` exports and :meth:`from_tensors` checks on the way back.
        core: the core transform instance; its attributes are the adapter's settings.
    """

    core_class: ClassVar[type[RandomTransform]]
    params_class: ClassVar[type]
    tensor_fields: ClassVar[dict[str, tuple[tuple[int, ...], str]]] = {}

    def __init__(self, core: RandomTransform) -> None:
        if not isinstance(core, self.core_class):
            raise TypeError(
                f"`core` must be a {self.core_class.__name__}, but got {type(core).__name__}."
            )
        self.core = core

    @classmethod
    def build(cls, **kwargs: Any) -> Binding:
        """Construct the core transform from ``kwargs`` (the core validates them) and bind it."""
        return cls(cls.core_class(**kwargs))

    def draw(
        self,
        count: int,
        image_size: tuple[int, int],
        device: torch.device | str = "cpu",
        *,
        generator: torch.Generator | None = None,
        targets: dict[str, Any] | None = None,
    ) -> Any:
        """Parameters for ``count`` samples of an ``(H, W)`` image, on ``device``.

        ``generator`` overrides the core's own for this draw (albumentations seeds one per call
        from its pipeline's random state). ``targets`` carries the call's other inputs for
        transforms whose parameters depend on them; :class:`TranslateBinding` ignores it.
        """
        # The core sampler reads only the shape and device: a zero-storage probe suffices.
        probe = torch.empty((), device=device).expand(count, 1, *image_size)
        return self.core.make_params(probe, generator=generator)

    def image(self, image: torch.Tensor, params: Any) -> torch.Tensor:
        """Apply ``params`` to ``(..., C, H, W)`` images."""
        raise NotImplementedError

    def mask(self, mask: torch.Tensor, params: Any) -> torch.Tensor:
        """Apply ``params`` to ``(..., H, W)`` masks (integer, bool, or floating-point labels)."""
        raise NotImplementedError

    def boxes(
        self,
        boxes: torch.Tensor,
        params: Any,
        *,
        canvas_size: tuple[int, int],
        format: str = "xyxy",
        clip: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Apply ``params`` to ``(..., M, 4)`` pixel boxes; return ``(boxes, visible)``."""
        raise NotImplementedError

    def keypoints(
        self, keypoints: torch.Tensor, params: Any, *, canvas_size: tuple[int, int]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Apply ``params`` to ``(..., K, 2)`` ``(x, y)`` keypoints; return ``(keypoints, visible)``."""
        raise NotImplementedError

    def invert(self, params: Any) -> Any:
        """Parameters that undo ``params`` (raise ``NotImplementedError`` if there are none)."""
        raise NotImplementedError(f"{type(self.core).__name__} cannot be inverted.")

    def to_tensors(self, params: Any) -> dict[str, torch.Tensor]:
        """The record's ``(N, ...)`` tensor fields as a flat dict (for kornia's ``_params``).

        Reads the fields named in :attr:`tensor_fields` (no ``dataclasses.fields``, which
        ``torch.compile(fullgraph=True)`` cannot trace).
        """
        return {name: getattr(params, name) for name in self.tensor_fields}

    def from_tensors(
        self,
        tensors: dict[str, torch.Tensor],
        image_size: tuple[int, int],
        *,
        count: int | None = None,
        check_values: bool = True,
    ) -> Any:
        """Rebuild the record from :meth:`to_tensors`'s dict (extra keys are ignored).

        The entries are checked like a drawn record: each a tensor of ``count`` (or one common
        ``N``) samples with the field's per-sample shape and dtype kind, and, with
        ``check_values``, finite (see :func:`shiftaug.set_validate_args`).
        """
        if not isinstance(tensors, dict):
            raise TypeError(f"`params` must be a dict of tensors, but got {describe(tensors)}.")
        missing = [name for name in self.tensor_fields if name not in tensors]
        if missing:
            raise ValueError(
                f"`params` must hold the entries {list(self.tensor_fields)} of "
                f"{self.params_class.__name__}, but {missing} are missing; pass the parameters "
                "this transform returned."
            )
        for name, (shape, kind) in self.tensor_fields.items():
            value = check_tensor(f"params[{name!r}]", tensors[name])
            count = _check_field(name, value, shape, kind, count)
            if check_values and kind == "float":
                check_finite_tensor(f"params[{name!r}]", value)
        values = {name: tensors[name] for name in self.tensor_fields}
        record = self.params_class(**values, image_size=(int(image_size[0]), int(image_size[1])))
        if check_values and get_validate_args():
            self.check_values(record)
        return record

    def check_values(self, params: Any) -> None:
        """Raise ``ValueError`` if a record rebuilt from tensors breaks the sampler's invariants."""

    def restrict(self, params: Any, keep: torch.Tensor) -> Any:
        """``params`` with the samples where ``keep (N,)`` is False left unchanged."""
        raise NotImplementedError(f"{type(self.core).__name__} cannot restrict its samples.")


def _check_field(
    name: str, value: torch.Tensor, shape: tuple[int, ...], kind: str, count: int | None
) -> int:
    expected = "(N" + "".join(f", {size}" for size in shape) + ")"
    if value.ndim != len(shape) + 1 or tuple(value.shape[1:]) != shape:
        raise ValueError(
            f"`params[{name!r}]` must have shape {expected}, but got {describe(value)}."
        )
    if count is not None and value.shape[0] != count:
        raise ValueError(
            f"`params[{name!r}]` must hold {count} samples (the batch), but got {describe(value)}."
        )
    if (kind == "bool") != (value.dtype == torch.bool) or (
        kind == "float" and not value.is_floating_point()
    ):
        raise TypeError(f"`params[{name!r}]` must have a {kind} dtype, but got {value.dtype}.")
    return int(value.shape[0])


class TranslateBinding(Binding):
    """:class:`Binding` for :class:`shiftaug.RandomTranslate` (the worked example)."""

    core_class = RandomTranslate
    params_class = TranslateParams
    tensor_fields: ClassVar[dict[str, tuple[tuple[int, ...], str]]] = {
        "shift": ((2,), "float"),
        "applied": ((), "bool"),
    }
    core: RandomTranslate

    def image(self, image: torch.Tensor, params: TranslateParams) -> torch.Tensor:
        count = check_sample_count("image", image, len(params), 3)
        if count == 1 and self._sliceable(image):
            # One sample on the host (a per-image call in a DataLoader worker): plain slicing,
            # without the batched kernel's per-call set-up.
            check_tensor("image", image, dtypes=IMAGE_DTYPES)
            fill = normalize_fill(
                self.core.fill, self.core.padding_mode, image.dtype, image.shape[-3]
            )
            dx, dy = (int(v) for v in self.applied_shift(params)[0].tolist())
            mode = self.core.padding_mode
            return shift_by_slicing(image, dx, dy, image.ndim - 2, mode, fill, channel_axis=-3)
        if count == 1 and image.ndim != 3:
            # One sample spread over leading dims (a clip, or a batch of one): give the core an
            # explicit sample dimension, so every leading entry shares the one shift.
            return self.core(image.unsqueeze(0), params=params).squeeze(0)
        return self.core(image, params=params)

    def mask(self, mask: torch.Tensor, params: TranslateParams) -> torch.Tensor:
        check_sample_count("mask", mask, len(params), 2)
        shift = self._shift(params, mask.ndim - 2)
        mode, fill = self.mask_padding()
        # Floating-point (soft or float-coded) labels are copied exactly too; errors name the
        # caller's argument (`mask_fill`).
        return translate_mask_(
            mask, shift, padding_mode=mode, fill=fill, check_values=False,
            fill_name="mask_fill", mode_name="mask_padding_mode",
        )  # fmt: skip

    def mask_padding(self) -> tuple[str, float]:
        """``(padding_mode, fill)`` for masks: the shared mask-padding rule.

        A mask is never padded with image content: vacated pixels take ``mask_fill`` whatever
        the image's ``padding_mode``, except ``"circular"``, where content wraps and the mask
        with it; a core ``mask_padding_mode`` (when set) overrides the rule
        (``docs/conventions.md``).
        """
        rule = getattr(self.core, "mask_padding", None)  # the core's own rule, where it has one
        if rule is not None:
            return rule
        mode = getattr(self.core, "mask_padding_mode", None)
        if mode is None:
            mode = "circular" if self.core.padding_mode == "circular" else "constant"
        return mode, (self.core.mask_fill if mode == "constant" else 0)

    def boxes(
        self,
        boxes: torch.Tensor,
        params: TranslateParams,
        *,
        canvas_size: tuple[int, int],
        format: str = "xyxy",
        clip: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        check_sample_count("boxes", boxes, len(params), 2)
        return translate_boxes_(
            boxes, self._shift(params, boxes.ndim - 2), canvas_size=canvas_size, format=format,
            clip=clip, min_visibility=self.core.min_visibility, min_area=self.core.min_area,
            check_values=False,
        )  # fmt: skip

    def keypoints(
        self, keypoints: torch.Tensor, params: TranslateParams, *, canvas_size: tuple[int, int]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        check_sample_count("keypoints", keypoints, len(params), 2)
        return translate_keypoints_(
            keypoints, self._shift(params, keypoints.ndim - 2), canvas_size=canvas_size,
            check_values=False,
        )  # fmt: skip

    def invert(self, params: TranslateParams) -> TranslateParams:
        return params.inverse()

    def check_values(self, params: TranslateParams) -> None:
        moved = (params.shift != 0).any(-1)
        if bool((moved & ~params.applied).any()):
            raise ValueError(
                "`params['shift']` must be 0 for the samples `params['applied']` marks as not "
                f"applied, but got shift={params.shift.tolist()} with applied="
                f"{params.applied.tolist()}."
            )

    def restrict(self, params: TranslateParams, keep: torch.Tensor) -> TranslateParams:
        keep = keep.to(params.applied.device)
        return TranslateParams(  # not dataclasses.replace: torch.compile cannot trace it
            shift=params.shift * keep[:, None].to(params.shift.dtype),
            applied=params.applied & keep,
            image_size=params.image_size,
        )

    def _sliceable(self, image: torch.Tensor) -> bool:
        return (
            self.core.interpolation == "nearest"
            and image.device.type == "cpu"
            and not (image.requires_grad and torch.is_grad_enabled())
            and not torch.compiler.is_compiling()
        )

    def applied_shift(self, params: TranslateParams) -> torch.Tensor:
        """The ``(N, 2)`` shifts the kernels apply (rounded for ``interpolation="nearest"``)."""
        shift = params.shift
        if self.core.interpolation == "nearest" and shift.is_floating_point():
            shift = torch.round(shift)  # as the core does for images: every target agrees
        return shift

    def _shift(self, params: TranslateParams, batch_ndim: int) -> torch.Tensor:
        """The shift laid out for a target with ``batch_ndim`` leading dims (see module doc)."""
        shift = self.applied_shift(params)
        if len(params) == 1:
            return shift[0]
        return shift.reshape(len(params), *([1] * (batch_ndim - 1)), 2)


def check_sample_count(name: str, target: object, count: int, item_ndim: int) -> int:
    """Check that ``target`` can carry ``count`` samples (see the sample layout above).

    ``item_ndim`` is the rank of one sample's item (3 for a ``(C, H, W)`` image, 2 for an
    ``(H, W)`` mask or ``(M, 4)`` boxes). Returns ``count``.
    """
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"`{name}` must be a torch.Tensor, but got {type(target).__name__}.")
    if target.ndim < item_ndim:
        raise ValueError(
            f"`{name}` must have at least {item_ndim} dimensions, but got a tensor of shape "
            f"{tuple(target.shape)}."
        )
    if count != 1 and (target.ndim == item_ndim or target.shape[0] != count):
        raise ValueError(
            f"`{name}` must have the batch's {count} samples as its first dimension, but got "
            f"{describe(target)}."
        )
    return count
