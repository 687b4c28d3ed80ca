"""A transform built with ``generator=`` gives each DataLoader worker a stream of its own.

Core transforms and the adapters that build on them share the mechanism
(``RandomTransform.generator``); each worker's stream is reproducible under the generator's
seed and ``torch.manual_seed`` (which seeds the workers), and changes from epoch to epoch.
"""

from __future__ import annotations

from collections.abc import Callable

import albumentations as A
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from torchvision import tv_tensors

from shiftaug import RandomRelocate, RandomTranslate
from shiftaug.adapters.albumentations import RandomTranslate as AlbuTranslate
from shiftaug.adapters.placement_torchvision import RandomRelocate as TVRelocate


class _Draws(Dataset[torch.Tensor]):
    """Each item: the move a transform drew for one sample."""

    def __init__(self, draw: Callable[[], torch.Tensor]) -> None:
        self.draw = draw

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.draw()


def _epoch(draw: Callable[[], torch.Tensor], workers: int = 2) -> torch.Tensor:
    loader = DataLoader(_Draws(draw), batch_size=4, num_workers=workers, collate_fn=torch.stack)
    return torch.cat(list(loader))


def _translate_draw() -> Callable[[], torch.Tensor]:
    t = RandomTranslate(shift_px=50, generator=torch.Generator().manual_seed(0))

    def draw() -> torch.Tensor:
        t(torch.zeros(3, 4, 4))
        return t.last_params.shift[0]

    return draw


def _relocate_draw() -> Callable[[], torch.Tensor]:
    t = TVRelocate("mean", shift_px=6, generator=torch.Generator().manual_seed(0))
    masks = torch.zeros(1, 24, 24, dtype=torch.bool)
    masks[0, 8:14, 8:14] = True

    def draw() -> torch.Tensor:
        t(tv_tensors.Image(torch.rand(3, 24, 24)), {"masks": tv_tensors.Mask(masks)})
        return t.last_params.shift[0, 0]

    return draw


def test_workers_draw_different_reproducible_streams() -> None:
    for make in (_translate_draw, _relocate_draw):
        draw = make()
        torch.manual_seed(1)
        first, second = _epoch(draw), _epoch(draw)
        torch.manual_seed(1)
        again = _epoch(draw)
        assert torch.equal(first, again)  # reproducible
        assert not torch.equal(first[:4], first[4:])  # the two workers differ
        assert not torch.equal(first, second)  # and so do epochs


def test_the_main_process_keeps_the_given_generator() -> None:
    generator = torch.Generator().manual_seed(3)
    assert RandomRelocate("mean", generator=generator).generator is generator
    expected = RandomTranslate(shift_px=50, generator=torch.Generator().manual_seed(0))
    expected(torch.zeros(3, 4, 4))
    assert torch.equal(_translate_draw()(), expected.last_params.shift[0])  # the plain stream


def test_albumentations_adapters_draw_per_worker() -> None:
    """albumentations copies a pipeline's random state into every worker; our transforms mix
    in the worker seed so the workers' moves differ, reproducibly."""
    transform = AlbuTranslate(shift_px=50, p=1.0)
    pipeline = A.Compose([transform], seed=0)
    image = np.zeros((8, 8), dtype=np.uint8)

    def draw() -> torch.Tensor:
        pipeline(image=image)
        return transform.get_applied_params()["shiftaug_params"].shift[0]

    torch.manual_seed(2)
    first = _epoch(draw)
    torch.manual_seed(2)
    assert torch.equal(_epoch(draw), first)
    assert not torch.equal(first[:4], first[4:])
