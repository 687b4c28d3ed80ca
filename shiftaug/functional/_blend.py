"""``blend_images``: put a foreground region onto a background (hard, anti-aliased, feather,
pyramid, Poisson).

Every mode changes pixels only inside the region dilated by :func:`blend_margin`; pixels
farther away are returned bit for bit. Work happens on the tensors' device, batched.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .._checks import check_choice, check_device, check_int, check_real, check_tensor
from ._image import IMAGE_DTYPES

__all__ = ["BLEND_MODES", "blend_images", "blend_margin", "dilate_mask", "halo"]

BLEND_MODES = ("hard", "antialias", "feather", "laplacian", "poisson")
_BINOMIAL = (1.0, 4.0, 6.0, 4.0, 1.0)  # Burt & Adelson's 5-tap generating kernel, /16


def blend_images(
    background: torch.Tensor,
    foreground: torch.Tensor,
    mask: torch.Tensor,
    *,
    mode: str = "hard",
    sigma: float = 1.0,
    levels: int = 3,
    iterations: int = 300,
    decay: float | None = 2.0,
) -> torch.Tensor:
    """Blend ``foreground`` into ``background`` where ``mask`` is set.

    - ``"hard"``: ``where(mask, foreground, background)``; exact copies.
    - ``"antialias"``: the hard copy plus a soft one-pixel halo for masks that stop short of
      the object's soft rim (thresholds, polygons): a pixel next to the mask takes the mean
      colour of its ``k`` neighbours in the mask with opacity ``k / 18`` (about a sixth on a
      straight edge, up to a half in a corner). Pixels in the mask are copied exactly, pixels
      farther than one pixel from it are not touched (see :func:`halo`).
    - ``"feather"``: alpha = the mask blurred by a Gaussian of std ``sigma`` pixels.
    - ``"laplacian"``: Burt-Adelson multi-band blending over ``levels`` pyramid levels:
      low frequencies mix over a wide band, fine detail over a narrow one.
    - ``"poisson"``: gradient-domain (Perez et al. 2003): inside the mask the result keeps the
      foreground's gradients and meets the background on the mask's border. Solved as
      ``foreground + u`` with ``u`` the membrane ``laplacian(u) = u / decay**2`` inside the
      mask (screened Poisson, Bhat et al. 2008) and ``u = background - foreground`` on the
      border, by batched conjugate gradients (at most ``iterations``) on the tensors' device.
      The correction fades over about ``decay`` pixels from the border, so the object keeps
      its colours inside (``decay=None`` is the classic unscreened solve, which shifts the
      whole object's colour towards its new surroundings and lets a bright neighbour bleed
      across it).

    Args:
        background: ``(N, C, H, W)`` images.
        foreground: ``(N, C, H, W)`` images, same dtype and device.
        mask: ``(N, 1, H, W)`` bool: where the foreground goes.
        mode: one of :data:`BLEND_MODES`.
        sigma: Gaussian std in pixels for ``"feather"``.
        levels: pyramid levels for ``"laplacian"`` (fewer on small images).
        iterations: conjugate-gradient iterations for ``"poisson"`` (stops early when converged).
        decay: screening length in pixels for ``"poisson"`` (``None``: unscreened).

    Returns:
        ``(N, C, H, W)`` blended images, same dtype; identical to ``background`` farther than
        :func:`blend_margin` pixels from the mask.

    Shape:
        - background, foreground: ``(N, C, H, W)``
        - mask: ``(N, 1, H, W)``
        - output: ``(N, C, H, W)``

    Example:
        >>> import torch
        >>> from shiftaug.functional import blend_images
        >>> bg, fg = torch.zeros(1, 1, 5, 5), torch.ones(1, 1, 5, 5)
        >>> mask = torch.zeros(1, 1, 5, 5, dtype=torch.bool)
        >>> mask[..., 1:4, 1:4] = True
        >>> blend_images(bg, fg, mask).sum().item()
        9.0
        >>> soft = blend_images(bg, fg, mask, mode="feather", sigma=0.5)
        >>> bool(((soft > 0) & (soft < 1)).any())
        True
    """
    _check_blend_inputs(background, foreground, mask)
    check_choice("mode", mode, BLEND_MODES)
    margin = blend_margin(mode, sigma=sigma, levels=levels)
    check_int("iterations", iterations, low=1)
    if decay is not None:
        decay = check_real("decay", decay, low=0, low_open=True)
    if mode == "hard" or background.numel() == 0:
        return torch.where(mask, foreground, background)
    compute = torch.float64 if background.dtype == torch.float64 else torch.float32
    bg, fg = background.to(compute), foreground.to(compute)
    if mode == "antialias":
        alpha, colour = halo(mask, fg)
        out = torch.lerp(bg, colour, alpha)
    elif mode == "feather":
        alpha = gaussian_blur(mask.to(compute), sigma)
        out = torch.lerp(bg, fg, alpha)
    elif mode == "laplacian":
        out = _pyramid_blend(bg, fg, mask.to(compute), levels)
    else:
        screen = 0.0 if decay is None else 1.0 / decay**2
        out = fg + _harmonic(bg - fg, mask, iterations, screen)
    if not background.dtype.is_floating_point:
        out = out.round_().clamp_(0, 255)
    out = out.to(background.dtype)
    if mode == "antialias":  # exact copies inside, untouched beyond the halo
        out = torch.where(mask, foreground, torch.where(alpha > 0, out, background))
    # Beyond the margin a mode's result equals the background up to rounding: make it exact.
    return torch.where(dilate_mask_(mask, margin), out, background)


def blend_margin(mode: str, *, sigma: float = 1.0, levels: int = 3) -> int:
    """How many pixels beyond the mask ``mode`` may change (0 for ``"hard"`` and
    ``"poisson"``, 1 for ``"antialias"``).

    Example:
        >>> from shiftaug.functional import blend_margin
        >>> blend_margin("hard"), blend_margin("feather", sigma=2.0)
        (0, 6)
    """
    check_choice("mode", mode, BLEND_MODES)
    sigma = check_real("sigma", sigma, low=0, high=64, low_open=True, high_open=True)
    levels = check_int("levels", levels, low=1, high=8)
    if mode == "feather":
        return math.ceil(3 * sigma)
    if mode == "laplacian":
        # Support of the 5-tap kernel (radius 2 at every level) plus the bilinear expansions.
        return 3 * 2**levels + 2
    return 1 if mode == "antialias" else 0


def halo(mask: torch.Tensor, foreground: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The soft edge of mode ``"antialias"``: ``(alpha (N, 1, H, W), colour (N, C, H, W))``.

    A pixel outside the ``(N, 1, H, W)`` bool mask with ``k > 0`` of its 3x3 neighbours (in the
    frame) in the mask gets opacity ``k / 18`` and the mean ``foreground`` colour of those
    neighbours (summed in row-major neighbour order); every other pixel gets opacity 0. The
    compute dtype is ``foreground``'s (float64, else float32).

    Example:
        >>> import torch
        >>> from shiftaug.functional._blend import halo
        >>> m = torch.zeros(1, 1, 3, 4, dtype=torch.bool)
        >>> m[..., :, :2] = True
        >>> alpha, _ = halo(m, torch.ones(1, 1, 3, 4))
        >>> (alpha * 18).round().int()[0, 0].tolist()
        [[0, 0, 2, 0], [0, 0, 3, 0], [0, 0, 2, 0]]
    """
    compute = torch.float64 if foreground.dtype == torch.float64 else torch.float32
    height, width = mask.shape[-2:]
    inside = F.pad(mask.view(torch.uint8), (1, 1, 1, 1)).view(torch.bool)
    values = F.pad(torch.where(mask, foreground.to(compute), 0.0), (1, 1, 1, 1))
    count = torch.zeros(mask.shape, dtype=torch.int64, device=mask.device)
    total = torch.zeros(foreground.shape, dtype=compute, device=mask.device)
    for oy in range(3):
        for ox in range(3):
            count += inside[..., oy : oy + height, ox : ox + width]
            total = total + values[..., oy : oy + height, ox : ox + width]
    alpha = torch.where(mask, 0.0, count.to(compute) / 18)
    return alpha, total / count.clamp(min=1).to(compute)


