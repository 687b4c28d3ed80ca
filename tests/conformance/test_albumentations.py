"""albumentations 2.0 conformance: the checks albumentations runs over its own transforms.

albumentations' test suite builds every transform with ``strict`` on and off, switches
``transform.strict`` on, round-trips each through ``to_dict``/``from_dict`` and YAML/JSON with
identical outputs under a seed, feeds every target a transform declares (``images``, ``masks``
batches included, empty ``bboxes``/``keypoints`` too) and maps transforms over a
``multiprocessing`` pool. The same checks, in our words, run here over every shiftaug
albumentations adapter, with the stock ``A.Affine`` as the control that must pass them too.
"""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import albumentations as A
import numpy as np
import pytest

from shiftaug.adapters import albumentations as sa
from shiftaug.adapters import placement_albumentations as pa

ROOT = Path(__file__).resolve().parents[2]
H, W = 24, 20
Factory = Callable[..., A.BasicTransform]

ADAPTERS: dict[str, Factory] = {
    "RandomTranslate": lambda p=1.0, **kw: sa.RandomTranslate(shift_px=3, p=p, **kw),
    "RandomTranslate-bilinear": lambda p=1.0, **kw: sa.RandomTranslate(
        shift_frac=0.2, interpolation="bilinear", p=p, **kw
    ),
    "RandomRelocate": lambda p=1.0, **kw: pa.RandomRelocate(
        "mean", num_objects="all", shift_px=3, p=p, **kw
    ),
    "CopyPaste": lambda p=1.0, **kw: pa.CopyPaste(num_objects=2, p=p, **kw),
    "stock-Affine": lambda p=1.0, **kw: A.Affine(translate_px=(-3, 3), p=p, **kw),
}
ADAPTER_CLASSES = {sa.RandomTranslate, pa.RandomRelocate, pa.CopyPaste}


