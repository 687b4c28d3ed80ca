r"""Shift-invariance metrics for any classifier ``f: (N, C, H, W) -> (N, classes)`` logits.

All shifts are exact integer shifts by :func:`shiftaug.functional.translate_image` (``+dx``
moves content right, ``+dy`` down). Each metric takes a ``mode``:

- ``"circular"``: the image is rolled (``torch.roll``); nothing leaves or enters the frame.
- ``"crop"``: the images carry ``margin`` pixels of real context on every side and the model
  sees the centre window moved against the content, i.e. a crop of a larger scene (Zhang 2019).
  Needs ``margin >= max_shift``.
- any other :data:`~shiftaug.functional.PADDING_MODES` name (``"zeros"``, ``"reflect"``, ...):
  the view is shifted and the uncovered border padded.

Definitions (``T_d`` shifts by ``d``, ``ŷ(x) = argmax_k f(x)_k``, ``p = softmax f``):

$$\text{consistency} = P_{x, a, b}\big[\hat y(T_a x) = \hat y(T_b x)\big],\quad a, b \sim U\{-S..S\}^2$$

$$\text{flip rate} = P_{x, d}\big[\hat y(T_d x) \ne \hat y(T_{d + (1, 1)} x)\big],\qquad
\text{MAC} = E_{x, d}\,\big|p_k(T_d x) - p_k(T_{d + (1, 1)} x)\big|,\ k = \hat y(T_d x)$$

$$\text{worst-of-}k = P_x\big[\hat y(T_{d_i} x) = y\ \ \forall i \le k\big],\quad d_i \sim U\{-S..S\}^2$$

$$\text{invariance index}_\ell = \overline{\cos}\big(\phi_\ell(o, q), \phi_\ell(o, q')\big)
- \overline{\cos}\big(\phi_\ell(o, q), \phi_\ell(o', q)\big)$$

where ``phi_l(o, q)`` is the flattened output of layer ``l`` for object ``o`` at position
``q``: positive when the layer represents *what* more than *where*. The last layer is the
decision layer (the logits).

$$\text{equivariance error}_\ell = \frac{\lVert \phi_\ell(T_d x) - T_{d/s_\ell}\,\phi_\ell(x) \rVert}{\lVert T_{d/s_\ell}\,\phi_\ell(x) \rVert}$$

over the positions both maps cover, for shifts ``d`` that are multiples of the layer's stride
``s_l``; for vector outputs (pooled features, logits) it is an *invariance* error.

Logit-level check for untrained networks (which usually predict one class for every image, so
that consistency is 100% for free): the largest ``|f(roll_d x) - f(x)|`` over every circular
shift ``d``, next to the spread of ``f`` over images.

Modules: :mod:`.shift` (shifts of the whole view), :mod:`.features` (per layer),
:mod:`.scenes` (objects redrawn at positions, pairs, stretches), :mod:`.rotation`.
"""

from .features import capture, equivariance_error, invariance_index
from .rotation import accuracy_vs_angle, rotate_images, rotation_consistency
from .scenes import mean_se, pair_accuracy, position_accuracy, position_hits, stretch_accuracy
from .shift import (
    accuracy_vs_shift,
    consistency,
    flip_rate,
    max_logit_change,
    predict,
    shift_images,
    worst_of_k,
    worst_over_shifts,
)

__all__ = [
    "accuracy_vs_angle",
    "accuracy_vs_shift",
    "capture",
    "consistency",
    "equivariance_error",
    "flip_rate",
    "invariance_index",
    "max_logit_change",
    "mean_se",
    "pair_accuracy",
    "position_accuracy",
    "position_hits",
    "predict",
    "rotate_images",
    "rotation_consistency",
    "shift_images",
    "stretch_accuracy",
    "worst_of_k",
    "worst_over_shifts",
]
