"""Placement options of both transforms and the round-by-round draw of the objects' moves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch

from .._checks import check_choice, check_int, check_real, check_tensor, describe
from ..functional._boxes import masks_to_boxes
from ..functional._mask import translate_mask_
from ..params._context import ContextImages
from ..params._placement import POLICIES, check_context_options, check_density
from ..params._positions import Frame, draw_positions
from ..params._ranges import ShiftRange

__all__ = [
    "ON_NO_POSITION",
    "PlacementPolicy",
    "RoundInputs",
    "choose_objects",
    "draw_rounds",
    "parse_count",
]

ON_NO_POSITION = ("skip", "raise")
# Defaults of the options that only some policies read (an option changed from its default
# for a policy that ignores it is an error, not a silent no-op).
STRIDE, CONTEXT_WIDTH, CONTEXT_SIGMA = 8, 4, 0.5


@dataclass(frozen=True)
class PlacementPolicy:
    """Placement options shared by both transforms, checked once at construction."""

    policy: str
    shift_range: ShiftRange | None
    min_inside: float
    region: torch.Tensor | None
    density: torch.Tensor | None
    stride: int
    on_no_position: str
    context_width: int = CONTEXT_WIDTH
    context_sigma: float = CONTEXT_SIGMA

    @staticmethod
    def create(
        policy: str, shift_range: ShiftRange | None, min_inside: float, region: object,
        density: object, stride: int, on_no_position: str, context_width: int = CONTEXT_WIDTH,
        context_sigma: float = CONTEXT_SIGMA,
    ) -> PlacementPolicy:  # fmt: skip
        check_choice("policy", policy, POLICIES)
        check_choice("on_no_position", on_no_position, ON_NO_POSITION)
        min_inside = check_real("min_inside", min_inside, low=0, high=1, low_open=True)
        stride = check_int("stride", stride, low=1)
        width, sigma = check_context_options(context_width, context_sigma)
        region_t = _policy_map("region", region, policy == "region", torch.bool)
        density_t = _policy_map("density", density, policy == "density", None)
        if density_t is not None:
            check_density(density_t)
        ignored = {
            "shift_px/shift_frac": shift_range is not None and policy == "same",
            "min_inside": min_inside != 1.0 and policy == "same",
            "region": region is not None and policy != "region",
            "density": density is not None and policy != "density",
            "stride": stride != STRIDE and policy != "grid",
            "context_width": width != CONTEXT_WIDTH and policy != "context",
            "context_sigma": sigma != CONTEXT_SIGMA and policy != "context",
        }
        for name, unused in ignored.items():
            if unused:
                raise ValueError(
                    f"`{name}` is not used by policy={policy!r} and would be silently ignored; "
                    "drop it or choose the policy that reads it."
                )
        return PlacementPolicy(
            policy, shift_range, min_inside, region_t, density_t, stride, on_no_position, width,
            sigma,
        )  # fmt: skip

    def draw(
        self,
        masks: torch.Tensor,
        occupied: torch.Tensor | None,
        generator: torch.Generator | None,
        grid_index: torch.Tensor,
        boxes: torch.Tensor | None = None,
        frame: Frame | None = None,
        context: ContextImages | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One move per row of ``masks`` ``(N, Hc, Wc)`` (on a canvas holding the frame at
        ``frame``); ``occupied`` is ``(N, H, W)``; ``boxes (N, 4)`` of the masks if known."""
        count = masks.shape[0]
        size = (count, *(masks.shape[-2:] if frame is None else (frame.height, frame.width)))
        return draw_positions(
            masks, self.policy, self.shift_range, self.min_inside, occupied=occupied,
            region=_expand_map("region", self.region, size, masks.device),
            density=_expand_map("density", self.density, size, masks.device),
            stride=self.stride, grid_index=grid_index, generator=generator, boxes=boxes,
            frame=frame, context=context,
        )  # fmt: skip

    def check_found(self, requested: torch.Tensor, placed: torch.Tensor, what: str) -> None:
        """Raise for objects without a valid position if the user asked for it."""
        if self.on_no_position != "raise":
            return
        failed = requested & ~placed
        if bool(failed.any()):
            n, j = (int(v) for v in torch.nonzero(failed)[0])
            raise ValueError(
                f"No valid position for {what} {j} of image {n} under policy {self.policy!r} "
                f"(shift range {self.shift_range}, min_inside={self.min_inside}); relax the "
                "constraints or pass on_no_position='skip' to leave such objects in place."
            )


