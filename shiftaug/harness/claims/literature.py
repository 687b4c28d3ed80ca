"""Published numbers next to which ours are shown, each with its exact source.

Only numbers read in the source itself are quoted (paper + table/row, or abstract); where a
paper gives no number comparable to ours, the row says what it reports in words.
"""

from __future__ import annotations

__all__ = ["LITERATURE"]

LITERATURE: dict[str, str] = {
    "conv": (
        "Kayhan & van Gemert 2020 (CVPR, 'On translation invariance in CNNs'): zero padding lets "
        "CNNs exploit absolute position; Biscione & Bowers 2021 (JMLR): CNNs are not invariant to "
        "translation but can learn to be. Neither gives a per-layer equivariance error."
    ),
    "pooling": (
        "Zhang 2019, antialiased-cnns README §4 'Results', ResNet18 table (ImageNet): consistency "
        "85.11 (baseline, max-pool) → 87.51 (Tri-3) → 88.25 (Bin-5); accuracy 69.74 → 71.69 → "
        "71.38. Chaman & Dokmanic 2021 (CVPR, abstract): APS gives 100% consistency under "
        "(circular) shifts, even before training."
    ),
    "kernel": "No published number on kernel size vs shift consistency is quoted here.",
    "augment": (
        "Engstrom et al. 2019, MadryLab/spatial-pytorch README 'Benchmarks' (ResNet-18, ImageNet, "
        "rotations ±30° with translations ±24 px): worst-of-10 accuracy 39.9% (standard training) "
        "vs 54.6% (data augmentation 30°/24 px); natural 71.3% vs 68.9%."
    ),
    "region": (
        "Biscione & Bowers 2021 (JMLR): CNNs trained at one location fail at unseen locations "
        "unless trained with translated objects (no single comparable number quoted)."
    ),
    "rotation": (
        "Engstrom et al. 2019 (same table): rotations and translations together cut ResNet-18 "
        "accuracy from 71.3% to 39.9% (worst of 10); rotation alone is not reported there."
    ),
    "vit": (
        "Ding et al. 2023 (arXiv 2306.07470, abstract): Twins' accuracy drops from 80.57% to "
        "62.40% when images are shifted by a few pixels (ImageNet)."
    ),
    "stn": (
        "Jaderberg et al. 2015 (NeurIPS, 'Spatial transformer networks'): the localisation net "
        "learns to centre and normalise distorted digits (no predicted-vs-true shift figure)."
    ),
    "gcnn": (
        "Cohen & Welling 2016 (ICML, abstract): p4 G-CNNs are equivariant to 90° rotations by "
        "construction and reach state-of-the-art results on rotated MNIST."
    ),
    "placement": (
        "No published number: issue 11 notes that whether moving the object beats moving the "
        "frame has not been published."
    ),
    "limits": "No published number quoted (the article names these limitations in words).",
    "probe": (
        "Kayhan & van Gemert 2020 (CVPR): full convolution is their remedy for the absolute "
        "position that zero padding leaks (no number on our probe)."
    ),
    "aps_realistic": (
        "Shifman & Weiss 2024 (arXiv 2404.07153, abstract): models built to be invariant to "
        "cyclic shifts are still fooled by 1-pixel realistic (non-cyclic) translations 11% of the "
        "time; Chaman & Dokmanic 2021 (abstract): APS is 100% consistent under circular shifts. "
        "Azulay & Weiss 2019, as summarised by Chaman & Dokmanic 2021 §1: a CNN's output changes "
        "with probability 30% under a one-pixel shift (ImageNet)."
    ),
}
