"""DataLoader loops: augmenting on the device after the loader, detection collate and back."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from shiftaug import RandomTranslate
from shiftaug.adapters.loader import (
    AugmentOnDevice,
    collate_detection,
    to_device,
    uncollate_detection,
)
from shiftaug.functional import (
    translate_boxes,
    translate_image,
    translate_keypoints,
    translate_mask,
)
from tests.adapters.references import rule_mask

S = 10


def _samples(count: int = 5) -> list[dict[str, object]]:
    g = torch.Generator().manual_seed(0)
    samples = []
    for index in range(count):
        objects = index % 3
        boxes = torch.tensor([[1.0, 1.0, 5.0, 4.0], [6.0, 5.0, 10.0, 10.0]])[:objects]
        samples.append(
            {
                "image": torch.rand(3, S, S, generator=g),
                "boxes": boxes,
                "labels": torch.arange(objects) + 1,
                "keypoints": torch.rand(objects, 4, 2, generator=g) * S,
                "id": index,
            }
        )
    return samples


def test_a_tensor_and_a_tuple_batch_are_augmented_like_the_core(device: str) -> None:
    images, masks = torch.rand(6, 3, S, S), torch.randint(0, 4, (6, S, S), dtype=torch.uint8)
    loader = DataLoader(TensorDataset(images, masks, torch.arange(6)), batch_size=3)
    transform = RandomTranslate(shift_px=4, padding_mode="replicate")
    wrapped = AugmentOnDevice(loader, transform, device=device, targets={"mask": 1})
    assert len(wrapped) == 2
    for index, (out_images, out_masks, labels) in enumerate(wrapped):
        shift = transform.last_params.shift
        batch = slice(3 * index, 3 * index + 3)
        assert out_images.device.type == device and labels.device.type == device
        expected = translate_image(images[batch].to(device), shift, padding_mode="replicate")
        assert torch.equal(out_images, expected)
        # Vacated mask pixels are background (mask_fill) whatever the image padding.
        assert torch.equal(out_masks, translate_mask(masks[batch].to(device), shift))
        assert torch.equal(labels.cpu(), torch.arange(6)[batch])
    plain = AugmentOnDevice([images], transform)
    assert torch.equal(
        next(iter(plain)),
        translate_image(images, transform.last_params.shift, padding_mode="replicate"),
    )


def test_a_padded_detection_batch_moves_per_sample_and_comes_back() -> None:
    transform = RandomTranslate(shift_px=5, min_visibility=0.3)
    loader = DataLoader(_samples(), batch_size=5, collate_fn=collate_detection)
    batch = next(iter(AugmentOnDevice(loader, transform)))
    shift = transform.last_params.shift
    raw = collate_detection(_samples())
    assert raw["valid"].sum(1).tolist() == [0, 1, 2, 0, 1]
    moved, visible = translate_boxes(raw["boxes"], shift, canvas_size=(S, S), min_visibility=0.3)
    assert torch.equal(batch["boxes"], moved) and torch.equal(batch["boxes_visible"], visible)
    points, _ = translate_keypoints(raw["keypoints"], shift[:, None], canvas_size=(S, S))
    assert torch.equal(batch["keypoints"], points)  # (N, M, P, 2): each object's own sample
    samples = uncollate_detection(batch)
    for index, sample in enumerate(samples):
        keep = raw["valid"][index] & visible[index]
        assert torch.equal(sample["boxes"], moved[index][keep])
        assert torch.equal(sample["labels"], raw["labels"][index][keep])
        assert sample["id"] == index and sample["keypoints_visible"].shape == (int(keep.sum()), 4)


def test_to_device_keeps_structure_and_non_tensors() -> None:
    batch = {"x": (torch.zeros(2), [torch.ones(1), "name"]), "n": 3}
    moved = to_device(batch, "cpu")
    assert isinstance(moved["x"], tuple) and moved["x"][1][1] == "name" and moved["n"] == 3


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"loader": 3}, TypeError, "`loader` must be an iterable"),
        ({"transform": lambda x: x}, TypeError, "`transform` must be a batched shiftaug"),
        ({"targets": {"masks": 1}}, ValueError, "must use the transform's target arguments"),
        ({"targets": {"mask": 1.5}}, TypeError, "`targets` must map names"),
        ({"image_key": 1.0}, TypeError, "`image_key` must be a str or an int"),
    ],
)
def test_bad_arguments_fail_at_construction(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    arguments: dict[str, object] = {"loader": [], "transform": RandomTranslate(shift_px=1)}
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        AugmentOnDevice(**arguments)  # type: ignore[arg-type]


def test_bad_batches_and_samples_get_clear_messages() -> None:
    transform = RandomTranslate(shift_px=1)
    with pytest.raises(ValueError, match="`image_key` must name an entry"):
        next(iter(AugmentOnDevice([{"img": torch.zeros(1, 3, 4, 4)}], transform)))
    with pytest.raises(TypeError, match="must be the images"):
        next(iter(AugmentOnDevice([("a", torch.zeros(1))], transform)))
    with pytest.raises(TypeError, match="A batch must be a tensor"):
        next(iter(AugmentOnDevice([3], transform)))
    with pytest.raises(ValueError, match="must have the same length"):
        collate_detection([{"boxes": torch.zeros(2, 4), "labels": torch.zeros(1)}])
    with pytest.raises(ValueError, match="non-empty sequence"):
        collate_detection([])
    with pytest.raises(ValueError, match="must hold the `valid` mask"):
        uncollate_detection({"boxes": torch.zeros(1, 1, 4)})


def test_a_mask_the_transform_cannot_place_is_an_error_not_a_silent_pass() -> None:
    images, masks = torch.rand(4, 3, S, S), torch.randint(0, 3, (4, S, S), dtype=torch.uint8)
    transform = RandomTranslate(shift_px=3)
    with pytest.raises(ValueError, match=r"entry 1 .*targets=\{'mask': 1\}"):
        next(iter(AugmentOnDevice([(images, masks)], transform)))
    with pytest.raises(ValueError, match=r"entry 'seg' .*targets=\{'mask': 'seg'\}"):
        next(iter(AugmentOnDevice([{"image": images, "seg": masks}], transform)))
    # Said explicitly, both work: moved with the images, or left as they are.
    out = next(iter(AugmentOnDevice([{"image": images, "seg": masks}], transform,
                                    targets={"mask": "seg"})))  # fmt: skip
    expected = rule_mask(masks, transform.last_params.shift, "zeros")
    assert torch.equal(out["seg"], expected)
    kept = next(iter(AugmentOnDevice([(images, masks)], transform, targets={})))
    assert kept[1] is masks
    labels = next(iter(AugmentOnDevice([(images, torch.arange(4))], transform)))[1]
    assert torch.equal(labels, torch.arange(4))  # entries of another shape pass through


def test_samples_without_objects_may_lack_the_object_entries() -> None:
    """torchvision's COCO wrapper omits ``masks`` (and boxes) for images without annotations."""
    full = {
        "image": torch.zeros(3, S, S), "masks": torch.ones(2, S, S, dtype=torch.bool),
        "boxes": torch.tensor([[0.0, 0, S, S], [1, 1, 2, 2]]), "image_id": 1,
    }  # fmt: skip
    bare = {"image": torch.ones(3, S, S), "image_id": 2}
    for samples in ([full, bare], [bare, full]):
        batch = collate_detection(samples)
        assert batch["valid"].sum(1).tolist() == [2 if s is full else 0 for s in samples]
        for sample, back in zip(samples, uncollate_detection(batch), strict=True):
            objects = 2 if sample is full else 0
            assert back["masks"].shape == (objects, S, S) and back["boxes"].shape == (objects, 4)
            assert back["image_id"] == sample["image_id"]
        assert torch.equal(uncollate_detection(batch)[samples.index(full)]["masks"], full["masks"])
    batch = collate_detection([bare, {**full, "masks": None, "boxes": None}])
    assert batch["masks"] is None and batch["valid"].shape == (2, 0)
    with pytest.raises(ValueError, match=r"has 2 objects but no \['masks'\]"):
        collate_detection([full, {**full, "masks": None}])
    with pytest.raises(ValueError, match="must hold 'image_id' like the other samples"):
        collate_detection([full, {"image": torch.ones(3, S, S)}])
