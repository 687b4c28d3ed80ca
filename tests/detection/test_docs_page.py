"""The examples of docs/detection.md run as written, on a COCO-format folder the test writes.

Only ``SIZE`` changes (1024 -> 96) so that the Mask R-CNN step takes seconds on a CPU.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

pytest.importorskip("pycocotools")
pytest.importorskip("torchvision")
from tests.detection.coco import write_coco

# pycocotools 2.0 with NumPy 2 warns on every decode (np.array(copy=False)); not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools")
PAGE = Path(__file__).resolve().parents[2] / "docs" / "detection.md"


@pytest.mark.slow
def test_detection_page_examples_run(tmp_path, monkeypatch) -> None:
    """Six images, two of them without annotations."""
    write_coco(
        tmp_path / "coco", (3, 0, 2, 4, 0, 1), images="train2017",
        annotations="annotations/instances_train2017.json",
    )  # fmt: skip
    monkeypatch.chdir(tmp_path)
    text = PAGE.read_text()
    assert "SIZE = 1024" in text
    blocks = re.findall(r"```python\n(.*?)```", text.replace("SIZE = 1024", "SIZE = 96"), re.DOTALL)
    assert len(blocks) == 2, "docs/detection.md lost an example"
    namespace: dict[str, object] = {}
    for block in blocks:  # they build on each other, like a reader's session
        exec(compile(block, str(PAGE), "exec"), namespace)
    loss = namespace["loss"]
    assert math.isfinite(float(loss.detach()))  # type: ignore[attr-defined]
    images = namespace["images"]
    assert [tuple(image.shape[-2:]) for image in images] == [(96, 96)] * 4  # type: ignore[attr-defined]
