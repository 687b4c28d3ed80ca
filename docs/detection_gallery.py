"""Regenerate the picture of docs/detection.md (run from the repository root).

    python docs/detection_gallery.py

Writes ``docs/img/detection_batch.png``: one batch of four differently sized scenes (generated
objects over photo crops; the last image has no objects) as the DataLoader yields it, after
``CopyPasteCollate``, and after ``CopyPasteCollate(jitter=LargeScaleJitter(192, fill=0.5))``. Masks are
tinted; boxes are yellow for an image's own objects and cyan for pasted ones (told apart by a
custom per-object key, ``source``, which the collate carries along like ``labels``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
from torchvision import tv_tensors
from torchvision.utils import draw_bounding_boxes, draw_segmentation_masks

from shiftaug.detection import OBJECT_KEYS, CopyPasteCollate, LargeScaleJitter
from shiftaug.harness.scenes import make_scenes
from shiftaug.harness.sources import texture_bank

OUT = Path(__file__).resolve().parent / "img" / "detection_batch.png"
SIZES = ((150, 200), (180, 150), (130, 170), (160, 160))
SEED = 3
JITTER_SEED = 7  # a draw with factors on both sides of 1 (0.63, 1.35, 0.66, 1.54)


def batch() -> list[tuple[Any, dict[str, Any]]]:
    """Four samples as torchvision's COCO wrapper gives them (the last without annotations)."""
    samples = []
    for index, size in enumerate(SIZES):
        generator = torch.Generator().manual_seed(SEED + index)
        if index == len(SIZES) - 1:  # a photo crop without objects
            image = tv_tensors.Image(texture_bank(1, size, generator=generator)[0])
            samples.append((image, {"image_id": index}))
            continue
        scenes = make_scenes(
            1, size, num_objects=(3, 4), kinds=("shapes", "coins", "digits"),
            object_size=(24, 56), generator=generator,
        )  # fmt: skip
        image = tv_tensors.Image(scenes.images[0])
        valid = scenes.valid[0]
        masks = scenes.masks[0][valid]
        target = {
            "image_id": index,
            "boxes": tv_tensors.BoundingBoxes(
                scenes.boxes[0][valid], format="XYXY", canvas_size=size
            ),
            "labels": scenes.labels[0][valid],
            "masks": tv_tensors.Mask(masks.to(torch.uint8)),
            "source": torch.full((len(masks),), index),
        }
        samples.append((image, target))
    return samples


def draw(image: torch.Tensor, target: dict[str, Any], index: int) -> torch.Tensor:
    picture = (image.as_subclass(torch.Tensor).clamp(0, 1) * 255).round().to(torch.uint8)
    if "masks" not in target or not len(target["masks"]):
        return picture
    masks = target["masks"].as_subclass(torch.Tensor).bool()
    picture = draw_segmentation_masks(picture, masks, alpha=0.35)
    own = target["source"] == index
    colours = ["yellow" if flag else "cyan" for flag in own.tolist()]
    boxes = target["boxes"].as_subclass(torch.Tensor)
    return draw_bounding_boxes(picture, boxes, colors=colours, width=2)


def main() -> None:
    samples = batch()
    keys = (*OBJECT_KEYS, "source")
    plain = CopyPasteCollate(object_keys=keys, generator=torch.Generator().manual_seed(SEED))
    jittered = CopyPasteCollate(
        object_keys=keys,
        jitter=LargeScaleJitter(192, fill=0.5),
        generator=torch.Generator().manual_seed(JITTER_SEED),
    )
    rows = [
        ("as the DataLoader yields them", [s[0] for s in samples], [s[1] for s in samples]),
        ("CopyPasteCollate()", *plain(samples)),
        ("... with jitter=LargeScaleJitter(192)", *jittered(samples)),
    ]
    fig, axes = plt.subplots(len(rows), len(samples), figsize=(3.2 * len(samples), 3.3 * len(rows)))
    for r, (title, images, targets) in enumerate(rows):
        for n, (image, target) in enumerate(zip(images, targets, strict=True)):
            ax = axes[r, n]
            ax.imshow(draw(image, target, n).permute(1, 2, 0).numpy())
            ax.set_xticks([])
            ax.set_yticks([])
            count = len(target.get("masks", []))
            ax.set_title(f"image {n}: {tuple(image.shape[-2:])}, {count} objects", fontsize=9)
        axes[r, 0].set_ylabel(title, fontsize=10)
    fig.suptitle("Yellow: the image's own objects; cyan: pasted from another image of the batch")
    fig.tight_layout()
    OUT.parent.mkdir(exist_ok=True)
    fig.savefig(OUT, dpi=80)
    plt.close(fig)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
