"""Placement parameters and policies: where an object may go, drawn for many objects at once.

A policy turns the mask of each object (at its current place) into a map of valid whole-pixel
moves ``(dx, dy)`` and draws one of them (see :mod:`shiftaug.params._positions`).
:class:`PlacementParams` records what one call of a placement transform drew, so that it can be
replayed; replayed records are checked like drawn ones (:func:`check_placement_params`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from .._checks import (
    check_choice,
    check_device,
    check_int,
    check_real,
    check_tensor,
    describe,
    get_validate_args,
)
from ..functional._placement import MAX_SHIFT
from ._context import ContextImages
from ._positions import draw_positions
from ._translate import resolve_shift_range

__all__ = [
    "MAX_SHIFT",
    "POLICIES",
    "PlacementParams",
    "check_placement_params",
    "grid_shifts",
    "sample_positions",
]

POLICIES = ("uniform", "same", "non_overlapping", "region", "density", "grid", "context")


@dataclass(frozen=True)
class PlacementParams:
    """Parameters of one :class:`~shiftaug.RandomRelocate` or :class:`~shiftaug.CopyPaste` call.

    Objects are pasted in rounds ``j = 0..J-1``; entry ``[n, j]`` describes what image ``n``
    received in round ``j``: the object in mask slot :attr:`source_slot` ``[n, j]`` of image
    :attr:`source_image` ``[n, j]`` (for relocation always ``n`` itself), moved by
    ``shift[n, j]``.

    Attributes:
        index: ``(N, J)`` int64 flat object index ``b * K + k`` (``b`` the source image, ``k``
            the mask slot; :attr:`source_image` and :attr:`source_slot` split it).
        shift: ``(N, J, 2)`` float whole-pixel moves ``(dx, dy)``.
        scale: ``(N, J)`` float scale factors (1 = unscaled; relocation never scales).
        requested: ``(N, J)`` bool, an object was selected for this entry.
        placed: ``(N, J)`` bool, it was actually moved/pasted. ``requested & ~placed`` marks
            objects for which the policy found no valid position: they were left unchanged.
        image_size: ``(H, W)`` the parameters were drawn for.
        slots: ``K``, the number of mask slots per source image.

    Constructing a record checks the fields' types, dtypes and shapes against each other;
    a transform checks a replayed record's values against its inputs (see
    :func:`check_placement_params`).

    Example:
        >>> import torch
        >>> from shiftaug.params import PlacementParams
        >>> yes = torch.ones(1, 1, dtype=torch.bool)
        >>> params = PlacementParams(index=torch.tensor([[5]]), shift=torch.tensor([[[3., 0.]]]),
        ...     scale=torch.ones(1, 1), requested=yes, placed=yes, image_size=(8, 8), slots=2)
        >>> params.source_image.tolist(), params.source_slot.tolist()
        ([[2]], [[1]])
    """

    index: torch.Tensor
    shift: torch.Tensor
    scale: torch.Tensor
    requested: torch.Tensor
    placed: torch.Tensor
    image_size: tuple[int, int]
    slots: int

    def __post_init__(self) -> None:
        index = check_tensor("index", self.index, ndim=2, layout="(N, J)", dtypes=(torch.int64,))
        expected = tuple(index.shape)
        for name, shape, kind in (
            ("shift", (*expected, 2), "float"),
            ("scale", expected, "float"),
            ("requested", expected, "bool"),
            ("placed", expected, "bool"),
        ):
            value = check_tensor(name, getattr(self, name))
            if (kind == "bool") != (value.dtype == torch.bool) or (
                kind == "float" and not value.is_floating_point()
            ):
                raise TypeError(f"`{name}` must be a {kind} tensor, but got dtype {value.dtype}.")
            if tuple(value.shape) != shape:
                raise ValueError(
                    f"`{name}` must have shape {shape} to match `index`, but got "
                    f"{tuple(value.shape)}."
                )
            check_device(name, value, "index", index.device)
        size = self.image_size
        if not (isinstance(size, tuple) and len(size) == 2):
            raise TypeError(f"`image_size` must be a tuple (H, W), but got {describe(size)}.")
        check_int("image_size[0]", size[0], low=1)
        check_int("image_size[1]", size[1], low=1)
        check_int("slots", self.slots, low=0)

    def __len__(self) -> int:
        return self.index.shape[0]

    @property
    def source_image(self) -> torch.Tensor:
        """``(N, J)`` int64: the image of the batch each entry's object comes from."""
        return torch.div(self.index, max(self.slots, 1), rounding_mode="floor")

    @property
    def source_slot(self) -> torch.Tensor:
        """``(N, J)`` int64: the object's mask slot in its source image."""
        return self.index.remainder(max(self.slots, 1))

    @property
    def failed(self) -> torch.Tensor:
        """``(N, J)`` bool: selected objects that found no valid position (not moved)."""
        return self.requested & ~self.placed

    def to(self, device: torch.device | str) -> PlacementParams:
        """The same parameters on ``device``."""
        return replace(
            self, index=self.index.to(device), shift=self.shift.to(device),
            scale=self.scale.to(device), requested=self.requested.to(device),
            placed=self.placed.to(device),
        )  # fmt: skip


