"""Backends against independent references: a sparse direct Laplace solve, OpenCV itself."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.linalg
import torch

from shiftaug.inpaint import HarmonicInpainter, OpenCVInpainter, harmonic_fill, pull_push_fill

cv2 = pytest.importorskip("cv2")


def exact_harmonic(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Solve ``u = mean of 4 neighbours`` on the hole exactly (scipy), edges mirrored.

    ``image`` ``(C, H, W)`` float64, ``hole`` ``(H, W)`` bool; pixels outside the hole are the
    Dirichlet data, a neighbour outside the image is the pixel itself (zero normal derivative).
    """
    height, width = hole.shape
    index = -np.ones(hole.shape, dtype=np.int64)
    points = np.argwhere(hole)
    index[hole] = np.arange(len(points))
    matrix = scipy.sparse.lil_matrix((len(points), len(points)))
    rhs = np.zeros((len(points), image.shape[0]))
    for n, (i, j) in enumerate(points):
        matrix[n, n] += 1.0
        for a, b in ((i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)):
            a, b = min(max(a, 0), height - 1), min(max(b, 0), width - 1)
            if hole[a, b]:
                matrix[n, index[a, b]] -= 0.25
            else:
                rhs[n] += 0.25 * image[:, a, b]
    solution = scipy.sparse.linalg.spsolve(matrix.tocsc(), rhs)
    out = image.copy()
    out[:, hole] = solution.reshape(len(points), -1).T
    return out


def _photo_and_holes() -> tuple[torch.Tensor, torch.Tensor]:
    import skimage.data

    photo = skimage.data.astronaut()[60:108, 170:218]  # 48 x 48 crop (face and helmet edge)
    images = torch.from_numpy(np.ascontiguousarray(photo.transpose(2, 0, 1))).double()[None]
    images = images.repeat(3, 1, 1, 1)
    holes = torch.zeros(3, 1, 48, 48, dtype=torch.bool)
    holes[0, 0, 10:31, 13:29] = True  # rectangle, odd offsets
    yy, xx = torch.meshgrid(torch.arange(48), torch.arange(48), indexing="ij")
    holes[1, 0] = (yy - 24) ** 2 / 200 + (xx - 20) ** 2 / 60 < 1  # ellipse
    holes[2, 0, 30:, :9] = True  # touching two image edges
    holes[2, 0, 5:9, 30:45] = True
    return images, holes


@pytest.fixture(scope="module")
def case() -> tuple[torch.Tensor, torch.Tensor, list[np.ndarray]]:
    images, holes = _photo_and_holes()
    exact = [exact_harmonic(images[i].numpy(), holes[i, 0].numpy()) for i in range(len(images))]
    return images, holes, exact


Case = tuple[torch.Tensor, torch.Tensor, list[np.ndarray]]


def test_harmonic_converges_to_the_exact_solution(case: Case) -> None:
    images, holes, exact = case
    errors: dict[int, list[float]] = {cycles: [] for cycles in (1, 2, 6)}
    for cycles in errors:
        filled = harmonic_fill(images, holes, cycles=cycles, sweeps=2)
        for i in range(images.shape[0]):
            errors[cycles].append(float(np.abs(filled[i].numpy() - exact[i]).max()))
    # Grey levels (0-255): each V-cycle cuts the error ~5x; 6 cycles are within 0.05 everywhere.
    assert max(errors[6]) < 0.05
    assert max(errors[2]) < 2 and all(
        e6 < e2 < e1 for e1, e2, e6 in zip(errors[1], errors[2], errors[6], strict=True)
    )


def test_harmonic_backend_on_uint8_rounds_the_exact_solution(case: Case) -> None:
    images, holes, exact = case
    out = HarmonicInpainter(cycles=8, sweeps=2)(images.to(torch.uint8), holes)
    for i in range(images.shape[0]):
        assert np.abs(out[i].numpy().astype(np.float64) - exact[i]).max() <= 0.5 + 1e-3


def test_pull_push_starts_the_harmonic_solve(case: Case) -> None:
    images, holes, exact = case
    start = pull_push_fill(images, holes)
    assert torch.equal(harmonic_fill(images, holes, cycles=0), start)
    one_cycle = harmonic_fill(images, holes, cycles=1)
    for i in range(images.shape[0]):
        error0 = np.abs(start[i].numpy() - exact[i]).max()
        assert np.abs(one_cycle[i].numpy() - exact[i]).max() < error0


@pytest.mark.parametrize("method", ["telea", "navier_stokes"])
def test_opencv_backend_equals_cv2_inpaint_per_image(method: str) -> None:
    images, holes = _photo_and_holes()
    flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
    uint8 = images.to(torch.uint8)
    out = OpenCVInpainter(method, radius=4)(uint8, holes)
    out_float = OpenCVInpainter(method, radius=4)(uint8.float() / 255, holes)
    # OpenCV reads under holes that touch the border: the backend puts the pull-push fill of
    # the known pixels there first (the protocol ignores the hole's content).
    guess = pull_push_fill(uint8.float(), holes).round().clamp(0, 255).to(torch.uint8)
    given = torch.where(holes, guess, uint8)
    for i in range(images.shape[0]):
        photo = np.ascontiguousarray(given[i].permute(1, 2, 0).numpy())
        mask = holes[i, 0].numpy().astype(np.uint8)
        expected = cv2.inpaint(photo, mask, 4, flag)
        np.testing.assert_array_equal(out[i].permute(1, 2, 0).numpy(), expected)
        # Float images are filled channel by channel by OpenCV's float32 path, with the known
        # values stretched onto [0, 255] (on [0, 1] OpenCV's Telea is broken), as documented.
        inside = holes[i, 0].numpy()
        float_guess = torch.where(holes, pull_push_fill(uint8.float() / 255, holes), uint8 / 255)
        for c in range(3):
            plane = float_guess[i, c].numpy().astype(np.float64)
            low, high = plane[~inside].min(), plane[~inside].max()
            stretched = ((plane - low) * 255 / (high - low)).astype(np.float32)
            reference = low + cv2.inpaint(stretched, mask, 4, flag) * (high - low) / 255
            difference = np.abs(out_float[i, c].numpy() - reference)[inside]
            assert difference.max() < 1e-5, difference.max()
            assert reference[inside].min() >= low - 1e-6 and reference[inside].max() <= high + 1e-6
        known = out_float[i][:, ~inside]
        assert out_float[i][:, inside].min() >= known.min() - 1e-6
        assert out_float[i][:, inside].max() <= known.max() + 1e-6


@pytest.mark.parametrize("method", ["telea", "navier_stokes"])
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_opencv_fill_ignores_what_is_under_the_hole(method: str, dtype: torch.dtype) -> None:
    images, holes = _photo_and_holes()  # image 2's holes touch the border
    base = images.to(torch.uint8) if dtype == torch.uint8 else images.float() / 255
    top = 255 if dtype == torch.uint8 else 1.0
    dark, bright = torch.where(holes, 0, base), torch.where(holes, top, base)
    fill = OpenCVInpainter(method)
    assert torch.equal(fill(dark, holes), fill(bright, holes))
    everything = torch.ones_like(holes)  # nothing known: filled with 0, as the torch backends do
    assert torch.equal(fill(base, everything), torch.zeros_like(base))
