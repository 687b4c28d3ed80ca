"""Independent references for the adapters' targets (plain slicing and ``torch.roll``)."""

from __future__ import annotations

import torch

from tests.references import slice_shift


def rule_mask(
    mask: torch.Tensor, shift: torch.Tensor, padding_mode: str, fill: int = 0
) -> torch.Tensor:
    """Masks under the shared mask-padding rule: vacated pixels take ``fill`` whatever the
    image's ``padding_mode``, except ``circular``, where they wrap (``torch.roll``).

    ``mask`` is ``(H, W)``-trailing; ``shift`` is ``(2,)`` for all of it or ``(N, 2)`` for its
    first dimension; shifts are rounded half to even as the kernels round them.
    """
    shift = torch.as_tensor(shift).reshape(-1, 2).round().long()
    if shift.shape[0] > 1:
        return torch.stack(
            [rule_mask(m, s, padding_mode, fill) for m, s in zip(mask, shift, strict=True)]
        )
    dx, dy = (int(v) for v in shift[0])
    if padding_mode == "circular":
        return torch.roll(mask, (dy, dx), (-2, -1))
    covered = slice_shift(torch.ones_like(mask, dtype=torch.bool), dx, dy)
    return torch.where(covered, slice_shift(mask, dx, dy), torch.tensor(fill, dtype=mask.dtype))
