"""Paste artefacts measured on real photos: the ghost ring a tight mask leaves, Poisson's colour
shift, aliased edges. The numbers behind the defaults ``hole_margin``, ``blend="antialias"``
and Poisson's ``decay`` (docs/placement.md, "Artefacts").

Objects are the 24 coins of ``skimage.data.coins()`` with their Otsu masks (what a threshold or
a COCO polygon gives: *tight*, the soft rim of the coin lies outside). Their true opacity
(``alpha``) is read from the photo itself: near each coin, ``(I - background) / (coin -
background)`` clipped to ``[0, 1]`` (background: the median of a ring 6-12 px away; coin: the
median of the mask's outer 3 px), so the rim is the coin's real one. Each coin, tinted with one
of four colours, is composited with that alpha onto a 128x128 crop of another ``skimage.data``
photo: the clean background is known, so every error below has a ground truth.

- **Removal** (``RandomRelocate``'s hole): the coin is removed by filling its mask, grown by
  ``hole_margin`` pixels, with the ``harmonic`` fill; error against the clean background over
  the coin's footprint plus 4 px, and the *ring* error over the 1-3 px band just outside the
  mask (where the ghost of the rim shows). Masks: the Otsu mask, and a COCO-style polygon
  (its 0.5 contour simplified with a 1 px tolerance, rasterised).
- **Pasting** onto a second crop: each blend mode against the true composite (``alpha * coin +
  (1 - alpha) * new background``) in the band 2 px either side of the mask's edge; and the
  colour shift inside (mean error over the mask eroded by 3 px, where the true composite is
  the coin itself).
- The same removal on the coins photo itself (no ground truth): brightness excess of the
  result in the ring band over the local background level (0 = no ghost).

    python benchmarks/placement_artefacts.py   # results/placement_artefacts.{json,md}
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from common import RESULTS, environment

from shiftaug.functional import blend_images, dilate_mask
from shiftaug.harness.scenes import coin_photo
from shiftaug.harness.sources import texture_bank
from shiftaug.inpaint import get_inpainter

SIZE, SEED = 128, 0
MARGINS = (0, 1, 2, 3, 4, 6)
BACKGROUNDS = ("astronaut", "brick", "chelsea", "coffee", "grass", "rocket", "camera", "gravel")
TINTS = ((1.0, 1.0, 1.0), (1.0, 0.55, 0.35), (0.45, 0.7, 1.0), (0.9, 0.85, 0.4))
BLENDS = {
    "hard": {"mode": "hard"},
    "antialias (halo k/18)": {"mode": "antialias"},
    "feather (sigma=0.5)": {"mode": "feather", "sigma": 0.5},
    "feather (sigma=1)": {"mode": "feather", "sigma": 1.0},
    "poisson (decay=None, classic)": {"mode": "poisson", "decay": None},
    "poisson (decay=6)": {"mode": "poisson", "decay": 6.0},
    "poisson (decay=3)": {"mode": "poisson", "decay": 3.0},
    "poisson (decay=2)": {"mode": "poisson", "decay": 2.0},
    "poisson (decay=1.5)": {"mode": "poisson", "decay": 1.5},
}
# Candidate soft edges that are not library modes, computed densely here: the opacity of the
# halo (k / 36, k / 12 around the library's k / 18), and an inward fade of the mask's own edge
# pixels (opacity = the share of their 3x3 neighbourhood in the mask).
HALO_STRENGTHS = {"halo k/36": 1 / 36, "halo k/12": 1 / 12}


def _erode(mask: torch.Tensor, radius: int) -> torch.Tensor:
    return ~dilate_mask(~mask, radius)


def coin_objects() -> list[dict[str, torch.Tensor]]:
    """Each coin: its crop (grey, ``(3, h, w)`` in [0, 1]), Otsu mask and alpha read from the
    photo's rim (see the module docstring), on a window 12 px larger than its box."""
    photo, masks = coin_photo()
    grey = photo[0]
    objects = []
    for mask in masks:
        rows, cols = torch.nonzero(mask, as_tuple=True)
        y0, y1 = max(int(rows.min()) - 12, 0), min(int(rows.max()) + 13, grey.shape[0])
        x0, x1 = max(int(cols.min()) - 12, 0), min(int(cols.max()) + 13, grey.shape[1])
        tight = mask[y0:y1, x0:x1]
        window = grey[y0:y1, x0:x1]
        near = tight[None, None]
        ring = dilate_mask(near, 12) & ~dilate_mask(near, 6)
        background = window[ring[0, 0]].median()
        edge = tight & ~_erode(near, 3)[0, 0]
        coin = window[edge].median()
        alpha = ((window - background) / (coin - background)).clamp(0, 1)
        alpha = torch.where(tight, 1.0, alpha * dilate_mask(near, 4)[0, 0])
        colour = torch.where(tight, window, coin)  # the rim's colour is the coin's, unmixed
        objects.append({"picture": colour, "mask": tight, "alpha": alpha})
    return objects


