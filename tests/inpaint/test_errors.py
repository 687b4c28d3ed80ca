"""Bad inputs and options: clear TypeError/ValueError, inputs left untouched."""

from __future__ import annotations

import pytest
import torch

from shiftaug.inpaint import get_inpainter, inpaint
from tests.inpaint.test_backends import BACKENDS


def _ok() -> tuple[torch.Tensor, torch.Tensor]:
    images = torch.rand(2, 3, 8, 8)
    holes = torch.zeros(2, 1, 8, 8, dtype=torch.bool)
    holes[..., 2:4, 2:5] = True
    return images, holes


BAD_INPUTS = [
    (lambda i, h: (i.numpy(), h), TypeError, r"`images` must be a torch.Tensor"),
    (lambda i, h: (i, h.numpy()), TypeError, r"`holes` must be a torch.Tensor"),
    (lambda i, h: (i[0], h[0]), ValueError, r"`images` must have shape \(N, C, H, W\)"),
    (lambda i, h: (i, h[:, :, :4]), ValueError, r"`holes` must have shape \(2, 1, 8, 8\)"),
    (lambda i, h: (i, h.expand(2, 3, 8, 8)), ValueError, r"`holes` must have shape"),
    (lambda i, h: (i, h.float()), TypeError, r"`holes` must be a bool tensor"),
    (lambda i, h: (i, h[:1]), ValueError, r"but got \(1, 1, 8, 8\)"),
    (lambda i, h: ((i * 9).int(), h), TypeError, r"`images` must have dtype in \(uint8"),
]


@pytest.mark.parametrize("name", sorted(BACKENDS))
@pytest.mark.parametrize(("corrupt", "error", "match"), BAD_INPUTS)
def test_bad_inputs(name: str, corrupt, error, match) -> None:  # type: ignore[no-untyped-def]
    images, holes = _ok()
    bad_images, bad_holes = corrupt(images, holes)
    snapshot = images.clone()
    with pytest.raises(error, match=match):
        get_inpainter(name, **BACKENDS[name])(bad_images, bad_holes)
    assert torch.equal(images, snapshot)


@pytest.mark.cuda
def test_holes_on_another_device() -> None:
    images, holes = _ok()
    with pytest.raises(ValueError, match=r"`holes` must be on the images' device"):
        inpaint(images.cuda(), holes)


def test_unknown_backend_and_options_to_a_ready_object() -> None:
    images, holes = _ok()
    with pytest.raises(ValueError, match=r"`inpainter` must be one of \('blur', .*but got 'nope'"):
        inpaint(images, holes, "nope")
    with pytest.raises(ValueError, match=r"Options \['cycles'\] can only be given with a backend"):
        get_inpainter(get_inpainter("harmonic"), cycles=3)
    with pytest.raises(TypeError, match=r"`inpainter` must be a backend name or a callable"):
        get_inpainter(3)
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'radius'"):
        get_inpainter("harmonic", radius=3)
    with pytest.raises(TypeError, match=r"missing the argument `inpainter`"):
        get_inpainter()


def test_the_old_argument_name_still_works_with_a_warning() -> None:
    images, holes = _ok()
    with pytest.warns(FutureWarning, match=r"`backend=` is deprecated"):
        old = inpaint(images, holes, backend="pull_push")
    assert torch.equal(old, inpaint(images, holes, "pull_push"))
    with pytest.raises(TypeError, match=r"Give the backend once"):
        get_inpainter("harmonic", backend="harmonic")


def test_register_checks_its_arguments() -> None:
    from shiftaug.inpaint import register_inpainter

    with pytest.raises(TypeError, match=r"`name` must be a non-empty str, but got 3"):
        register_inpainter(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"named 'harmonic' is already registered"):
        register_inpainter("harmonic")(lambda: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match=r"`factory` must be callable, but got 3"):
        register_inpainter("a-name-nobody-uses")(3)  # type: ignore[type-var]


BAD_OPTIONS = [
    ("harmonic", {"cycles": -1}, ValueError, r"`cycles` must be an int >= 0, but got -1"),
    ("harmonic", {"cycles": 1.5}, TypeError, r"`cycles` must be an int >= 0"),
    ("harmonic", {"sweeps": 0}, ValueError, r"`sweeps` must be an int >= 1, but got 0"),
    ("telea", {"radius": 0}, ValueError, r"`radius` must be a positive number, but got 0"),
    ("navier_stokes", {"radius": "3"}, TypeError, r"`radius` must be a positive number"),
    ("blur", {"sigma": float("nan")}, ValueError, r"`sigma` must be a positive number"),
    ("constant", {"value": "red"}, TypeError, r"`value` must be a number or a sequence of"),
    ("constant", {"value": [1, None]}, TypeError, r"`value` must be a finite number or a seq"),
    ("constant", {"value": float("inf")}, ValueError, r"`value` must be finite, but got inf"),
    ("constant", {"value": ()}, TypeError, r"`value` must be a number or a sequence"),
]


@pytest.mark.parametrize(("name", "options", "error", "match"), BAD_OPTIONS)
def test_bad_options(name: str, options: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        get_inpainter(name, **options)


def test_opencv_method_must_be_known() -> None:
    from shiftaug.inpaint import OpenCVInpainter

    with pytest.raises(ValueError, match=r"`method` must be one of \('telea', 'navier_stokes'\)"):
        OpenCVInpainter("fast")


def test_constant_value_must_match_channels_and_range() -> None:
    images, holes = _ok()
    with pytest.raises(ValueError, match=r"`value` must have 1 or 3 entries .* but got 2"):
        inpaint(images, holes, "constant", value=(1, 2))
    with pytest.raises(ValueError, match=r"`value` must be in \[0, 255\] for uint8 images"):
        inpaint((images * 255).byte(), holes, "constant", value=300)
