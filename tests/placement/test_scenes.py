"""The scene generator: consistent masks, boxes and labels; reproducible; usable by the transforms."""

from __future__ import annotations

import pytest
import torch

from shiftaug import RandomRelocate
from shiftaug.harness.scenes import CLASS_NAMES, make_scenes

from .helpers import MeanFill


@pytest.fixture(scope="module")
def scenes():  # type: ignore[no-untyped-def]
    return make_scenes(12, (40, 48), num_objects=(1, 3), generator=torch.Generator().manual_seed(0))


def test_targets_agree(scenes) -> None:  # type: ignore[no-untyped-def]
    assert scenes.images.shape == (12, 3, 40, 48) and scenes.masks.shape == (12, 3, 40, 48)
    assert float(scenes.images.min()) >= 0 and float(scenes.images.max()) <= 1
    assert torch.equal(scenes.valid, scenes.masks.flatten(2).any(-1))
    assert torch.equal(scenes.valid, scenes.labels >= 0)
    assert int(scenes.labels.max()) < len(CLASS_NAMES)
    assert int(scenes.masks.sum(1).max()) <= 1  # objects never overlap
    for n in range(12):
        for k in range(3):
            if scenes.valid[n, k]:
                rows, cols = torch.nonzero(scenes.masks[n, k], as_tuple=True)
                box = [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]
                assert scenes.boxes[n, k].tolist() == [float(v) for v in box]
            else:
                assert scenes.boxes[n, k].tolist() == [0.0] * 4
    assert bool(scenes.valid.any(1).all())


def test_every_kind_and_reproducible() -> None:
    for kind, labels in (("digits", range(10)), ("shapes", range(10, 14)), ("coins", (14,))):
        one = make_scenes(3, 32, kinds=(kind,), generator=torch.Generator().manual_seed(1))
        assert set(one.labels[one.valid].tolist()) <= set(labels)
        two = make_scenes(3, 32, kinds=(kind,), generator=torch.Generator().manual_seed(1))
        assert torch.equal(one.images, two.images) and torch.equal(one.masks, two.masks)
    grey = make_scenes(2, 32, channels=1, generator=torch.Generator().manual_seed(1))
    assert grey.images.shape == (2, 1, 32, 32)


def test_scenes_feed_the_transforms(scenes) -> None:  # type: ignore[no-untyped-def]
    t = RandomRelocate(MeanFill(), num_objects="all", generator=torch.Generator().manual_seed(0))
    out = t(scenes.images, scenes.masks, scenes.valid, labels=scenes.labels)
    assert torch.equal(out.labels, scenes.labels) and bool(out.params.placed.any())


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"num_objects": (2, 1)}, "num_objects"),
        ({"kinds": ("cars",)}, "kinds"),
        ({"kinds": ()}, "kinds"),
        ({"object_size": (2, 8)}, "object_size"),
        ({"object_size": (8, 80)}, "object_size"),
    ],
)
def test_bad_options_raise(options: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_scenes(2, 32, **options)  # type: ignore[arg-type]