def _policy_map(
    name: str, value: object, required: bool, dtype: torch.dtype | None
) -> torch.Tensor | None:
    if value is None:
        if required:
            raise ValueError(f"`{name}` must be given for policy={name!r}, but got None.")
        return None
    tensor = check_tensor(name, value, min_ndim=2, layout="(H, W) or (N, H, W)")
    if tensor.ndim > 3:
        raise ValueError(
            f"`{name}` must have shape (H, W) or (N, H, W), but got {tuple(tensor.shape)}."
        )
    if dtype is not None and tensor.dtype != dtype:
        raise TypeError(f"`{name}` must have dtype {dtype}, but got {tensor.dtype}.")
    return tensor


def _expand_map(
    name: str, value: torch.Tensor | None, size: tuple[int, ...], device: torch.device
) -> torch.Tensor | None:
    if value is None:
        return None
    if tuple(value.shape[-2:]) != size[1:] or (value.ndim == 3 and value.shape[0] != size[0]):
        raise ValueError(
            f"`{name}` must have shape {size[1:]} or {size} for these images, but got "
            f"{tuple(value.shape)}."
        )
    return value.to(device).expand(size)


def parse_count(num_objects: object) -> tuple[int, int | None]:
    """``n``, ``(low, high)`` or ``"all"`` objects per image -> ``(low, high or None for all)``."""
    if num_objects == "all":
        return 1, None
    if isinstance(num_objects, int) and not isinstance(num_objects, bool) and num_objects >= 1:
        return num_objects, num_objects
    if (
        isinstance(num_objects, (tuple, list))
        and len(num_objects) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in num_objects)
        and 0 <= num_objects[0] <= num_objects[1]
        and num_objects[1] >= 1
    ):
        return int(num_objects[0]), int(num_objects[1])
    error = ValueError if isinstance(num_objects, (int, tuple, list, str)) else TypeError
    raise error(
        "`num_objects` must be an int >= 1, a range (low, high) with 0 <= low <= high, high >= 1, "
        f"or 'all', but got {describe(num_objects)}."
    )


