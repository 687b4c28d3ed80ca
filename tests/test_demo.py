"""``shiftaug demo``: the README's first command."""

from __future__ import annotations

import sys

import pytest

from shiftaug.cli import main

pytest.importorskip("matplotlib")
pytest.importorskip("skimage")


def test_demo_writes_the_gallery_and_prints_the_headline(tmp_path, capsys) -> None:
    import matplotlib.image

    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--seed", "1"]) == 0
    picture = matplotlib.image.imread(out / "translate_gallery.png")
    assert picture.shape[0] > 500 and picture.shape[1] > 1000 and picture.std() > 0.1
    printed = capsys.readouterr().out
    assert "translate_gallery.png" in printed
    for name in ("shiftaug RandomTranslate", "DrQ-v2", "kornia RandomAffine", "x the speed"):
        assert name in printed


def test_demo_without_the_plots_extra_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    assert main(["demo", "--out", str(tmp_path / "demo"), "--no-bench"]) == 1
    captured = capsys.readouterr()
    assert "pip install 'shiftaug[plots]'" in captured.err and "Traceback" not in captured.err
    assert not (tmp_path / "demo").exists()


def test_demo_refuses_a_file_as_out(tmp_path, capsys) -> None:
    target = tmp_path / "taken.png"
    target.write_bytes(b"keep me")
    assert main(["demo", "--out", str(target), "--no-bench"]) == 2
    assert "`--out` must be a folder, but got the file" in capsys.readouterr().err
    assert target.read_bytes() == b"keep me"


def test_demo_rejects_a_non_integer_seed(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--seed", "one"])
    assert "invalid int value: 'one'" in capsys.readouterr().err