def _objects(seed: int) -> tuple[np.ndarray, np.ndarray, list[list[float]]]:
    """An image with two rectangle objects: masks and their pascal_voc boxes."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    masks = np.zeros((2, H, W), dtype=np.uint8)
    rects = [(2 + seed, 3, 6, 5), (12, 9 + seed, 7, 4)]  # (top, left, height, width)
    for k, (top, left, height, width) in enumerate(rects):
        masks[k, top : top + height, left : left + width] = 1
    boxes = [[left, top, left + width, top + height] for top, left, height, width in rects]
    return image, masks, [[float(v) for v in box] for box in boxes]


def _data(image_dtype: type = np.uint8) -> dict[str, Any]:
    image, masks, boxes = _objects(0)
    donor, donor_masks, donor_boxes = _objects(1)
    if image_dtype is np.float32:
        image, donor = image.astype(np.float32) / 255, donor.astype(np.float32) / 255
    return {
        "image": image,
        "masks": masks,
        "bboxes": boxes,
        "labels": ["a", "b"],
        "keypoints": [[4.5, 3.5], [1.0, 20.0]],
        "copypaste_metadata": [
            {"image": donor, "masks": donor_masks, "bboxes": donor_boxes, "labels": ["c", "d"]}
        ],
    }


def _compose(transform: A.BasicTransform, seed: int = 0) -> A.Compose:
    return A.Compose(
        [transform],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        keypoint_params=A.KeypointParams(format="xy"),
        seed=seed,
    )


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    keys = ("image", "masks", "bboxes", "keypoints", "labels")
    return all(np.array_equal(np.asarray(a[k]), np.asarray(b[k])) for k in keys if k in a)


@pytest.fixture(params=list(ADAPTERS))
def factory(request: pytest.FixtureRequest) -> Factory:
    return ADAPTERS[request.param]


@pytest.mark.parametrize("strict", [True, False])
def test_every_constructor_accepts_strict(factory: Factory, strict: bool) -> None:
    transform = factory(strict=strict)
    out = _compose(transform)(**_data())
    assert out["image"].shape == (H, W, 3)


def test_strict_can_be_switched_on_for_valid_arguments(factory: Factory) -> None:
    transform = factory()
    transform.strict = True
    assert transform.strict is True


@pytest.mark.parametrize("how", ["dict", "yaml", "json"])
def test_serialization_round_trips_with_identical_outputs(factory: Factory, how: str) -> None:
    pipeline = _compose(factory(p=0.7), seed=11)
    if how == "dict":
        loaded = A.from_dict(A.to_dict(pipeline))
    else:
        buffer = io.StringIO()
        A.save(pipeline, buffer, data_format=how)
        loaded = A.load(io.StringIO(buffer.getvalue()), data_format=how)
    assert A.to_dict(loaded) == A.to_dict(pipeline)
    pipeline.set_random_seed(5)
    loaded.set_random_seed(5)
    for _ in range(3):
        assert _same(pipeline(**_data()), loaded(**_data()))


def test_a_seed_reproduces_a_pipeline(factory: Factory) -> None:
    first = [_compose(factory(p=0.5), seed=3)(**_data()) for _ in range(1)]
    again = [_compose(factory(p=0.5), seed=3)(**_data()) for _ in range(1)]
    assert all(_same(a, b) for a, b in zip(first, again, strict=True))


def test_images_and_masks_batch_targets(factory: Factory) -> None:
    """Every image of ``images`` gets the call's parameters: the one equal to ``image`` comes
    out equal to it."""
    data = _data()
    other = np.ascontiguousarray(data["image"][::-1])
    out = _compose(factory())(**data, images=np.stack([data["image"], other]))
    assert out["images"].shape == (2, H, W, 3) and out["images"].dtype == np.uint8
    assert np.array_equal(out["images"][0], out["image"])
    assert np.asarray(out["masks"]).shape[1:] == (H, W)


def test_bboxes_and_keypoints_on_every_transform(factory: Factory) -> None:
    out = _compose(factory())(**_data())
    assert len(out["bboxes"]) == len(out["labels"]) >= 1
    assert np.asarray(out["keypoints"]).shape[1:] == (2,)


def test_empty_bboxes_keypoints_and_masks(factory: Factory) -> None:
    data = {**_data(), "masks": [], "bboxes": [], "labels": [], "keypoints": []}
    out = _compose(factory())(**data)
    assert len(out["bboxes"]) == len(out["labels"]) == len(out["keypoints"]) == 0
    assert out["image"].shape == (H, W, 3)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_dtype_is_kept(factory: Factory, dtype: type) -> None:
    out = _compose(factory())(**_data(dtype))
    assert out["image"].dtype == dtype and out["image"].shape == (H, W, 3)


def test_p_zero_leaves_every_target_alone(factory: Factory) -> None:
    data = _data()
    out = _compose(factory(p=0.0))(**data)
    assert np.array_equal(out["image"], data["image"])
    assert np.array_equal(np.asarray(out["masks"]), data["masks"])
    np.testing.assert_allclose(np.asarray(out["bboxes"]), data["bboxes"])


def test_non_contiguous_inputs_give_the_contiguous_result(factory: Factory) -> None:
    data = _data()
    flipped = {
        **data,
        "image": data["image"][:, ::-1],
        "masks": data["masks"][:, :, ::-1],
        "bboxes": [[W - x2, y1, W - x1, y2] for x1, y1, x2, y2 in data["bboxes"]],
    }
    dense = {**flipped, "image": flipped["image"].copy(), "masks": flipped["masks"].copy()}
    assert _same(_compose(factory(), seed=2)(**flipped), _compose(factory(), seed=2)(**dense))


def test_forked_workers_do_not_hang_after_torch_used_its_threads(
    factory: Factory, request: pytest.FixtureRequest
) -> None:
    """albumentations maps transforms over a fork ``multiprocessing.Pool``; a parent that ran
    torch's thread pool first must not leave the workers waiting for its threads."""
    name = request.node.callspec.params["factory"]
    script = textwrap.dedent(
        f"""
        import multiprocessing, torch
        from tests.conformance.test_albumentations import ADAPTERS, _compose, _data
        torch.set_num_threads(2)
        x = torch.rand(512, 512)
        (x @ x).sum()  # the parent's thread pool is now running
        pipeline = _compose(ADAPTERS[{name!r}]())
        pipeline(**_data())

        def work(seed):
            return pipeline(**_data())["image"].shape

        with multiprocessing.get_context("fork").Pool(2) as pool:
            print(pool.map_async(work, range(4)).get(timeout=60))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=180,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == str([(H, W, 3)] * 4)
