"""Published numbers on shift invariance, each next to the closest number of our own runs.

The published settings (ImageNet, ResNet-18, ...) differ from ours (small canvases, small
models), so a row shows a direction to compare, not a number to match. Our side is picked
from the runs by model spec: the max-pool CNN with a global-average-pooling head, its
BlurPool twin, the APS model, the ViTs, each trained without augmentation unless stated.
"""

from __future__ import annotations

from typing import Any

__all__ = ["REFERENCES", "Table", "metric", "reference_rows", "spec_of"]

Table = dict[tuple[str, str], dict[str, Any]]

# key -> (source with table/row, setting and published number). Every number was read in the
# source named; see also shiftaug/harness/claims/literature.py.
REFERENCES = {
    "zhang": (
        "Zhang 2019; antialiased-cnns README §4 'Results', ResNet18 table",
        "ResNet-18, ImageNet: consistency 85.11% (baseline, max-pool) → 87.51% (Tri-3) and "
        "88.25% (Bin-5); under random crops of the image",
    ),
    "aps": (
        "Chaman & Dokmanic 2021 (abstract); Rojas-Gomez et al. 2024 (abstract)",
        "APS CNNs and adaptive ViTs: 100% consistency under circular shifts, even untrained",
    ),
    "azulay": (
        "Azulay & Weiss 2019, as summarised in Chaman & Dokmanic 2021 §1",
        "ImageNet CNNs: the output changes with probability 30% under a one-pixel shift",
    ),
    "engstrom": (
        "Engstrom et al. 2019; MadryLab/spatial-pytorch README 'Benchmarks'",
        "ResNet-18, ImageNet, rotations ±30° and translations ±24 px together: natural 71.3%; "
        "worst-of-10 39.9% (standard) vs 54.6% (augmented)",
    ),
    "shifman": (
        "Shifman & Weiss 2024 (abstract)",
        "models built invariant to cyclic shifts are fooled by 11% of realistic (camera) "
        "1-pixel translations",
    ),
    "ding": (
        "Ding et al. 2023 (abstract)",
        "Twins ViT, ImageNet: 80.57% → 62.40% accuracy when shifted by a few pixels",
    ),
    "biscione": (
        "Biscione & Bowers 2021; Blything et al. 2021",
        "CNNs trained at one location fail at unseen locations unless trained with translation",
    ),
}


def spec_of(runs: list[dict[str, Any]], model: str) -> dict[str, Any]:
    """The resolved model spec recorded with ``model``'s runs (empty if none was recorded)."""
    return next((r.get("model_spec") or {} for r in runs if r["model"] == model), {})


def metric(table: Table, model: str, arm: str, key: str) -> float | None:
    """Mean over seeds of ``key`` for ``(model, arm)``, or ``None``."""
    cell = table.get((model, arm), {}).get(key)
    return None if cell is None else cell[0]


def _find(runs: list[dict[str, Any]], table: Table, **want: Any) -> str | None:
    """The first model trained without augmentation whose spec matches ``want``."""
    defaults = {"pool": "max", "padding": "zeros", "head": "gap"}
    for model in dict.fromkeys(r["model"] for r in runs):
        spec = spec_of(runs, model)
        if (model, "none") in table and all(
            spec.get(k, defaults.get(k)) == v for k, v in want.items()
        ):
            return model
    return None


def _pct(value: float | None, signed: bool = False) -> str:
    return "–" if value is None else (f"{100 * value:+.1f}" if signed else f"{100 * value:.1f}")


def _ours(runs: list[dict[str, Any]], table: Table) -> dict[str, str]:
    plain = _find(runs, table, kind="cnn", pool="max", head="gap", padding="zeros")
    blur = _find(runs, table, kind="cnn", pool="blur", head="gap")
    aps = _find(runs, table, kind="cnn", pool="aps", padding="circular")
    names = list(dict.fromkeys(r["model"] for r in runs))
    vits = [m for m in names if spec_of(runs, m).get("kind") == "vit" and (m, "none") in table]
    models = [m for m in names if (m, "none") in table]
    ours: dict[str, str] = {}
    if plain and blur:
        a, b = (metric(table, m, "none", "consistency_crop") for m in (plain, blur))
        ours["zhang"] = f"crop consistency {_pct(a)}% ({plain}) → {_pct(b)}% ({blur}, Tri-3 filter)"
    if aps:
        change, spread, done = (
            metric(table, aps, "none", k)
            for k in ("logit_change_init", "logit_spread_init", "consistency_circular")
        )
        ours["aps"] = (
            f"{aps}: circular consistency {_pct(done)}% trained; untrained, the logits change by at "
            f"most {change or 0:.1e} over every circular shift (spread {spread or 0:.2f})"
        )
    flips = [f"{m} {_pct(metric(table, m, 'none', 'flip_rate_1px'))}%" for m in models]
    if flips:
        ours["azulay"] = "1-pixel flip rate (crops of the scene): " + ", ".join(flips)
    background = (
        ((runs[0].get("config") or {}).get("data") or {}).get("background") if runs else None
    )
    if aps and background == "texture":
        ours["shifman"] = (
            f"{aps}: 1-pixel flips under crops of a textured scene {_pct(metric(table, aps, 'none', 'flip_rate_1px'))}%"
        )
    elif aps:
        ours["shifman"] = (
            "– (a crop of a black canvas equals a roll: see the claims suite's `texture` part)"
        )
    gaps = {m: metric(table, m, "none", "position_gap") for m in models}
    known = {m: g for m, g in gaps.items() if g is not None}
    if known:
        ours["biscione"] = "position gap (seen − unseen): " + ", ".join(
            f"{m} {_pct(g, signed=True)}" for m, g in known.items()
        )
        worst = max(known, key=lambda m: known[m])
        if (worst, "translate") in table:
            acc, w0, w1 = (
                metric(table, worst, "none", "accuracy"),
                metric(table, worst, "none", "worst_of_k"),
                metric(table, worst, "translate", "worst_of_k"),
            )
            ours["engstrom"] = (
                f"{worst}, translations only: natural {_pct(acc)}%; worst-of-k {_pct(w0)}% (none) "
                f"vs {_pct(w1)}% (translate)"
            )
    if vits:
        ours["ding"] = ", ".join(
            f"{m}: {_pct(metric(table, m, 'none', 'accuracy'))}% → "
            f"{_pct(metric(table, m, 'none', 'small_shift_accuracy'))}% under the worst shift within ±2 px"
            for m in vits
        )
    return ours


def reference_rows(runs: list[dict[str, Any]], table: Table) -> list[str]:
    """Markdown table: source | published | ours.

    Example:
        >>> from shiftaug.harness.references import reference_rows
        >>> rows = reference_rows([], {})
        >>> rows[0], len(rows)
        ('| source | published | ours |', 9)
    """
    ours = _ours(runs, table)
    lines = ["| source | published | ours |", "|---|---|---|"]
    lines += [
        f"| {src} | {text} | {ours.get(key, '–')} |" for key, (src, text) in REFERENCES.items()
    ]
    return lines
