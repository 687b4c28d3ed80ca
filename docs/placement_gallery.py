"""Regenerate the pictures of docs/placement.md (run from the repository root).

    python docs/placement_gallery.py

Writes ``docs/img/placement_gallery.png`` (original | hole | each backend's fill | relocated,
with masks and boxes drawn) on real photos (the coins of ``skimage.data``, and generated scenes
over photo crops), ``docs/img/placement_blend.png`` (the blending modes on one paste) and
``docs/img/placement_artefacts.png`` (before / after the artefact fixes of 0.2: the ghost ring
of a tight mask, aliased edges, Poisson's colour shift).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
from torchvision.utils import draw_bounding_boxes, draw_segmentation_masks

import shiftaug
from shiftaug.functional import blend_images, dilate_mask, masks_to_boxes, paste_objects
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
        hole = dilate_mask(masks[k][None, None], 1)  # the default hole_margin
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
        relocate = shiftaug.RandomRelocate("harmonic" if "harmonic" in fills else fills[0])
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
                ax.set_title(columns[c], fontsize=10)
            if c == 0:
                ax.set_ylabel(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(OUT / "placement_gallery.png", dpi=90)
    plt.close(fig)


def blend_figure() -> None:
    """One coin pasted onto a photo crop with each blending mode, and a close-up of its edge."""
    photo, masks = coin_photo()
    background = make_scenes(
        1, (150, 160), num_objects=1, kinds=("shapes",), generator=torch.Generator().manual_seed(1)
    ).images
    source = photo[None, :, :150, :160]
    coin = masks[None, :, :150, :160]
    k = int(coin.flatten(2).sum(-1).argmax())
    index, shift, placed = torch.tensor([[k]]), torch.tensor([[[20, 30]]]), torch.tensor([[True]])
    x0, y0, _, y1 = (int(v) for v in masks_to_boxes(coin[0, k][None])[0][0].tolist())
    middle = (y0 + y1) // 2 + 30
    edge = (x0 + 20 - 6, middle - 10, x0 + 20 + 14, middle + 10)  # the pasted coin's left edge
    modes = ("hard", "antialias", "feather", "laplacian", "poisson")
    fig, axes = plt.subplots(2, len(modes), figsize=(2.4 * len(modes), 5.0))
    for c, mode in enumerate(modes):
        options = {"sigma": 1.5} if mode == "feather" else {}
        out, _ = paste_objects(
            background, source, coin, index, shift, placed, blend=mode, **options
        )
        picture = (out[0].clamp(0, 1) * 255).round().to(torch.uint8)
        axes[0, c].imshow(picture.permute(1, 2, 0).numpy())
        axes[0, c].set_title(f'blend="{mode}"', fontsize=10)
        frame = (edge[0] - 0.5, edge[1] - 0.5), edge[2] - edge[0], edge[3] - edge[1]
        axes[0, c].add_patch(plt.Rectangle(*frame, fill=False, edgecolor="red", linewidth=1))
        axes[1, c].imshow(_zoom(picture, edge, 6).permute(1, 2, 0).numpy())
        axes[1, c].set_title("red square, x6", fontsize=9)
    for ax in axes.flatten():
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(OUT / "placement_blend.png", dpi=90)
    plt.close(fig)


def _zoom(picture: torch.Tensor, box: tuple[int, int, int, int], factor: int = 4) -> torch.Tensor:
    """``picture``'s ``(x0, y0, x1, y1)`` crop, enlarged ``factor`` times (nearest)."""
    x0, y0, x1, y1 = box
    crop = picture[:, y0:y1, x0:x1]
    return crop.repeat_interleave(factor, 1).repeat_interleave(factor, 2)


