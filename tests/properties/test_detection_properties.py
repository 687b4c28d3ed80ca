"""Hypothesis properties of the copy-paste collate: ragged batches of random sizes and objects."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from shiftaug.detection import CopyPasteCollate, CopyPasteParams
from tests.detection.reference import copy_paste_one, mask_box


@st.composite
def batches(draw):  # type: ignore[no-untyped-def]
    """2-4 samples of 3-12 px sides with 0-3 rectangles each (some empty-handed)."""
    samples = []
    for index in range(draw(st.integers(2, 4))):
        height, width = draw(st.integers(3, 12)), draw(st.integers(3, 12))
        masks = torch.zeros(draw(st.integers(0, 3)), height, width, dtype=torch.bool)
        for mask in masks:
            top, left = draw(st.integers(0, height - 1)), draw(st.integers(0, width - 1))
            mask[
                top : top + draw(st.integers(1, height)), left : left + draw(st.integers(1, width))
            ] = True
        image = torch.rand(2, height, width, generator=torch.Generator().manual_seed(index))
        boxes = torch.tensor([mask_box(m.numpy()) for m in masks]).view(-1, 4)
        target = {"masks": masks, "boxes": boxes, "labels": torch.arange(len(masks)) + 10 * index}
        samples.append((image, target))
    partner = [
        draw(st.sampled_from([j for j in range(len(samples)) if j != n]))
        for n in range(len(samples))
    ]
    most = max(len(t["masks"]) for _, t in samples)
    chosen = torch.zeros(len(samples), most, dtype=torch.bool)
    for n, b in enumerate(partner):
        for k in range(len(samples[b][1]["masks"])):
            chosen[n, k] = draw(st.booleans())
    visibility = draw(st.sampled_from([0.0, 0.5, 1.0]))
    return samples, CopyPasteParams(torch.tensor(partner), chosen), visibility


@given(batches())
def test_collate_equals_the_per_image_reference(case) -> None:  # type: ignore[no-untyped-def]
    samples, params, visibility = case
    images, targets = CopyPasteCollate(min_visibility=visibility)(samples, params=params)
    arrays = [
        {
            "image": i.numpy(),
            "masks": t["masks"].numpy(),
            "boxes": t["boxes"].tolist(),
            "values": {"labels": t["labels"].tolist()},
        }
        for i, t in samples
    ]
    for n, (image, target) in enumerate(zip(images, targets, strict=True)):
        rows = torch.nonzero(params.chosen[n]).flatten().tolist()
        expected = copy_paste_one(arrays[n], arrays[int(params.partner[n])], rows, visibility)
        assert np.array_equal(image.numpy(), expected["image"])
        assert np.array_equal(target["masks"].numpy(), expected["masks"])
        assert target["labels"].tolist() == expected["values"]["labels"]
        assert target["boxes"].view(-1, 4).tolist() == [
            list(map(float, b)) for b in expected["boxes"]
        ]
        # Every object keeps a pixel, and its box is its mask's box (inputs were mask boxes).
        for mask, box in zip(target["masks"], target["boxes"], strict=True):
            assert mask.any() and box.tolist() == mask_box(mask.numpy())
        # Outside what was pasted, the image is untouched.
        pasted = torch.zeros(image.shape[-2:], dtype=torch.bool)
        partner = samples[int(params.partner[n])][1]["masks"][rows]
        h, w = min(pasted.shape[0], partner.shape[-2]), min(pasted.shape[1], partner.shape[-1])
        if len(rows):
            pasted[:h, :w] = partner[:, :h, :w].any(0)
        assert torch.equal(image[:, ~pasted], samples[n][0][:, ~pasted])
