"""The shared Binding mechanism, the import hook, and the registry of adapter classes."""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

import pytest
import torch

from shiftaug import TranslateParams, _import_hooks
from shiftaug.adapters import (
    albumentations,
    kornia,
    placement_albumentations,
    placement_torchvision,
    torchvision,
)
from shiftaug.adapters._common import Binding, TranslateBinding, run_after_import
from shiftaug.functional import (
    PADDING_MODES,
    translate_boxes,
    translate_image,
    translate_keypoints,
    translate_mask,
)
from tests.checkers import assert_same_bits

# Every adapter class, per framework base. A new transform's adapters go here (the registry
# test below fails until they do) and into the framework's conformance suite
# (tests/conformance/), whose own list is checked against this one.
ADAPTERS = {
    "torchvision": (
        torchvision.ShiftaugTransform,
        {torchvision.RandomTranslate, placement_torchvision.RandomRelocate,
         placement_torchvision.CopyPaste},
    ),
    "albumentations": (
        albumentations.ShiftaugDualTransform,
        {albumentations.RandomTranslate, placement_albumentations.RandomRelocate,
         placement_albumentations.CopyPaste},
    ),
    "kornia": (kornia.ShiftaugAugmentation, {kornia.RandomTranslate}),
}  # fmt: skip
ADAPTER_MODULES = [
    torchvision, placement_torchvision, albumentations, placement_albumentations, kornia,
]  # fmt: skip


@pytest.mark.parametrize("framework", list(ADAPTERS))
def test_every_adapter_class_is_listed(framework: str) -> None:
    base, listed = ADAPTERS[framework]
    found = {
        value
        for module in ADAPTER_MODULES
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, base)
        and value.__module__ == module.__name__  # defined there (bases live in private modules)
        and value is not base
        and not value.__name__.startswith("_")
    }
    assert found == listed


@pytest.mark.parametrize("framework", list(ADAPTERS))
def test_every_adapter_runs_the_conformance_checks(framework: str) -> None:
    suite = importlib.import_module(f"tests.conformance.test_{framework}")
    assert ADAPTERS[framework][1] == suite.ADAPTER_CLASSES


def test_translate_binding_applies_one_draw_to_every_target() -> None:
    binding = TranslateBinding.build(shift_px=3, padding_mode="constant", fill=2.0, mask_fill=9)
    params = binding.draw(4, (8, 10))
    shift = params.shift
    image = torch.rand(4, 3, 8, 10)
    assert torch.equal(
        binding.image(image, params),
        translate_image(image, shift, padding_mode="constant", fill=2.0),
    )
    mask = torch.randint(0, 3, (4, 2, 8, 10), dtype=torch.uint8)
    expected = translate_mask(mask, shift, padding_mode="constant", fill=9)
    assert torch.equal(binding.mask(mask, params), expected)
    assert torch.equal(binding.mask(mask.float(), params), expected.float())  # float labels too
    boxes = torch.tensor([[1.0, 1.0, 5.0, 6.0]]).repeat(4, 1, 1)
    moved, visible = binding.boxes(boxes, params, canvas_size=(8, 10), clip=False)
    reference = translate_boxes(boxes, shift, canvas_size=(8, 10), clip=False)
    assert torch.equal(moved, reference[0]) and torch.equal(visible, reference[1])
    points = torch.rand(4, 2, 3, 2) * 8  # extra leading dims follow the first one
    moved, _ = binding.keypoints(points, params, canvas_size=(8, 10))
    assert torch.equal(moved, translate_keypoints(points, shift[:, None], canvas_size=(8, 10))[0])
    inverse = binding.invert(params)
    assert torch.equal(inverse.shift, -shift)


@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float16, torch.bfloat16, torch.float32])
def test_the_host_slicing_path_equals_the_kernel(mode: str, dtype: torch.dtype) -> None:
    fill = (3.0, 2.0) if mode == "constant" else 0.0
    binding = TranslateBinding.build(shift_px=3, padding_mode=mode, fill=fill)
    image = (torch.rand(2, 5, 7) * 200).to(dtype)  # one (C, H, W) image
    for shift in ([0, 0], [2, -1], [-9, 4], [30, -25]):  # up to far beyond the image
        params = TranslateParams(
            torch.tensor([shift], dtype=torch.float32), torch.ones(1, dtype=torch.bool), (5, 7)
        )
        expected = translate_image(image, shift, padding_mode=mode, fill=fill)
        assert_same_bits(binding.image(image, params), expected)
        clip = image.expand(3, 2, 5, 7)  # a clip of one sample: frames share the shift
        assert_same_bits(binding.image(clip, params), expected.expand(3, 2, 5, 7))


def test_one_sample_applies_to_a_target_of_any_shape() -> None:
    binding = TranslateBinding.build(shift_px=2)
    params = binding.draw(1, (6, 6))
    clip = torch.rand(5, 3, 6, 6)  # five frames of one sample share its shift
    assert torch.equal(binding.image(clip, params), translate_image(clip, params.shift[0]))
    with pytest.raises(ValueError, match="batch's 2 samples as its first dimension"):
        binding.image(torch.rand(3, 6, 6), binding.draw(2, (6, 6)))
    with pytest.raises(TypeError, match="`mask` must be a torch.Tensor"):
        binding.mask([[0]], params)  # type: ignore[arg-type]


def test_draw_uses_a_given_generator_and_leaves_the_core_alone() -> None:
    binding = TranslateBinding.build(shift_px=5)
    first = binding.draw(6, (8, 8), generator=torch.Generator().manual_seed(3))
    again = binding.draw(6, (8, 8), generator=torch.Generator().manual_seed(3))
    assert torch.equal(first.shift, again.shift) and binding.core.generator is None


def test_params_round_trip_through_a_flat_dict() -> None:
    binding = TranslateBinding.build(shift_px=5)
    params = binding.draw(3, (8, 8))
    tensors = binding.to_tensors(params)
    assert set(tensors) == {"shift", "applied"}
    assert binding.from_tensors(tensors, (8, 8)) == params
    with pytest.raises(ValueError, match=r"\['applied'\] are missing"):
        binding.from_tensors({"shift": params.shift}, (8, 8))


def test_a_binding_needs_its_own_core_and_the_base_is_abstract() -> None:
    with pytest.raises(TypeError, match="`core` must be a RandomTranslate"):
        TranslateBinding(torch.nn.Identity())  # type: ignore[arg-type]
    base = Binding.__new__(Binding)
    with pytest.raises(NotImplementedError):
        base.image(torch.zeros(3, 2, 2), None)


def test_run_after_import_runs_now_or_right_after_the_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    run_after_import("torch", lambda: calls.append("now"))
    assert calls == ["now"]
    (tmp_path / "shiftaug_probe_module.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    run_after_import(
        "shiftaug_probe_module", lambda: calls.append(sys.modules["shiftaug_probe_module"].VALUE)
    )
    assert calls == ["now"]
    module = importlib.import_module("shiftaug_probe_module")
    assert calls == ["now", 1]
    assert type(module.__loader__).__name__ != "_RunAfter"  # the real loader is restored
    assert not any(isinstance(f, _import_hooks._RunAfter) for f in sys.meta_path)
    monkeypatch.delitem(sys.modules, "shiftaug_probe_module")


def test_a_failing_registration_warns_instead_of_breaking_the_import() -> None:
    def fail() -> None:
        raise ImportError("boom")

    with pytest.warns(UserWarning, match="could not register its torch adapter"):
        run_after_import("torch", fail)
