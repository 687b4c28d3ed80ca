"""``shiftaug demo``: write the translation gallery and print the speed headline.

The first command of the README: it runs on a fresh machine with no downloads (the photo ships
with scikit-image) and finishes in seconds. Everything heavy is imported inside :func:`run` so
that ``shiftaug --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["GALLERY_NAME", "add_arguments", "run"]

GALLERY_NAME = "translate_gallery.png"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the demo's options on its subparser."""
    parser.add_argument(
        "--out", type=Path, default=Path("runs/demo"),
        help=f"folder for {GALLERY_NAME} (created if missing; default: runs/demo)",
    )  # fmt: skip
    parser.add_argument(
        "--no-bench", action="store_true", help="skip the in-process speed measurement"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the per-sample shifts and the timing data"
    )


def run(args: argparse.Namespace) -> int:
    """Write ``<out>/translate_gallery.png``; unless ``--no-bench``, print the speed headline.

    Returns:
        0 on success; 1 when the ``plots`` extra is missing; 2 when ``--out`` is not a folder.
    """
    out: Path = args.out
    if out.exists() and not out.is_dir():
        print(f"shiftaug demo: `--out` must be a folder, but got the file {str(out)!r}.",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        import matplotlib  # noqa: F401
        import skimage.data  # noqa: F401
    except ImportError as error:
        missing = (error.name or "matplotlib").split(".")[0]
        print(
            f"shiftaug demo: drawing the gallery needs {missing!r}, which is not installed. "
            "Install the plots extra: pip install 'shiftaug[plots]' (or run with the "
            "packages matplotlib and scikit-image installed).",
            file=sys.stderr,
        )
        return 1
    from ._viz import render_gallery

    path = render_gallery(out / GALLERY_NAME, seed=args.seed)
    print(f"wrote {path}: one photo under every padding mode, a batch with a shift per sample "
          "and sub-pixel close-ups; the mask and box move with the image.")  # fmt: skip
    if not args.no_bench:
        from ._speed import speed_headline

        print()
        print("\n".join(speed_headline(seed=args.seed).lines()))
    return 0
