"""``blend_images``: put a foreground region onto a background (hard, feather, pyramid, Poisson).

Every mode changes pixels only inside the region dilated by :func:`blend_margin`; pixels
farther away are returned bit for bit. Work happens on the tensors' device, batched.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .._checks import check_choice, check_tensor, describe
from ._image import IMAGE_DTYPES

__all__ = ["BLEND_MODES", "blend_images", "blend_margin", "dilate_mask"]

BLEND_MODES = ("hard", "feather", "laplacian", "poisson")
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
) -> torch.Tensor:
    """Blend ``foreground`` into ``background`` where ``mask`` is set.

    - ``"hard"``: ``where(mask, foreground, background)``; exact copies.
    - ``"feather"``: alpha = the mask blurred by a Gaussian of std ``sigma`` pixels.
    - ``"laplacian"``: Burt-Adelson multi-band blending over ``levels`` pyramid levels:
      low frequencies mix over a wide band, fine detail over a narrow one.
    - ``"poisson"``: gradient-domain (Perez et al. 2003): inside the mask the result has the
      foreground's gradients and meets the background on the mask's border. Solved as
      ``foreground + u`` with ``u`` harmonic inside the mask, by batched conjugate gradients
      (at most ``iterations``) on the tensors' device.

    Args:
        background: ``(N, C, H, W)`` images.
        foreground: ``(N, C, H, W)`` images, same dtype and device.
        mask: ``(N, 1, H, W)`` bool: where the foreground goes.
        mode: one of :data:`BLEND_MODES`.
        sigma: Gaussian std in pixels for ``"feather"``.
        levels: pyramid levels for ``"laplacian"`` (fewer on small images).
        iterations: conjugate-gradient iterations for ``"poisson"`` (stops early when converged).

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
    if not isinstance(iterations, int) or isinstance(iterations, bool) or iterations < 1:
        raise ValueError(f"`iterations` must be an int >= 1, but got {describe(iterations)}.")
    if mode == "hard" or background.numel() == 0:
        return torch.where(mask, foreground, background)
    compute = torch.float64 if background.dtype == torch.float64 else torch.float32
    bg, fg = background.to(compute), foreground.to(compute)
    if mode == "feather":
        alpha = gaussian_blur(mask.to(compute), sigma)
        out = torch.lerp(bg, fg, alpha)
    elif mode == "laplacian":
        out = _pyramid_blend(bg, fg, mask.to(compute), levels)
    else:
        out = fg + _harmonic(bg - fg, mask, iterations)
    if not background.dtype.is_floating_point:
        out = out.round_().clamp_(0, 255)
    out = out.to(background.dtype)
    # Beyond the margin a mode's result equals the background up to rounding: make it exact.
    return torch.where(dilate_mask(mask, margin), out, background)


def blend_margin(mode: str, *, sigma: float = 1.0, levels: int = 3) -> int:
    """How many pixels beyond the mask ``mode`` may change (0 for ``"hard"`` and ``"poisson"``).

    Example:
        >>> from shiftaug.functional import blend_margin
        >>> blend_margin("hard"), blend_margin("feather", sigma=2.0)
        (0, 6)
    """
    check_choice("mode", mode, BLEND_MODES)
    if mode == "feather":
        if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not 0 < sigma < 64:
            raise ValueError(f"`sigma` must be a number in (0, 64), but got {describe(sigma)}.")
        return math.ceil(3 * sigma)
    if mode == "laplacian":
        if isinstance(levels, bool) or not isinstance(levels, int) or not 1 <= levels <= 8:
            raise ValueError(f"`levels` must be an int in [1, 8], but got {describe(levels)}.")
        # Support of the 5-tap kernel (radius 2 at every level) plus the bilinear expansions.
        return 3 * 2**levels + 2
    return 0


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
    if radius <= 0:
        return mask
    size = 2 * radius + 1
    pooled = F.max_pool2d(mask.to(torch.float32), size, 1, radius)
    return pooled > 0


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


def _harmonic(boundary: torch.Tensor, mask: torch.Tensor, iterations: int) -> torch.Tensor:
    """``u`` with ``laplacian(u) = 0`` inside ``mask`` and ``u = boundary`` outside.

    The 5-point Laplacian restricted to the mask is symmetric positive definite; conjugate
    gradients run on every plane at once, on the union bounding box of the masks only.
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
    degree = _neighbour_sum(torch.ones_like(inside[:1, :1])).expand_as(inside)

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
