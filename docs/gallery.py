"""Regenerate the gallery picture of ``docs/gallery.md``.

    python docs/gallery.py          # writes docs/img/translate_gallery.png

The drawing code lives in :mod:`shiftaug._viz`, shared with ``shiftaug demo`` so that the
picture in the docs is exactly what a user's first command writes.
"""

from __future__ import annotations

from pathlib import Path

from shiftaug._viz import render_gallery

IMAGE = Path(__file__).resolve().parent / "img" / "translate_gallery.png"


def main() -> None:
    print(f"wrote {render_gallery(IMAGE, seed=0)}")


if __name__ == "__main__":
    main()