def dilate_mask(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Dilate ``(N, C, H, W)`` bool masks by a square of half-width ``radius`` pixels.

    Example:
        >>> import torch
        >>> from shiftaug.functional import dilate_mask
        >>> m = torch.zeros(1, 1, 5, 5, dtype=torch.bool)
        >>> m[0, 0, 2, 2] = True
        >>> int(dilate_mask(m, 1).sum())
        9
    """
    check_tensor("mask", mask, ndim=4, layout="(N, C, H, W)", dtypes=(torch.bool,))
    radius = check_int("radius", radius, low=0)
    return dilate_mask_(mask, radius)


def dilate_mask_(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """:func:`dilate_mask` of ``(..., H, W)`` masks without argument checks."""
    if radius <= 0 or mask.numel() == 0:
        return mask
    # A square is a row of 2r + 1 pixels then a column of them, each an OR of shifted bytes:
    # offsets {-k, 0, k} with k = 1, 2, 4, ... grow an interval without gaps, so a radius costs
    # about 2 log2(r) ORs per axis (max_pool2d is several times slower on a CPU).
    grown = mask.reshape(-1, *mask.shape[-2:]).to(torch.uint8)
    for dim in (-1, -2):
        done, step = 0, 1
        while done < radius:
            k = min(step, radius - done)
            length = grown.shape[dim]
            padded = F.pad(grown, (k, k) if dim == -1 else (0, 0, k, k))
            grown = padded.narrow(dim, 0, length) | padded.narrow(dim, k, length)
            grown |= padded.narrow(dim, 2 * k, length)
            done, step = done + k, 2 * step
    return grown.view(torch.bool).view(mask.shape)


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of ``(N, C, H, W)`` float images, zero outside the image."""
    radius = max(1, math.ceil(3 * sigma))
    taps = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    return _separable(x, kernel / kernel.sum(), "zeros")


def _separable(x: torch.Tensor, kernel: torch.Tensor, padding: str) -> torch.Tensor:
    batch, channels, height, width = x.shape
    radius = kernel.numel() // 2
    planes = x.reshape(batch * channels, 1, height, width)
    mode = "constant" if padding == "zeros" else padding
    planes = F.pad(planes, (radius, radius, 0, 0), mode=mode)
    planes = F.conv2d(planes, kernel.view(1, 1, 1, -1))
    planes = F.pad(planes, (0, 0, radius, radius), mode=mode)
    planes = F.conv2d(planes, kernel.view(1, 1, -1, 1))
    return planes.reshape(batch, channels, height, width)


def _reduce(x: torch.Tensor) -> torch.Tensor:
    kernel = torch.tensor(_BINOMIAL, dtype=x.dtype, device=x.device) / 16
    return _separable(x, kernel, "replicate")[..., ::2, ::2]


def _expand(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def _pyramid_blend(
    bg: torch.Tensor, fg: torch.Tensor, alpha: torch.Tensor, levels: int
) -> torch.Tensor:
    """Blend Laplacian pyramids of ``bg`` and ``fg`` with a Gaussian pyramid of ``alpha``."""
    levels = max(1, min(levels, int(math.log2(max(min(bg.shape[-2:]), 2)))))
    # Stack the two images so one pyramid pass serves both.
    stack = torch.cat([bg, fg], 1)
    channels = bg.shape[1]
    gauss, masks = [stack], [alpha]
    for _ in range(levels):
        gauss.append(_reduce(gauss[-1]))
        masks.append(_reduce(masks[-1]))
    top = gauss[-1]
    out = torch.lerp(top[:, :channels], top[:, channels:], masks[-1])
    for level in range(levels - 1, -1, -1):
        size = (gauss[level].shape[-2], gauss[level].shape[-1])
        band = gauss[level] - _expand(gauss[level + 1], size)
        mixed = torch.lerp(band[:, :channels], band[:, channels:], masks[level])
        out = _expand(out, size) + mixed
    return out


def _harmonic(
    boundary: torch.Tensor, mask: torch.Tensor, iterations: int, screen: float = 0.0
) -> torch.Tensor:
    """``u`` with ``laplacian(u) = screen * u`` inside ``mask`` and ``u = boundary`` outside.

    The 5-point Laplacian restricted to the mask (plus ``screen`` on the diagonal) is symmetric
    positive definite; conjugate gradients run on every plane at once, on the union bounding
    box of the masks only.
    """
    if not bool(mask.any()):
        return torch.zeros_like(boundary)
    rows = torch.nonzero(mask.any(-1).any(0).any(0)).flatten()
    cols = torch.nonzero(mask.any(-2).any(0).any(0)).flatten()
    r0, r1 = max(int(rows[0]) - 1, 0), int(rows[-1]) + 2
    c0, c1 = max(int(cols[0]) - 1, 0), int(cols[-1]) + 2
    inside = mask[..., r0:r1, c0:c1].to(boundary.dtype)
    outside = boundary[..., r0:r1, c0:c1] * (1 - inside)
    inside = inside.expand_as(outside)
    degree = _neighbour_sum(torch.ones_like(inside[:1, :1])).expand_as(inside) + screen

    def apply(u: torch.Tensor) -> torch.Tensor:
        return (degree * u - _neighbour_sum(u)) * inside

    rhs = _neighbour_sum(outside) * inside
    u = torch.zeros_like(rhs)
    residual = rhs.clone()
    direction = residual.clone()
    rho = _dot(residual, residual)
    tolerance = 1e-10 * _dot(rhs, rhs).clamp(min=1e-30)
    for step in range(iterations):
        product = apply(direction)
        alpha = rho / _dot(direction, product).clamp(min=1e-30)
        u = u + alpha * direction
        residual = residual - alpha * product
        rho_next = _dot(residual, residual)
        if step % 16 == 15 and bool((rho_next <= tolerance).all()):
            break
        direction = residual + (rho_next / rho.clamp(min=1e-30)) * direction
        rho = rho_next
    full = torch.zeros_like(boundary)
    full[..., r0:r1, c0:c1] = u
    return full


def _neighbour_sum(x: torch.Tensor) -> torch.Tensor:
    """Sum of the 4 neighbours of every pixel (zero outside the image), per plane."""
    padded = F.pad(x, (1, 1, 1, 1))
    return (
        padded[..., :-2, 1:-1]
        + padded[..., 2:, 1:-1]
        + padded[..., 1:-1, :-2]
        + padded[..., 1:-1, 2:]
    )


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a * b).sum((-2, -1), keepdim=True)


def _check_blend_inputs(background: object, foreground: object, mask: object) -> None:
    bg = check_tensor("background", background, ndim=4, layout="(N, C, H, W)", dtypes=IMAGE_DTYPES)
    fg = check_tensor("foreground", foreground, ndim=4, layout="(N, C, H, W)", dtypes=IMAGE_DTYPES)
    if fg.shape != bg.shape or fg.dtype != bg.dtype:
        raise ValueError(
            f"`foreground` must match `background` ({tuple(bg.shape)}, {bg.dtype}), but got "
            f"{tuple(fg.shape)}, {fg.dtype}."
        )
    m = check_tensor("mask", mask, ndim=4, layout="(N, 1, H, W)", dtypes=(torch.bool,))
    expected = (bg.shape[0], 1, *bg.shape[-2:])
    if tuple(m.shape) != expected:
        raise ValueError(f"`mask` must have shape {expected}, but got {tuple(m.shape)}.")
    check_device("foreground", fg, "background", bg.device)
    check_device("mask", m, "background", bg.device)