def polygon_mask(mask: torch.Tensor) -> torch.Tensor:
    """A COCO-style polygon of ``mask``: its 0.5 contour simplified (1 px), rasterised."""
    from skimage.draw import polygon2mask
    from skimage.measure import approximate_polygon, find_contours

    contours = find_contours(np.pad(mask.numpy().astype(float), 1), 0.5)
    out = np.zeros(mask.shape, dtype=bool)
    for contour in contours:
        simple = approximate_polygon(contour - 1, tolerance=1.0)
        out |= polygon2mask(mask.shape, simple)
    return torch.from_numpy(out)


def composites(objects: list[dict[str, torch.Tensor]], seed: int) -> dict[str, torch.Tensor]:
    """Each object tinted and composited at the centre of a photo crop (float, 0-255)."""
    count = len(objects)
    g = torch.Generator().manual_seed(seed)
    backgrounds = texture_bank(count, SIZE, generator=g, photos=BACKGROUNDS) * 255
    images = backgrounds.clone()
    alpha = torch.zeros(count, 1, SIZE, SIZE)
    front = torch.zeros(count, 3, SIZE, SIZE)
    tight, polygon = (torch.zeros(count, 1, SIZE, SIZE, dtype=torch.bool) for _ in range(2))
    for i, obj in enumerate(objects):
        h, w = obj["mask"].shape
        top, left = (SIZE - h) // 2, (SIZE - w) // 2
        box = (slice(top, top + h), slice(left, left + w))
        tint = torch.tensor(TINTS[i % len(TINTS)]).view(3, 1, 1)
        front[i][:, box[0], box[1]] = obj["picture"] * tint * 255
        alpha[i, 0][box] = obj["alpha"]
        tight[i, 0][box] = obj["mask"]
        polygon[i, 0][box] = polygon_mask(obj["mask"])
    images = alpha * front + (1 - alpha) * backgrounds
    return {"images": images, "clean": backgrounds, "front": front, "alpha": alpha,
            "otsu": tight, "polygon": polygon}  # fmt: skip


