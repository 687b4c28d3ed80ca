"""The collate's dense mask primitives against plain torch reductions."""

from __future__ import annotations

import pytest
import torch

from shiftaug.detection._pixels import area_and_overlap, count_pixels, runs, union_of_rows


@pytest.mark.parametrize(
    "shape", [(3, 32, 32), (2, 33, 47), (4, 1, 1), (0, 8, 8), (2, 64, 80), (1, 129, 257)]
)
@pytest.mark.parametrize("dtype", [torch.bool, torch.uint8])
def test_count_pixels_equals_sum(shape, dtype) -> None:
    generator = torch.Generator().manual_seed(sum(shape))
    masks = (torch.rand(shape, generator=generator) < 0.4).to(dtype)
    expected = masks.to(torch.int64).flatten(1).sum(1) if shape[0] else torch.zeros(0)
    assert count_pixels(masks).tolist() == expected.tolist()
    # All set: every byte lane at its largest.
    full = torch.ones(shape, dtype=dtype)
    assert count_pixels(full).tolist() == [shape[1] * shape[2]] * shape[0]


def test_count_pixels_of_views() -> None:
    masks = torch.rand(5, 40, 48) < 0.5
    for view in (masks[1:4], masks[:, 3:30, 5:41], masks.transpose(1, 2), masks[::2]):
        assert count_pixels(view).tolist() == view.flatten(1).sum(1).tolist()


def test_area_and_overlap_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    import shiftaug.detection._pixels as pixels

    monkeypatch.setattr(pixels, "_CHUNK_BYTES", 3000)  # several masks per chunk, ragged end
    masks = (torch.rand(11, 30, 40) < 0.3).to(torch.uint8)
    region = torch.rand(30, 40) < 0.5
    area, shared = area_and_overlap(masks, region)
    assert area.tolist() == masks.flatten(1).sum(1).tolist()
    assert shared.tolist() == (masks.bool() & region).flatten(1).sum(1).tolist()
    area, shared = area_and_overlap(masks, None)
    assert shared.tolist() == [0] * 11
    empty = area_and_overlap(masks[:0], region)
    assert [t.numel() for t in empty] == [0, 0]


def test_union_of_rows_and_runs() -> None:
    masks = torch.rand(7, 9, 10) < 0.2
    for rows in ([0], [1, 2, 3], [0, 2, 5, 6], list(range(7))):
        assert torch.equal(union_of_rows(masks, rows), masks[rows].any(0))
        assert torch.equal(union_of_rows(masks.to(torch.uint8), rows), masks[rows].any(0))
        assert [i for a, b in runs(rows) for i in range(a, b)] == rows
    assert runs([]) == []
