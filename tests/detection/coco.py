"""Write a tiny COCO-format dataset (PNG images + polygon annotations) for the end-to-end tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

CATEGORIES = [{"id": 1, "name": "triangle"}, {"id": 2, "name": "square"}, {"id": 3, "name": "kite"}]


def _polygon(rng: np.random.Generator, category: int, width: int, height: int) -> list[float]:
    """A triangle, square or kite (category 1, 2, 3) inside the image, as flat ``x, y`` pairs."""
    size = rng.uniform(8, min(width, height) / 2.5)
    cx, cy = rng.uniform(size / 2, width - size / 2), rng.uniform(size / 2, height - size / 2)
    corners = {1: [(0, -1), (0.9, 0.7), (-0.9, 0.7)], 2: [(-1, -1), (1, -1), (1, 1), (-1, 1)]}
    shape = corners.get(category, [(0, -1), (0.6, 0), (0, 1.2), (-0.6, 0)])
    return [round(v, 2) for x, y in shape for v in (cx + x * size / 2, cy + y * size / 2)]


def write_coco(
    root: Path,
    counts: tuple[int, ...] = (3, 0, 2, 4, 0, 1, 3, 2),
    seed: int = 0,
    *,
    images: str = "images",
    annotations: str = "annotations.json",
) -> tuple[Path, Path]:
    """``counts[i]`` objects in image ``i`` (0: no annotations at all); sizes vary.

    Returns ``(root / images, root / annotations)``, as ``CocoDetection`` takes them.
    """
    rng = np.random.default_rng(seed)
    images_dir = root / images
    images_dir.mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, object]] = []
    objects: list[dict[str, object]] = []
    for index, count in enumerate(counts):
        width, height = int(rng.integers(56, 97)), int(rng.integers(48, 81))
        picture = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
        draw = ImageDraw.Draw(picture)
        name = f"{index:04d}.png"
        for _ in range(count):
            category = int(rng.integers(1, 4))
            polygon = _polygon(rng, category, width, height)
            colour = tuple(int(v) for v in rng.integers(0, 256, 3))
            draw.polygon(list(zip(polygon[::2], polygon[1::2], strict=True)), fill=colour)
            xs, ys = polygon[::2], polygon[1::2]
            box = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
            objects.append({
                "id": len(objects) + 1, "image_id": index + 1, "category_id": category,
                "segmentation": [polygon], "area": box[2] * box[3] / 2, "bbox": box,
                "iscrowd": 0,
            })  # fmt: skip
        picture.save(images_dir / name)
        entries.append({"id": index + 1, "file_name": name, "width": width, "height": height})
    annotation_file = root / annotations
    annotation_file.parent.mkdir(parents=True, exist_ok=True)
    content = {"images": entries, "annotations": objects, "categories": CATEGORIES}
    annotation_file.write_text(json.dumps(content))
    return images_dir, annotation_file
