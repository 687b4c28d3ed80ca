"""The defaults against the artefacts they exist for: the ghost ring of a tight mask
(``hole_margin=1``), aliased paste edges (``blend="antialias"``), Poisson's colour shift
(screened, ``decay=2``). Each test builds the true, artefact-free picture and would fail
with the old default."""

from __future__ import annotations

import torch

from shiftaug import CopyPaste, RandomRelocate
from shiftaug.functional import blend_images, dilate_mask

from .dense import copy_paste_reference, relocation_reference
from .helpers import MeanFill

SIZE = 48


def _disk(centre: tuple[float, float], radius: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``(alpha, tight)``: a disk whose opacity falls from 1 to 0 over the 2 px past
    ``radius`` (a soft rim, as in a photo) and its tight mask (opacity 1, like Otsu's)."""
    yy, xx = torch.meshgrid(torch.arange(SIZE) + 0.5, torch.arange(SIZE) + 0.5, indexing="ij")
    distance = ((yy - centre[1]) ** 2 + (xx - centre[0]) ** 2).sqrt()
    alpha = (1 - (distance - radius) / 2).clamp(0, 1)
    return alpha, alpha >= 1


def _textured(seed: int, level: float) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (level + 0.05 * torch.randn(1, 3, SIZE, SIZE, generator=g)).clamp(0, 1)


def test_defaults_are_the_measured_ones() -> None:
    relocate, paste = RandomRelocate(MeanFill()), CopyPaste()
    assert relocate.hole_margin == 1 and relocate.blend == "antialias"
    assert paste.blend == "antialias"


def test_the_default_hole_margin_removes_the_ghost_ring_of_a_tight_mask() -> None:
    background = _textured(0, 0.2)
    alpha, tight = _disk((16.0, 24.0), 7.0)
    image = background + alpha * (0.9 - background)  # a bright coin with its soft rim
    ring = (dilate_mask(tight[None, None], 3) & ~tight)[0, 0]
    ghosts = {}
    for margin in (0, 1):
        t = RandomRelocate("harmonic", hole_margin=margin, shift_px=((20, 20), 0))
        out = t(image, tight[None, None])
        assert bool(out.params.placed.all())
        ghosts[margin] = float((out.image - background)[0][:, ring].mean())
    assert ghosts[1] < 0.5 * ghosts[0], ghosts  # the rim left behind, halved at least


def test_the_default_antialias_edge_is_closer_to_the_true_composite_than_a_hard_paste() -> None:
    source_bg, target_bg = _textured(1, 0.1), _textured(2, 0.6)
    alpha, tight = _disk((24.3, 23.7), 9.4)
    colour = torch.tensor([0.9, 0.4, 0.2]).view(1, 3, 1, 1)
    source = source_bg + alpha * (colour - source_bg)
    truth = target_bg + alpha * (colour - target_bg)  # the same object really in the target
    mask = tight[None, None]
    edge = (dilate_mask(mask, 2) & ~(~dilate_mask(~mask, 2))).expand_as(truth)
    errors = {
        mode: float((blend_images(target_bg, source, mask, mode=mode) - truth).abs()[edge].mean())
        for mode in ("hard", "antialias")
    }
    assert errors["antialias"] < errors["hard"], errors


def test_default_poisson_keeps_the_objects_colour_and_a_neighbours_glow_local() -> None:
    colour = torch.tensor([0.8, 0.3, 0.2]).view(1, 3, 1, 1)
    foreground = torch.ones(1, 3, SIZE, SIZE)  # the object sat on white in its photo...
    foreground[..., 12:36, 12:36] = colour
    dark = torch.full((1, 3, SIZE, SIZE), 0.1)  # ...and goes onto a dark background
    glow = dark.clone()
    glow[..., 12:36, 4:12] = 0.95  # with a glowing neighbour on its left
    mask = torch.zeros(1, 1, SIZE, SIZE, dtype=torch.bool)
    mask[..., 12:36, 12:36] = True
    inner = (slice(None), slice(None), slice(22, 26), slice(22, 26))  # 10 px from the border
    far = (slice(None), slice(None), slice(12, 36), slice(22, 36))  # 10+ px from the glow

    def paste(background: torch.Tensor, **options: object) -> torch.Tensor:
        return blend_images(background, foreground, mask, mode="poisson", **options)  # type: ignore[arg-type]

    assert float((paste(dark)[inner] - colour).abs().max()) < 0.02  # colours kept inside
    assert float((paste(glow)[far] - paste(dark)[far]).abs().max()) < 0.01  # the glow stays
    # The defects the default fixes (the classic, unscreened solve):
    assert float((paste(dark, decay=None)[inner] - colour).abs().max()) > 0.2
    assert float((paste(glow, decay=None)[far] - paste(dark, decay=None)[far]).abs().max()) > 0.05


def test_defaults_equal_the_dense_references() -> None:
    g = torch.Generator().manual_seed(0)
    images = torch.rand(4, 3, 20, 24, generator=g)
    masks = torch.zeros(4, 2, 20, 24, dtype=torch.bool)
    masks[:, 0, 3:9, 4:10] = True
    masks[:, 1, 12:18, 14:21] = True
    valid = torch.ones(4, 2, dtype=torch.bool)
    out = RandomRelocate(MeanFill(), num_objects="all", shift_px=5, generator=g)(images, masks)
    image, new_masks, new_valid = relocation_reference(
        (images, masks, valid), out.params, "antialias", 1
    )
    assert torch.equal(out.image, image) and torch.equal(out.masks, new_masks)
    assert torch.equal(out.valid, new_valid)
    pasted = CopyPaste(num_objects="all", generator=g)(images, masks)
    image, new_masks, new_valid = copy_paste_reference(
        (images, masks, valid), pasted.params, "antialias"
    )
    assert torch.equal(pasted.image, image) and torch.equal(pasted.masks, new_masks)
