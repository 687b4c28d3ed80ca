"""Instance masks: id maps to masks and back, areas, and occlusion by later pastes.

Objects are stored padded: ``masks (N, K, H, W)`` bool with a validity mask ``valid (N, K)``
(False for padding slots), so images with different numbers of objects share one tensor.
"""

from __future__ import annotations

import torch

from .._checks import check_device, check_int, check_real, check_tensor, get_validate_args

__all__ = [
    "label_map_to_masks",
    "mask_any",
    "mask_area",
    "masks_to_label_map",
    "occlude_masks",
    "top_round",
]

_INTEGERS = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def label_map_to_masks(
    label_map: torch.Tensor, num_instances: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Split ``(N, H, W)`` instance-id maps (0 = background, ``k`` = instance ``k``) into masks.

    Args:
        label_map: ``(N, H, W)`` integer map of instance ids ``0..K``.
        num_instances: ``K`` (an int >= 0; ids above it are an error); defaults to the largest
            id in the batch.

    Returns:
        ``(masks, valid)``: ``(N, K, H, W)`` bool masks (slot ``k - 1`` holds id ``k``) and
        ``(N, K)`` bool, True where the id occurs in that image.

    Example:
        >>> import torch
        >>> from shiftaug.functional import label_map_to_masks
        >>> ids = torch.tensor([[[0, 1], [2, 2]]])
        >>> masks, valid = label_map_to_masks(ids)
        >>> masks.shape, valid.tolist()
        (torch.Size([1, 2, 2, 2]), [[True, True]])
    """
    check_tensor("label_map", label_map, ndim=3, layout="(N, H, W)")
    if label_map.dtype not in _INTEGERS:
        raise TypeError(
            f"`label_map` must hold integer instance ids, but got dtype {label_map.dtype}."
        )
    if num_instances is not None:
        num_instances = check_int("num_instances", num_instances, low=0)
    if label_map.numel():
        low, high = (int(v) for v in label_map.aminmax())
        if low < 0:
            raise ValueError(f"`label_map` must hold ids >= 0 (0 = background), but got {low}.")
        if num_instances is not None and high > num_instances:
            raise ValueError(
                f"`label_map` must hold ids <= num_instances={num_instances}, but got {high}."
            )
    if num_instances is None:
        num_instances = int(label_map.max()) if label_map.numel() else 0
    ids = torch.arange(1, num_instances + 1, device=label_map.device).view(1, -1, 1, 1)
    masks = label_map.unsqueeze(1) == ids
    return masks, mask_any(masks, (-2, -1))


def masks_to_label_map(masks: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
    """Merge ``(N, K, H, W)`` bool instance masks into an ``(N, H, W)`` int64 id map.

    Slot ``k`` gets id ``k + 1``; where masks overlap the highest slot wins (it was pasted last).
    ``valid (N, K)`` bool leaves the slots where it is False out.

    Example:
        >>> import torch
        >>> from shiftaug.functional import masks_to_label_map
        >>> m = torch.zeros(1, 2, 1, 3, dtype=torch.bool)
        >>> m[0, 0, 0, :2] = True
        >>> m[0, 1, 0, 1:] = True
        >>> masks_to_label_map(m)
        tensor([[[1, 2, 2]]])
    """
    check_tensor("masks", masks, ndim=4, layout="(N, K, H, W)", dtypes=(torch.bool,))
    if valid is not None:
        check_tensor("valid", valid, ndim=2, layout="(N, K)", dtypes=(torch.bool,))
        if tuple(valid.shape) != tuple(masks.shape[:2]):
            raise ValueError(
                f"`valid` must have shape {tuple(masks.shape[:2])}, but got {tuple(valid.shape)}."
            )
        check_device("valid", valid, "masks", masks.device)
        masks = masks & valid[..., None, None]
    if masks.shape[1] == 0:
        return torch.zeros(masks.shape[0], *masks.shape[2:], dtype=torch.int64, device=masks.device)
    ids = torch.arange(1, masks.shape[1] + 1, device=masks.device).view(1, -1, 1, 1)
    return (masks * ids).amax(1)


def mask_any(masks: torch.Tensor, dim: int | tuple[int, ...]) -> torch.Tensor:
    """``masks.any(dim)`` for bool masks, as a ``uint8`` max: the bool reduction of torch's CPU
    backend is an order of magnitude slower on the ``(N, K, H, W)`` shapes used here. An empty
    reduced dimension gives False (as ``any``)."""
    dims = (dim,) if isinstance(dim, int) else dim
    if any(masks.shape[d] == 0 for d in dims):
        return masks.any(dim)
    return masks.view(torch.uint8).amax(dim) > 0


def mask_area(masks: torch.Tensor) -> torch.Tensor:
    """Pixel count of ``(..., H, W)`` bool masks as int32 (bool sums default to a slow int64)."""
    return masks.flatten(-2).sum(-1, dtype=torch.int32)


def top_round(pasted: torch.Tensor) -> torch.Tensor:
    """``(N, H, W)`` int16: the last round that pasted each pixel, -1 where none did.

    Args:
        pasted: ``(N, J, H, W)`` bool masks of what each round pasted (``J < 2**15``).

    Example:
        >>> import torch
        >>> from shiftaug.functional import top_round
        >>> pasted = torch.tensor([[[[1, 1, 0]], [[0, 1, 0]]]], dtype=torch.bool)
        >>> top_round(pasted)
        tensor([[[ 0,  1, -1]]], dtype=torch.int16)
    """
    check_tensor("pasted", pasted, ndim=4, layout="(N, J, H, W)", dtypes=(torch.bool,))
    if pasted.shape[1] >= 2**15:
        raise ValueError(f"`pasted` must have fewer than 32768 rounds, but got {pasted.shape[1]}.")
    shape = (pasted.shape[0], *pasted.shape[-2:])
    top = torch.full(shape, -1, dtype=torch.int16, device=pasted.device)
    for j in range(pasted.shape[1]):
        top.masked_fill_(pasted[:, j], j)
    return top


def occlude_masks(
    masks: torch.Tensor,
    valid: torch.Tensor,
    depth: torch.Tensor,
    top: torch.Tensor,
    *,
    reference: torch.Tensor | None = None,
    min_visibility: float = 0.0,
    min_area: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hide what was pasted above each object; drop the objects that became too small.

    An object pasted in round ``depth[n, k]`` (-1: never pasted) loses every pixel whose
    ``top`` round is later. Only the pixels with ``top >= 0`` are visited, and only the objects
    that lost pixels (here, or before, as a ``reference`` says) are measured, so the cost
    follows the pasted area, not ``N * K * H * W``. Objects that lost nothing are kept as they
    are, however small.

    Args:
        masks: ``(N, K, H, W)`` bool instance masks; updated **in place** (if contiguous)
            and returned.
        valid: ``(N, K)`` bool validity.
        depth: ``(N, K)`` integer paste round of each object, -1 for objects never pasted.
        top: ``(N, H, W)`` integer round of the topmost paste per pixel (see :func:`top_round`).
        reference: optional ``(N, K)`` integer areas to measure the visible fraction against
            where ``>= 0`` (e.g. an object's whole area before it was moved partly out of the
            frame; such objects are measured when fewer pixels are left); elsewhere the area
            before this occlusion.
        min_visibility: measured objects keeping less than this fraction are dropped, in
            ``[0, 1]``.
        min_area: measured objects with fewer visible pixels than this are dropped (``>= 0``).

    Returns:
        ``(masks, valid)``: the updated masks (dropped objects emptied) and validity.

    Example:
        >>> import torch
        >>> from shiftaug.functional import occlude_masks
        >>> masks = torch.ones(1, 2, 1, 4, dtype=torch.bool)
        >>> top = torch.tensor([[[0, 0, 0, -1]]], dtype=torch.int16)  # round 0 covered 3 pixels
        >>> masks, valid = occlude_masks(masks, torch.ones(1, 2, dtype=torch.bool),
        ...     torch.tensor([[-1, 0]]), top, min_visibility=0.5)
        >>> valid.tolist(), masks[0, 1].tolist()
        ([[False, True]], [[True, True, True, True]])
    """
    _check_occlusion_inputs(masks, valid, depth, top, reference)
    min_visibility = check_real("min_visibility", min_visibility, low=0, high=1)
    min_area = check_real("min_area", min_area, low=0)
    return occlude_masks_(masks, valid, depth, top, reference, min_visibility, min_area)


def occlude_masks_(
    masks: torch.Tensor,
    valid: torch.Tensor,
    depth: torch.Tensor,
    top: torch.Tensor,
    reference: torch.Tensor | None,
    min_visibility: float,
    min_area: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`occlude_masks` without argument checks."""
    batch, slots = masks.shape[:2]
    plane = masks.shape[-2] * masks.shape[-1]
    n, pixel = torch.nonzero((top >= 0).view(batch, -1), as_tuple=True)
    # Flat positions of each covered pixel in every object's mask: (P, K).
    where = (n[:, None] * slots + torch.arange(slots, device=masks.device)) * plane + pixel[:, None]
    masks = masks.contiguous()  # no copy for our own outputs; flat positions assume it
    flat = masks.view(-1)
    hit = flat.take(where)
    covered = hit & (depth[n] < top.reshape(batch, -1)[n, pixel, None])
    flat.put_(where, hit & ~covered)
    lost = torch.zeros(batch * slots, dtype=torch.int64, device=masks.device)
    lost.index_add_(
        0, torch.div(where, plane, rounding_mode="floor").flatten(), covered.flatten().long()
    )
    lost = lost.view(batch, slots)
    given = reference >= 0 if reference is not None else torch.zeros_like(valid)
    counted = valid & ((lost > 0) | given)
    rows = torch.nonzero(counted.flatten()).flatten()
    left = torch.zeros(batch * slots, dtype=torch.int64, device=masks.device)
    left[rows] = mask_area(masks.view(batch * slots, *masks.shape[-2:])[rows]).long()
    left = left.view(batch, slots)
    base = torch.where(given, reference, left + lost) if reference is not None else left + lost
    measured = counted & (left < base)
    fits = (left > 0) & (left >= min_area) & (left >= min_visibility * base)
    keep = valid & (fits | ~measured)
    dropped = valid & ~keep
    if bool(dropped.any()):
        masks.masked_fill_(dropped[..., None, None], False)
    return masks, keep


def _check_occlusion_inputs(
    masks: object, valid: object, depth: object, top: object, reference: object
) -> None:
    m = check_tensor("masks", masks, ndim=4, layout="(N, K, H, W)", dtypes=(torch.bool,))
    pairs = tuple(m.shape[:2])
    v = check_tensor("valid", valid, ndim=2, layout="(N, K)", dtypes=(torch.bool,))
    d = check_tensor("depth", depth, ndim=2, layout="(N, K)", dtypes=_INTEGERS)
    t = check_tensor("top", top, ndim=3, layout="(N, H, W)", dtypes=_INTEGERS)
    named = [("valid", v, pairs), ("depth", d, pairs), ("top", t, (m.shape[0], *m.shape[-2:]))]
    if reference is not None:
        r = check_tensor("reference", reference, ndim=2, layout="(N, K)", dtypes=_INTEGERS)
        named.append(("reference", r, pairs))
    for name, value, shape in named:
        if tuple(value.shape) != shape:
            raise ValueError(f"`{name}` must have shape {shape}, but got {tuple(value.shape)}.")
        check_device(name, value, "masks", m.device)
    if get_validate_args() and d.numel() and int(d.min()) < -1:
        raise ValueError(f"`depth` must hold rounds >= -1, but got {int(d.min())}.")
