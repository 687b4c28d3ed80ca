"""Regenerate the pictures of docs/placement.md (run from the repository root).

    python docs/placement_gallery.py

Writes ``docs/img/placement_gallery.png`` (original | hole | each backend's fill | relocated,
with masks and boxes drawn) on real photos (the coins of ``skimage.data``, and generated scenes
over photo crops), and ``docs/img/placement_blend.png`` (the four blending modes on one paste).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
from torchvision.utils import draw_bounding_boxes, draw_segmentation_masks

import shiftaug
from shiftaug.functional import dilate_mask, masks_to_boxes, paste_objects
from shiftaug.harness.scenes import coin_photo, make_scenes
from shiftaug.inpaint import available_inpainters, get_inpainter
from shiftaug.params import PlacementParams, sample_positions

OUT = Path(__file__).resolve().parent / "img"
FILLS = ("telea", "navier_stokes", "harmonic", "pull_push", "blur", "mean")
SEED = 4


def examples() -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """``(title, image (3, H, W), masks (K, H, W))``: two coin crops and two scenes."""
    photo, masks = coin_photo()
    rows = []
    for top, left in ((0, 0), (150, 220)):
        crop = (slice(None), slice(top, top + 150), slice(left, left + 160))
        inside = masks[crop].flatten(1).sum(-1) == masks.flatten(1).sum(-1)  # whole coins only
        rows.append(("skimage coins", photo[crop], masks[crop][inside]))
    scenes = make_scenes(2, 128, num_objects=(2, 3), generator=torch.Generator().manual_seed(SEED))
    for n in range(2):
        rows.append(("generated scene", scenes.images[n], scenes.masks[n][scenes.valid[n]]))
    return rows


def draw(
    image: torch.Tensor, masks: torch.Tensor, boxes: torch.Tensor | None = None
) -> torch.Tensor:
    """uint8 picture with the masks tinted and the boxes outlined."""
    picture = (
        image if image.dtype == torch.uint8 else (image.clamp(0, 1) * 255).round().to(torch.uint8)
    )
    if len(masks):
        picture = draw_segmentation_masks(picture, masks, alpha=0.35)
        if boxes is not None:
            picture = draw_bounding_boxes(picture, boxes, colors="yellow", width=1)
    return picture


def gallery() -> None:
    fills = [name for name in FILLS if name in available_inpainters()]
    rows = examples()
    columns = [
        "original + masks", "hole", *[f"fill: {name}" for name in fills],
        "relocated (red: old box)",
    ]  # fmt: skip
    fig, axes = plt.subplots(len(rows), len(columns), figsize=(1.9 * len(columns), 2.0 * len(rows)))
    for r, (title, photo, masks) in enumerate(rows):
        image = (photo * 255).round().to(torch.uint8)  # photos are 8-bit; so is OpenCV's fill
        k = int(masks.flatten(1).sum(-1).argmax())  # move the largest object
        hole = dilate_mask(masks[k][None, None], 2)
        pictures = [draw(image, masks), draw(torch.where(hole[0], 0, image), masks[:0])]
        for name in fills:
            filled = get_inpainter(name)(image[None], hole)[0]
            pictures.append(draw(filled, masks[:0]))
        # Draw a free place for this object (the others block), then replay it in the transform.
        others = torch.cat([masks[:k], masks[k + 1 :]]).any(0, keepdim=True)
        generator = torch.Generator().manual_seed(SEED)
        shift, found = sample_positions(
            masks[k][None], policy="non_overlapping", occupied=others, generator=generator
        )
        params = PlacementParams(
            index=torch.tensor([[k]]), shift=shift[:, None], scale=torch.ones(1, 1),
            requested=torch.ones(1, 1, dtype=torch.bool), placed=found[:, None],
            image_size=tuple(image.shape[-2:]), slots=len(masks),
        )  # fmt: skip
        relocate = shiftaug.RandomRelocate(
            "harmonic" if "harmonic" in fills else fills[0], hole_margin=2
        )
        out = relocate(image[None], masks[None], params=params)
        valid = out.valid[0]
        picture = draw(out.image[0], out.masks[0][valid], out.boxes[0][valid])
        old_box = masks_to_boxes(masks[k][None])[0]  # where the moved object came from
        pictures.append(draw_bounding_boxes(picture, old_box, colors="red", width=1))
        for c, picture in enumerate(pictures):
            ax = axes[r, c]
            ax.imshow(picture.permute(1, 2, 0).numpy())
            ax.set_xticks([]), ax.set_yticks([])
            if r == 0:
                ax.set_title(columns[c], fontsize=8)
            if c == 0:
                ax.set_ylabel(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "placement_gallery.png", dpi=90)
    plt.close(fig)


def blend_figure() -> None:
    """One coin pasted onto a photo crop with each blending mode."""
    photo, masks = coin_photo()
    background = make_scenes(
        1, (150, 160), num_objects=1, kinds=("shapes",), generator=torch.Generator().manual_seed(1)
    ).images
    source = photo[None, :, :150, :160]
    coin = masks[None, :, :150, :160]
    k = int(coin.flatten(2).sum(-1).argmax())
    index, shift, placed = torch.tensor([[k]]), torch.tensor([[[20, 30]]]), torch.tensor([[True]])
    modes = ("hard", "feather", "laplacian", "poisson")
    fig, axes = plt.subplots(1, len(modes), figsize=(2.4 * len(modes), 2.5))
    for ax, mode in zip(axes, modes, strict=True):
        out, _ = paste_objects(
            background, source, coin, index, shift, placed, blend=mode, sigma=1.5, levels=3
        )
        ax.imshow(out[0].permute(1, 2, 0).clamp(0, 1).numpy())
        ax.set_title(f'blend="{mode}"', fontsize=9)
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(OUT / "placement_blend.png", dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    gallery()
    blend_figure()
    print(f"wrote {OUT / 'placement_gallery.png'} and {OUT / 'placement_blend.png'}")