def removal(data: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Error of the filled hole against the clean background, per mask kind and margin."""
    fill = get_inpainter("harmonic")
    image = data["images"].round().clamp(0, 255).to(torch.uint8)
    clean = data["clean"]
    results: dict[str, Any] = {}
    for kind in ("otsu", "polygon"):
        mask = data[kind]
        footprint = dilate_mask(mask, 4).expand_as(clean)
        band = (dilate_mask(mask, 3) & ~mask).expand_as(clean)
        rows = {}
        for margin in MARGINS:
            out = fill(image, dilate_mask(mask, margin)).double()
            error = (out - clean).abs()
            mse = float(((out - clean) ** 2)[footprint].mean())
            # The ghost: per object, the mean signed residual over the ring band (texture
            # errors average out, a rim left behind does not).
            bias = [float((out - clean)[i][band[i]].mean().abs()) for i in range(len(out))]
            rows[str(margin)] = {
                "footprint_error": float(error[footprint].mean()),
                "footprint_psnr_db": 10 * float(np.log10(255**2 / mse)),
                "ring_error": float(error[band].mean()),
                "ring_ghost": float(np.mean(bias)),
            }
        results[kind] = rows
    return results


def pasting(source: dict[str, torch.Tensor], target: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Paste each object (tight Otsu mask, from its composite) onto new backgrounds."""
    mask = source["otsu"]
    truth = source["alpha"] * source["front"] + (1 - source["alpha"]) * target["clean"]
    edge = (dilate_mask(mask, 2) & ~_erode(mask, 2)).expand_as(truth)
    inside = _erode(mask, 3).expand_as(truth)
    background = target["clean"].round().clamp(0, 255).to(torch.uint8)
    pictures = source["images"].round().clamp(0, 255).to(torch.uint8)
    outputs = {
        name: blend_images(background, pictures, mask, iterations=500, **options).double()
        for name, options in BLENDS.items()
    }
    for name, strength in HALO_STRENGTHS.items():
        outputs[f"{name} (candidate)"] = _halo(background, pictures, mask, strength)
    outputs["inward fade (candidate)"] = _inward(background, pictures, mask)
    return {
        name: {
            "edge_error": float((out - truth).abs()[edge].mean()),
            "inside_colour_shift": float((out - truth).abs()[inside].mean()),
        }
        for name, out in outputs.items()
    }


def _neighbours(mask: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per pixel: how many of its 3x3 neighbours are in ``mask``, and their values' sum."""
    count = F.conv2d(
        F.pad(mask.double(), (1, 1, 1, 1)), torch.ones(1, 1, 3, 3, dtype=torch.float64)
    )
    planes = F.pad((values * mask).flatten(0, 1)[:, None], (1, 1, 1, 1))
    total = F.conv2d(planes, torch.ones(1, 1, 3, 3, dtype=torch.float64)).view(values.shape)
    return count, total


def _halo(bg: torch.Tensor, fg: torch.Tensor, mask: torch.Tensor, strength: float) -> torch.Tensor:
    count, total = _neighbours(mask, fg.double())
    alpha = count * strength * ~mask
    mixed = (bg.double() + alpha * (total / count.clamp(min=1) - bg.double())).round()
    return torch.where(mask, fg.double(), mixed)


def _inward(bg: torch.Tensor, fg: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    count = F.conv2d(
        F.pad(mask.double(), (1, 1, 1, 1), mode="replicate"),
        torch.ones(1, 1, 3, 3, dtype=torch.float64),
    )
    alpha = count / 9 * mask
    return (bg.double() + alpha * (fg.double() - bg.double())).round()


def on_the_coins_photo() -> dict[str, float]:
    """Brightness excess in the ring band after removing every coin of the photo (0-255)."""
    photo, masks = coin_photo()
    image = (photo * 255).round().to(torch.uint8)[None]
    union = masks.any(0)[None, None]
    far = (dilate_mask(union, 12) & ~dilate_mask(union, 6))[0, 0]
    level = float(image[0, 0][far].double().median())
    band = (dilate_mask(union, 3) & ~union)[0, 0]
    fill = get_inpainter("harmonic")
    rows = {}
    for margin in MARGINS:
        out = fill(image, dilate_mask(union, margin))[0, 0].double()
        rows[str(margin)] = float(out[band].mean() - level)
    return rows


def table(results: dict[str, Any]) -> str:
    lines = [
        f"{results['objects']} coins of skimage.data.coins() with their Otsu masks, tinted, "
        "composited with the alpha read from their real rim onto 128x128 crops of "
        f"{', '.join(BACKGROUNDS)}; 0-255 grey levels; 1-minute load average "
        f"{results['load_average_1min']:.1f}.",
        "",
        "Removal (harmonic fill of the mask grown by `hole_margin`), against the clean background:",
        "",
        "| mask | hole_margin | footprint error | footprint PSNR dB | ring error | ring ghost |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, rows in results["removal"].items():
        for margin, row in rows.items():
            lines.append(
                f"| {kind} | {margin} | {row['footprint_error']:.2f} | "
                f"{row['footprint_psnr_db']:.2f} | {row['ring_error']:.2f} | "
                f"{row['ring_ghost']:.2f} |"
            )
    lines += ["", "Removal on the coins photo itself: ring brightness above the background:", ""]
    lines += ["| hole_margin | " + " | ".join(results["coins_photo"]) + " |"]
    lines += ["|---" * (len(results["coins_photo"]) + 1) + "|"]
    lines += [
        "| excess | " + " | ".join(f"{v:+.1f}" for v in results["coins_photo"].values()) + " |"
    ]
    lines += ["", "Pasting with the tight mask, against the true soft composite:", ""]
    lines += ["| blend | edge band error | colour shift inside |", "|---|---:|---:|"]
    for name, row in results["pasting"].items():
        lines.append(f"| {name} | {row['edge_error']:.2f} | {row['inside_colour_shift']:.2f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="8 coins, results not written")
    args = parser.parse_args()
    torch.set_num_threads(1)
    objects = coin_objects()[: 8 if args.quick else None]
    source, target = composites(objects, SEED), composites(objects, SEED + 1)
    results = {
        "objects": len(objects),
        "load_average_1min": os.getloadavg()[0],
        "removal": removal(source),
        "coins_photo": on_the_coins_photo(),
        "pasting": pasting(source, target),
        "environment": environment(),
    }
    text = table(results)
    print(text)
    if not args.quick:
        (RESULTS / "placement_artefacts.json").write_text(json.dumps(results, indent=2) + "\n")
        (RESULTS / "placement_artefacts.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
