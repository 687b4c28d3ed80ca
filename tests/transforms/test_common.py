"""Checks every public random transform must pass, and the registry that enforces coverage.

To add a transform: add a factory to ``FACTORIES`` returning ``(transform, inputs)``, where
``inputs`` are the positional arguments of one call.
"""

from __future__ import annotations

import inspect
import pickle
from collections.abc import Callable

import pytest
import torch

import shiftaug
from shiftaug import RandomTransform


def _images() -> torch.Tensor:
    return torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(0))


def _masks() -> torch.Tensor:
    masks = torch.zeros(4, 2, 16, 16, dtype=torch.bool)
    masks[:, 0, 2:6, 2:6] = True
    masks[:, 1, 9:14, 8:12] = True
    return masks


FACTORIES: dict[str, Callable[[], tuple[RandomTransform, tuple[object, ...]]]] = {
    "RandomTranslate": lambda: (
        shiftaug.RandomTranslate(shift_px=3, generator=torch.Generator().manual_seed(1)),
        (_images(),),
    ),
    "RandomRelocate": lambda: (
        shiftaug.RandomRelocate("mean", shift_px=3, generator=torch.Generator().manual_seed(1)),
        (_images(), _masks()),
    ),
    "CopyPaste": lambda: (
        shiftaug.CopyPaste(num_objects=1, generator=torch.Generator().manual_seed(1)),
        (_images(), _masks()),
    ),
}


def _first_tensor(result: object) -> torch.Tensor:
    return result if isinstance(result, torch.Tensor) else result[0]  # type: ignore[index]


def test_every_public_transform_is_covered() -> None:
    public = {
        name
        for name in shiftaug.__all__
        if inspect.isclass(getattr(shiftaug, name))
        and issubclass(getattr(shiftaug, name), RandomTransform)
        and getattr(shiftaug, name) is not RandomTransform
    }
    assert public == set(FACTORIES), f"add factories for {public - set(FACTORIES)}"


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_replays_its_params_exactly(name: str) -> None:
    transform, inputs = FACTORIES[name]()
    first = _first_tensor(transform(*inputs))
    again = _first_tensor(transform(*inputs, params=transform.last_params))
    assert torch.equal(first, again)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_pickles_and_keeps_its_randomness(name: str) -> None:
    transform, inputs = FACTORIES[name]()
    clone = pickle.loads(pickle.dumps(transform))
    assert torch.equal(_first_tensor(transform(*inputs)), _first_tensor(clone(*inputs)))


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_never_modifies_its_inputs(name: str) -> None:
    transform, inputs = FACTORIES[name]()
    before = [x.clone() if isinstance(x, torch.Tensor) else x for x in inputs]
    transform(*inputs)
    for old, new in zip(before, inputs, strict=True):
        if isinstance(old, torch.Tensor):
            assert torch.equal(old, new)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_make_params_takes_a_per_call_generator(name: str) -> None:
    transform, inputs = FACTORIES[name]()
    transform(*inputs)
    state = transform.generator.get_state()
    first = _first_tensor(transform(*inputs, params=_draw(transform, inputs, seed=5)))
    again = _first_tensor(transform(*inputs, params=_draw(transform, inputs, seed=5)))
    assert torch.equal(first, again)
    assert torch.equal(transform.generator.get_state(), state)  # module state untouched


def _draw(transform: RandomTransform, inputs: tuple[object, ...], seed: int) -> object:
    generator = torch.Generator().manual_seed(seed)
    if len(inputs) == 1:
        return transform.make_params(inputs[0], generator=generator)
    image, masks = inputs
    valid = torch.ones(masks.shape[:2], dtype=torch.bool)  # type: ignore[union-attr]
    return transform.make_params(image, masks, valid, generator=generator)  # type: ignore[call-arg]
