"""Placement policies against a brute-force enumeration of every valid move."""

from __future__ import annotations

import pytest
import torch

from shiftaug.params import grid_shifts, sample_positions


def _blob(size: tuple[int, int] = (10, 12)) -> torch.Tensor:
    mask = torch.zeros(*size, dtype=torch.bool)
    mask[3:6, 4:6] = True
    mask[5, 6] = True  # not a rectangle: 7 pixels
    return mask


def _shift_mask(mask: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    height, width = mask.shape
    out = torch.zeros_like(mask)
    out[max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)] = mask[
        max(-dy, 0) : height - max(dy, 0), max(-dx, 0) : width - max(dx, 0)
    ]
    return out


def _brute_force(mask, low, high, min_inside, blocked=None, density=None):  # type: ignore[no-untyped-def]
    """Every whole-pixel move in [low, high]^2 meeting the constraints, with its weight."""
    area = int(mask.sum())
    rows, cols = torch.nonzero(mask, as_tuple=True)
    cy, cx = (
        (int(rows.min()) + int(rows.max()) + 1) // 2,
        (int(cols.min()) + int(cols.max()) + 1) // 2,
    )
    moves = {}
    for dy in range(low, high + 1):
        for dx in range(low, high + 1):
            moved = _shift_mask(mask, dx, dy)
            if int(moved.sum()) < min_inside * area:
                continue
            if blocked is not None and bool((moved & blocked).any()):
                continue
            weight = 1.0
            if density is not None:
                y, x = cy + dy, cx + dx
                inside = 0 <= y < mask.shape[0] and 0 <= x < mask.shape[1]
                weight = float(density[y, x]) if inside else 0.0
            if weight > 0:
                moves[(dx, dy)] = weight
    return moves


def _draws(mask, count=4000, **options):  # type: ignore[no-untyped-def]
    masks = mask.expand(count, *mask.shape)
    expanded = {
        k: v.expand(count, *v.shape) if isinstance(v, torch.Tensor) else v
        for k, v in options.items()
    }
    shift, found = sample_positions(masks, generator=torch.Generator().manual_seed(0), **expanded)
    return {tuple(int(v) for v in row) for row in shift[found]}, found


@pytest.mark.parametrize("min_inside", [1.0, 0.5, 0.1])
def test_uniform_reaches_exactly_the_valid_moves(min_inside: float) -> None:
    mask = _blob()
    expected = _brute_force(mask, -8, 8, min_inside)
    seen, found = _draws(mask, shift_px=8, min_inside=min_inside)
    assert bool(found.all()) and seen == set(expected)


def test_non_overlapping_and_region_respect_their_maps() -> None:
    mask = _blob()
    occupied = torch.zeros_like(mask)
    occupied[:, 8:] = True
    occupied[0:2, :] = True
    seen, _ = _draws(mask, policy="non_overlapping", occupied=occupied, shift_px=6)
    assert seen == set(_brute_force(mask, -6, 6, 1.0, blocked=occupied))
    seen, _ = _draws(mask, policy="region", region=~occupied, shift_px=6)
    assert seen == set(_brute_force(mask, -6, 6, 1.0, blocked=occupied))


def test_density_weights_the_new_centre() -> None:
    mask = _blob()
    density = torch.zeros(10, 12)
    density[2, 3] = 1.0
    density[7, 9] = 3.0
    expected = _brute_force(mask, -9, 9, 1.0, density=density)
    shift, found = sample_positions(
        mask.expand(4000, 10, 12), policy="density", density=density.expand(4000, 10, 12),
        generator=torch.Generator().manual_seed(0),
    )  # fmt: skip
    moves = [tuple(int(v) for v in row) for row in shift[found]]
    assert set(moves) == set(expected)
    share = sum(m == max(expected, key=expected.get) for m in moves) / len(moves)
    assert 0.7 < share < 0.8  # weight 3 of 4


def test_same_and_grid_are_deterministic() -> None:
    mask = _blob()
    shift, found = sample_positions(mask[None], policy="same")
    assert shift.tolist() == [[0.0, 0.0]] and found.tolist() == [True]
    cells = grid_shifts((4, 3, 7, 6), (10, 12), stride=3)
    shift, found = sample_positions(mask.expand(len(cells), 10, 12), policy="grid", stride=3)
    assert bool(found.all()) and torch.equal(shift, cells)
    for dx, dy in cells.long().tolist():
        moved = _shift_mask(mask, dx, dy)
        rows, cols = torch.nonzero(moved, as_tuple=True)
        assert int(moved.sum()) == 7 and int(rows.min()) % 3 == 0 and int(cols.min()) % 3 == 0


def test_no_valid_move_is_reported() -> None:
    mask = _blob()
    occupied = torch.ones_like(mask)
    shift, found = sample_positions(mask[None], policy="non_overlapping", occupied=occupied[None])
    assert found.tolist() == [False] and shift.tolist() == [[0.0, 0.0]]
    shift, found = sample_positions(mask[None], shift_px=((20, 30), 0))
    assert found.tolist() == [False]
    empty = torch.zeros(1, 10, 12, dtype=torch.bool)
    assert sample_positions(empty)[1].tolist() == [False]


def test_seeded_draws_reproduce() -> None:
    masks = _blob().expand(16, 10, 12)
    a = sample_positions(masks, min_inside=0.5, generator=torch.Generator().manual_seed(5))
    b = sample_positions(masks, min_inside=0.5, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a[0], b[0])


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"policy": "everywhere"}, ValueError, "policy"),
        ({"policy": "non_overlapping"}, ValueError, "occupied"),
        (
            {"policy": "density", "density": -torch.ones(1, 10, 12)},
            ValueError,
            "finite values >= 0",
        ),
        ({"policy": "region", "region": torch.ones(1, 10, 12)}, TypeError, "dtype torch.bool"),
        (
            {"policy": "region", "region": torch.ones(1, 9, 12, dtype=torch.bool)},
            ValueError,
            "shape",
        ),
        ({"min_inside": 0}, ValueError, "min_inside"),
        ({"stride": 0}, ValueError, "stride"),
    ],
)
def test_bad_arguments_raise(options: dict[str, object], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        sample_positions(_blob()[None], **options)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="dtype"):
        sample_positions(_blob()[None].float())
