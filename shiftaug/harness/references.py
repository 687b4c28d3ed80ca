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

# key -> (source, setting and published number); see DESIGN.md "Science".
REFERENCES = {
    "zhang": ("Zhang 2019", "ResNet-18, ImageNet: consistency 85.1% (max-pool) → 88.4% (BlurPool)"),
    "aps": (
        "Chaman & Dokmanic 2021; Rojas-Gomez 2024",
        "APS / polyphase CNNs and ViTs: circular consistency exactly 100%, even untrained",
    ),
    "azulay": (
        "Azulay & Weiss 2019",
        "ImageNet CNNs: ~30% of images change top-1 under a 1-pixel shift",
    ),
    "engstrom": (
        "Engstrom 2019",
        "ResNet-18, ImageNet: natural 71.3%; worst-of-10 shifts 39.9% (standard) vs 54.6% (augmented)",
    ),
    "shifman": (
        "Shifman & Weiss 2024",
        "circular-invariant models still change on ~11% of realistic 1-pixel shifts",
    ),
    "ding": ("Ding 2023", "Twins ViT: 80.57% → 62.40% accuracy under small shifts"),
    "biscione": (
        "Biscione & Bowers 2021; Blything 2021",
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
    vits = [
        m for m in dict.fromkeys(r["model"] for r in runs) if spec_of(runs, m).get("kind") == "vit"
    ]
    models = [m for m in dict.fromkeys(r["model"] for r in runs) if (m, "none") in table]
    ours: dict[str, str] = {}
    if plain and blur:
        a, b = (metric(table, m, "none", "consistency_crop") for m in (plain, blur))
        ours["zhang"] = f"crop consistency {_pct(a)}% ({plain}) → {_pct(b)}% ({blur})"
    if aps:
        init, done = (
            metric(table, aps, "none", k)
            for k in ("consistency_circular_init", "consistency_circular")
        )
        ours["aps"] = f"{aps}: circular consistency {_pct(done)}% trained, {_pct(init)}% untrained"
        ours["shifman"] = (
            f"{aps}: 1-pixel flip rate under crops {_pct(metric(table, aps, 'none', 'flip_rate_1px'))}%"
        )
    flips = [f"{m} {_pct(metric(table, m, 'none', 'flip_rate_1px'))}%" for m in models]
    if flips:
        ours["azulay"] = "1-pixel flip rate: " + ", ".join(flips)
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
                f"{worst}: natural {_pct(acc)}%; worst-of-k {_pct(w0)}% (none) vs {_pct(w1)}% (translate)"
            )
    if vits:
        ours["ding"] = ", ".join(
            f"{m}: {_pct(metric(table, m, 'none', 'accuracy'))}% → {_pct(metric(table, m, 'none', 'worst_of_k'))}% worst-of-k"
            for m in vits
            if (m, "none") in table
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