def check_placement_params(
    params: object,
    *,
    image_size: tuple[int, int],
    batch: int,
    valid: torch.Tensor,
    relocation: bool,
    values: bool = True,
) -> PlacementParams:
    """Check a parameter record against the call it is used in; return it.

    Structure (always): the type, ``image_size``, the batch size, the slot count ``K`` of
    ``valid (B, K)`` (the source objects' validity) and the device. Values (unless
    :func:`~shiftaug.set_validate_args` turned them off; they synchronise with the device):
    object indices in range, placed entries on valid objects and also requested, finite
    whole-pixel shifts within :data:`MAX_SHIFT`, finite positive scales, and for relocation
    (``relocation=True``) objects from their own image, unscaled, each moved at most once.
    ``values=False`` skips the value checks (for records a sampler just drew).
    """
    if not isinstance(params, PlacementParams):
        raise TypeError(f"`params` must be PlacementParams, but got {type(params).__name__}.")
    slots = valid.shape[1]
    if tuple(params.image_size) != tuple(image_size):
        raise ValueError(
            f"`params` were drawn for images of size {params.image_size}, but got images of size "
            f"{tuple(image_size)}."
        )
    if len(params) != batch or params.slots != slots:
        raise ValueError(
            f"`params` were drawn for {len(params)} images with {params.slots} mask slots, but "
            f"got {batch} images with {slots}."
        )
    check_device("params.index", params.index, "image", valid.device)
    if values and get_validate_args() and params.index.numel():
        _check_param_values(params, valid, relocation)
    return params


def _check_param_values(params: PlacementParams, valid: torch.Tensor, relocation: bool) -> None:
    sources, slots = valid.shape
    index, placed = params.index, params.placed
    bad = (index < 0) | (index >= sources * slots)
    _raise_at(bad, f"`params.index` must hold flat object indices in [0, {sources * slots})")
    if bool((placed & ~params.requested).any()):
        _raise_at(placed & ~params.requested, "`params.placed` must imply `params.requested`")
    _raise_at(
        placed & ~valid.flatten()[index], "`params.placed` entries must refer to valid objects"
    )
    shift, scale = params.shift, params.scale
    _raise_at(
        ~torch.isfinite(shift).all(-1) | (shift.abs() > MAX_SHIFT).any(-1),
        f"`params.shift` must hold finite moves of at most {MAX_SHIFT} pixels",
    )
    _raise_at((shift != shift.round()).any(-1), "`params.shift` must hold whole-pixel moves")
    _raise_at(~torch.isfinite(scale) | (scale <= 0), "`params.scale` must hold finite scales > 0")
    if not relocation:
        return
    rows = torch.arange(len(params), device=index.device)[:, None]
    _raise_at(params.source_image != rows, "`params.index` must pick objects of the same image")
    _raise_at(scale != 1, "`params.scale` must be 1 for relocation")
    order = torch.where(placed, index, -1 - torch.arange(index.shape[1], device=index.device))
    ranked = order.sort(1).values
    repeated = torch.zeros_like(placed)
    repeated[:, 1:] = (ranked[:, 1:] == ranked[:, :-1]) & (ranked[:, 1:] >= 0)
    _raise_at(repeated, "`params` must move each object at most once")