def artefacts_figure() -> None:
    """Before / after: the coins photo with one coin moved by the 0.1 defaults (hard paste,
    hole = the Otsu mask) and the 0.2 defaults (antialias, hole_margin=1), with close-ups of
    the vacated place and of the pasted edge; a coin pasted by Poisson onto a dark photo next
    to a bright one, classic vs the screened default."""
    photo, masks = coin_photo()
    image = (photo[:, :150, :160] * 255).round().to(torch.uint8)[None]
    coins = masks[:, :150, :160]
    coins = coins[coins.flatten(1).sum(-1) == masks.flatten(1).sum(-1)]  # whole coins only
    k = int(coins.flatten(1).sum(-1).argmax())
    params = PlacementParams(
        index=torch.tensor([[k]]), shift=torch.tensor([[[52.0, 70.0]]]), scale=torch.ones(1, 1),
        requested=torch.ones(1, 1, dtype=torch.bool), placed=torch.ones(1, 1, dtype=torch.bool),
        image_size=(150, 160), slots=len(coins),
    )  # fmt: skip
    old = shiftaug.RandomRelocate("harmonic", blend="hard", hole_margin=0)
    new = shiftaug.RandomRelocate("harmonic")
    before, after = (t(image, coins[None], params=params).image[0] for t in (old, new))
    x0, y0, x1, y1 = (int(v) for v in masks_to_boxes(coins[k][None])[0][0].tolist())
    vacated = (x0 - 4, y0 - 4, x1 + 4, y1 + 4)
    edge = (x0 + 52 - 4, y0 + 70 - 4, x0 + 52 + 16, y0 + 70 + 16)  # the pasted coin's corner
    panels = [
        ("original", image[0]), ("0.1: hard, hole = mask", before), ("0.2 defaults", after),
        ("0.1: vacated place (x4)", _zoom(before, vacated)),
        ("0.2: vacated place (x4)", _zoom(after, vacated)),
        ("0.1: pasted edge (x4)", _zoom(before, edge)), ("0.2: pasted edge (x4)", _zoom(after, edge)),
    ]  # fmt: skip
    panels += _poisson_panels()
    fig, axes = plt.subplots(2, 5, figsize=(13.5, 5.8))
    for ax, (title, picture) in zip(axes.flatten(), panels, strict=False):
        ax.imshow(picture.permute(1, 2, 0).numpy())
        ax.set_title(title, fontsize=8)
    for ax in axes.flatten():
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(OUT / "placement_artefacts.png", dpi=90)
    plt.close(fig)


def _poisson_panels() -> list[tuple[str, torch.Tensor]]:
    """A coin (tinted orange) from its dark photo pasted onto a bright-and-dark photo crop."""
    photo, masks = coin_photo()
    k = int(masks.flatten(1).sum(-1).argmax())
    x0, y0, x1, y1 = (int(v) for v in masks_to_boxes(masks[k][None])[0][0].tolist())
    size = 96
    tint = torch.tensor([1.0, 0.6, 0.35]).view(3, 1, 1)
    source = torch.zeros(1, 3, size, size)
    mask = torch.zeros(1, 1, size, size, dtype=torch.bool)
    top, left = (size - (y1 - y0)) // 2, (size - (x1 - x0)) // 2
    window = (slice(top, top + y1 - y0), slice(left, left + x1 - x0))
    source[0][:, window[0], window[1]] = photo[:, y0:y1, x0:x1] * tint
    mask[0, 0][window] = masks[k, y0:y1, x0:x1]
    background = (
        make_scenes(
            1, size, num_objects=1, kinds=("shapes",), generator=torch.Generator().manual_seed(2)
        ).images
        * 0.4
    )
    background[..., :, : left + 6] = 0.95  # a bright neighbour on the left
    as_uint8 = [(x.clamp(0, 1) * 255).round().to(torch.uint8) for x in (background, source)]
    out = [
        (title, blend_images(*as_uint8, mask, mode="poisson", decay=decay)[0])
        for title, decay in (("poisson, classic (0.1)", None), ("poisson, screened (0.2)", 2.0))
    ]
    return [("hard paste", blend_images(*as_uint8, mask)[0]), *out]


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    gallery()
    blend_figure()
    artefacts_figure()
    print(f"wrote {OUT / 'placement_gallery.png'}, placement_blend.png, placement_artefacts.png")