def choose_objects(
    valid: torch.Tensor,
    count: tuple[int, int | None],
    p: float,
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pick objects per row of ``valid (N, K)`` in random order.

    Returns ``(order, requested)``: ``(N, J)`` slot indices and ``(N, J)`` bool, with
    ``J = min(high, K)`` fixed by the options (no host synchronisation).
    """
    batch, slots = valid.shape
    low, high = count
    rounds = slots if high is None else min(high, slots)
    source = generator.device if generator is not None else valid.device
    scores = torch.rand(batch, slots, generator=generator, device=source).to(valid.device)
    order = torch.argsort(torch.where(valid, scores, 2.0), dim=1)[:, :rounds]
    available = valid.sum(-1)
    if high is None:
        wanted = available
    else:
        unit = torch.rand(batch, generator=generator, device=source).to(valid.device)
        wanted = (low + torch.floor(unit * (high - low + 1))).long().clamp(max=high)
    applied = torch.rand(batch, generator=generator, device=source).to(valid.device) < p
    wanted = torch.minimum(wanted, available) * applied
    requested = torch.arange(rounds, device=valid.device) < wanted[:, None]
    return order, requested


class RoundInputs(NamedTuple):
    """What :func:`draw_rounds` needs besides the chosen objects.

    Attributes:
        blocked: ``(N, H, W)`` bool pixels no object may cover under ``"non_overlapping"``
            (the objects that are not moved), or ``None``.
        leaving: ``(N, J, H, W)`` bool the current places of the chosen objects when they move
            inside their own image (relocation), or ``None``: an object that fails to move keeps
            its place, so ``"non_overlapping"`` keeps each place blocked until its object moved.
        frame: where the frame lies on the chosen masks' canvas (default: it is the canvas).
        context: per round, the images the ``"context"`` policy compares (or ``None``).
    """

    blocked: torch.Tensor | None = None
    leaving: torch.Tensor | None = None
    frame: Frame | None = None
    context: list[ContextImages] | None = None


def draw_rounds(
    placement: PlacementPolicy,
    chosen: torch.Tensor,
    requested: torch.Tensor,
    generator: torch.Generator | None,
    inputs: RoundInputs | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Moves for ``chosen (N, J, Hc, Wc)`` objects, round by round (batched over images).

    With ``"non_overlapping"``, each placed object joins the occupied pixels before the next
    round. Returns ``(shift (N, J, 2), placed (N, J))`` and raises if asked to when nothing
    fits.
    """
    batch, rounds = requested.shape
    device = requested.device
    if placement.policy == "same" or not rounds:  # requested objects are non-empty: all fit
        return torch.zeros(batch, rounds, 2, device=device), requested.clone()
    inputs = inputs or RoundInputs()
    cells = torch.arange(batch, device=device)
    frame = inputs.frame
    # Policies that look only at the boxes get them for all rounds at once; an unrequested
    # entry gets an empty box, so it finds no position (as an empty mask would).
    boxes = None
    if placement.min_inside >= 1.0 and placement.policy in ("uniform", "grid", "density"):
        boxes = masks_to_boxes(chosen)[0] * requested[..., None]
    overlap = _Occupancy(inputs, batch, rounds) if placement.policy == "non_overlapping" else None
    shifts, placed = [], []
    for j in range(rounds):
        mask = chosen[:, j] & requested[:, j, None, None]
        occupied = overlap.blocked(j) if overlap is not None else None
        context = inputs.context[j] if inputs.context is not None else None
        shift, found = placement.draw(
            mask, occupied, generator, cells, None if boxes is None else boxes[:, j], frame,
            context,
        )  # fmt: skip
        found = found & requested[:, j]
        if overlap is not None:
            overlap.update(
                j, _in_frame(translate_mask_(mask, shift, check_values=False), frame), found
            )
        shifts.append(shift)
        placed.append(found)
    placed_t = torch.stack(placed, 1)
    placement.check_found(requested, placed_t, "object")
    return torch.stack(shifts, 1), placed_t


class _Occupancy:
    """The pixels ``"non_overlapping"`` blocks in each round: the objects that stay, the
    objects placed so far, the places of objects that have not moved (yet, or at all)."""

    def __init__(self, inputs: RoundInputs, batch: int, rounds: int) -> None:
        if inputs.blocked is None:
            raise ValueError("policy='non_overlapping' needs the occupied pixels.")
        self.taken = inputs.blocked.clone()  # stays + placed so far + failed to move
        self.later = None
        if inputs.leaving is not None:  # suffix unions: places of the objects of rounds > j
            leaving = inputs.leaving.view(torch.uint8)
            self.later = leaving.flip(1).cummax(1).values.flip(1).view(torch.bool)
            self.leaving = inputs.leaving

    def blocked(self, j: int) -> torch.Tensor:
        if self.later is None or j + 1 >= self.later.shape[1]:
            return self.taken
        return self.taken | self.later[:, j + 1]

    def update(self, j: int, moved: torch.Tensor, found: torch.Tensor) -> None:
        self.taken |= moved & found[:, None, None]
        if self.later is not None:  # an object that did not move keeps its place
            self.taken |= self.leaving[:, j] & ~found[:, None, None]


def _in_frame(masks: torch.Tensor, frame: Frame | None) -> torch.Tensor:
    if frame is None:
        return masks
    return masks[..., frame.top : frame.top + frame.height, frame.left : frame.left + frame.width]