def _raise_at(bad: torch.Tensor, message: str) -> None:
    """Raise ``ValueError(message ...)`` naming the first ``[n, j]`` entry where ``bad``."""
    if bool(bad.any()):
        n, j = (int(v) for v in torch.nonzero(bad)[0])
        raise ValueError(f"{message}, but entry [{n}, {j}] does not.")


def sample_positions(
    masks: torch.Tensor,
    *,
    policy: str = "uniform",
    shift_px: object = None,
    shift_frac: object = None,
    min_inside: float = 1.0,
    occupied: torch.Tensor | None = None,
    region: torch.Tensor | None = None,
    density: torch.Tensor | None = None,
    stride: int = 8,
    grid_index: torch.Tensor | None = None,
    images: torch.Tensor | None = None,
    source_images: torch.Tensor | None = None,
    context_width: int = 4,
    context_sigma: float = 0.5,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw a whole-pixel move for each object according to a placement policy.

    Policies:

    - ``"uniform"``: uniform over all valid moves.
    - ``"same"``: no move (Simple Copy-Paste pastes at the same location).
    - ``"non_overlapping"``: uniform over the moves where the object covers no ``occupied``
      pixel.
    - ``"region"``: uniform over the moves that keep the object inside ``region``.
    - ``"density"``: moves weighted by ``density`` at the object's new box centre.
    - ``"grid"``: deterministic: the object's box corner on the lattice of multiples of
      ``stride``; object ``m`` takes lattice cell ``grid_index[m]`` (modulo the cell count),
      see :func:`grid_shifts`.
    - ``"context"``: moves weighted by how much the background around the moved object looks
      like the background around it where it was (InstaBoost, Fang et al. 2019): a band of
      ``context_width`` pixels around the mask in ``source_images`` compared with the same band
      moved, in ``images``; weight ``exp(-msd / (2 context_sigma^2 var))`` with ``msd`` the
      mean squared difference over the band's background pixels and ``var`` the target's
      background variance. See :mod:`shiftaug.params._context`.

    A move is valid when it lies in the shift range (whole pixels; default: anywhere), keeps at
    least ``min_inside`` of the object's pixels in the frame, and satisfies the policy.

    Args:
        masks: ``(M, H, W)`` bool, one object per row at its current position.
        policy: one of :data:`POLICIES`.
        shift_px: move range in pixels, the grammar of :class:`~shiftaug.RandomTranslate`.
        shift_frac: the same as a fraction of the image size. At most one of the two.
        min_inside: fraction of the object's pixels that must stay in the frame, in ``(0, 1]``.
        occupied: ``(M, H, W)`` bool pixels the object may not cover (``"non_overlapping"``);
            for ``"context"``, pixels of ``images`` that are not background (optional).
        region: ``(M, H, W)`` bool where the object must lie (``"region"``).
        density: ``(M, H, W)`` finite non-negative weights for the new box centre
            (``"density"``).
        stride: lattice step in pixels for ``"grid"``.
        grid_index: ``(M,)`` integer lattice cells for ``"grid"`` (default ``0..M-1``).
        images: ``(M, C, H, W)`` images the objects go into (``"context"``).
        source_images: ``(M, C, H, W)`` images the objects come from (``"context"``; default
            ``images``: each object moves inside its own image, whose pixels under the object
            are then not background on either side).
        context_width: band width in pixels around the object (``"context"``).
        context_sigma: similarity scale as a fraction of the background's standard deviation
            (``"context"``): smaller values prefer closer matches more strongly.
        generator: random source.

    Returns:
        ``(shift, found)``: ``(M, 2)`` float32 moves ``(dx, dy)`` and ``(M,)`` bool, False where
        no valid move exists (the shift is then 0).

    Example:
        >>> import torch
        >>> from shiftaug.params import sample_positions
        >>> masks = torch.zeros(2, 16, 16, dtype=torch.bool)
        >>> masks[:, 2:6, 2:6] = True
        >>> shift, found = sample_positions(masks, shift_px=3, generator=torch.Generator().manual_seed(0))
        >>> bool(found.all()), bool((shift.abs() <= 3).all())
        (True, True)
    """
    masks = check_tensor("masks", masks, ndim=3, layout="(M, H, W)", dtypes=(torch.bool,))
    check_choice("policy", policy, POLICIES)
    shift_range = resolve_shift_range(shift_px, shift_frac, allow_none=True)
    check_real("min_inside", min_inside, low=0, high=1, low_open=True)
    shape = tuple(masks.shape)
    occupied = _check_map("occupied", occupied, masks, torch.bool, policy == "non_overlapping")
    region = _check_map("region", region, masks, torch.bool, policy == "region")
    density = _check_map("density", density, masks, None, policy == "density")
    if density is not None:
        check_density(density)
    check_int("stride", stride, low=1)
    if grid_index is not None:
        check_tensor("grid_index", grid_index, ndim=1, layout="(M,)")
        if grid_index.is_floating_point() or grid_index.dtype == torch.bool:
            raise TypeError(f"`grid_index` must hold integers, but got dtype {grid_index.dtype}.")
        if tuple(grid_index.shape) != shape[:1]:
            raise ValueError(
                f"`grid_index` must have shape {shape[:1]}, but got {tuple(grid_index.shape)}."
            )
        check_device("grid_index", grid_index, "masks", masks.device)
    context = None
    if policy == "context":
        context = _standalone_context(
            masks, images, source_images, occupied, context_width, context_sigma
        )
    return draw_positions(
        masks, policy, shift_range, float(min_inside), occupied=occupied, region=region,
        density=density, stride=stride, grid_index=grid_index, generator=generator,
        context=context,
    )  # fmt: skip


def check_density(density: torch.Tensor) -> None:
    """A density map must hold finite, non-negative floats."""
    if not density.is_floating_point():
        raise TypeError(f"`density` must be a float tensor, but got dtype {density.dtype}.")
    if get_validate_args() and not bool((torch.isfinite(density) & (density >= 0)).all()):
        raise ValueError(
            f"`density` must hold finite values >= 0, but got {describe(density)} with values "
            "that are negative, NaN or inf."
        )


def check_context_options(width: object, sigma: object) -> tuple[int, float]:
    """Validate the ``"context"`` policy's band width and similarity scale."""
    return check_int("context_width", width, low=1), check_real(
        "context_sigma", sigma, low=0, low_open=True
    )


def _standalone_context(
    masks: torch.Tensor,
    images: object,
    source_images: object,
    occupied: torch.Tensor | None,
    width: object,
    sigma: object,
) -> ContextImages:
    width, sigma = check_context_options(width, sigma)
    count, height, width_px = masks.shape
    layout = f"({count}, C, {height}, {width_px})"
    if images is None:
        raise ValueError("`images` must be given for policy='context', but got None.")
    target = check_tensor("images", images, ndim=4, layout=layout)
    if target.shape[0] != count or tuple(target.shape[-2:]) != (height, width_px):
        raise ValueError(f"`images` must have shape {layout}, but got {tuple(target.shape)}.")
    check_device("images", target, "masks", masks.device)
    own = source_images is None
    source = target if own else check_tensor("source_images", source_images, ndim=4)
    if source.shape != target.shape:
        raise ValueError(
            f"`source_images` must have the shape of `images` {tuple(target.shape)}, but got "
            f"{tuple(source.shape)}."
        )
    check_device("source_images", source, "masks", masks.device)
    known = torch.ones_like(masks) if occupied is None else ~occupied
    return ContextImages(
        source.float(), ~masks, target.float(), known & ~masks if own else known, width, sigma
    )


def grid_shifts(
    box: torch.Tensor | tuple[float, float, float, float],
    image_size: tuple[int, int],
    stride: int,
) -> torch.Tensor:
    """All moves putting an ``xyxy`` box's corner on the lattice of multiples of ``stride``.

    The box stays inside the frame; cells are ordered row by row (y outer, x inner). The
    ``"grid"`` policy uses the same order, so the harness can measure a model at every cell.

    Returns:
        ``(G, 2)`` float32 moves ``(dx, dy)``.

    Example:
        >>> from shiftaug.params import grid_shifts
        >>> grid_shifts((2, 2, 6, 6), (8, 8), stride=2)
        tensor([[-2., -2.],
                [ 0., -2.],
                [ 2., -2.],
                [-2.,  0.],
                [ 0.,  0.],
                [ 2.,  0.],
                [-2.,  2.],
                [ 0.,  2.],
                [ 2.,  2.]])
    """
    x0, y0, x1, y1 = _check_box(box)
    if not (isinstance(image_size, (tuple, list)) and len(image_size) == 2):
        raise TypeError(f"`image_size` must be a pair (H, W), but got {describe(image_size)}.")
    height = check_int("image_size[0]", image_size[0], low=1)
    width = check_int("image_size[1]", image_size[1], low=1)
    stride = check_int("stride", stride, low=1)
    # Corners c with c + size <= frame; none when the box is larger than the frame.
    xs = torch.arange(0, max(math.floor(width - (x1 - x0)) + 1, 0), stride) - x0
    ys = torch.arange(0, max(math.floor(height - (y1 - y0)) + 1, 0), stride) - y0
    gy, gx = torch.meshgrid(ys.to(torch.float32), xs.to(torch.float32), indexing="ij")
    return torch.stack([gx.flatten(), gy.flatten()], -1)


def _check_box(box: object) -> tuple[float, float, float, float]:
    if isinstance(box, torch.Tensor):
        if box.shape != (4,) or box.dtype == torch.bool or box.is_complex():
            raise ValueError(f"`box` must be an xyxy box of 4 numbers, but got {describe(box)}.")
        values = [float(v) for v in box.tolist()]
    elif isinstance(box, (tuple, list)) and len(box) == 4:
        values = [check_real(f"box[{i}]", v) for i, v in enumerate(box)]
    else:
        raise TypeError(f"`box` must be an xyxy box of 4 numbers, but got {describe(box)}.")
    x0, y0, x1, y1 = values
    if not all(map(math.isfinite, values)) or x1 < x0 or y1 < y0:
        raise ValueError(
            f"`box` must be a finite xyxy box with x0 <= x1 and y0 <= y1, but got {describe(box)}."
        )
    return x0, y0, x1, y1


def _check_map(
    name: str, value: object, masks: torch.Tensor, dtype: torch.dtype | None, required: bool
) -> torch.Tensor | None:
    if value is None:
        if required:
            raise ValueError(f"`{name}` must be given for this policy, but got None.")
        return None
    tensor = check_tensor(name, value, ndim=3, layout="(M, H, W)")
    if dtype is not None and tensor.dtype != dtype:
        raise TypeError(f"`{name}` must have dtype {dtype}, but got {tensor.dtype}.")
    if tensor.shape != masks.shape:
        raise ValueError(
            f"`{name}` must have shape {tuple(masks.shape)}, but got {tuple(tensor.shape)}."
        )
    check_device(name, tensor, "masks", masks.device)
    return tensor
