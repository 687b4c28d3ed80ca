"""Crash-safe files: atomic writes, safe checkpoint loading, clear errors for corrupt results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from shiftaug.harness.store import (
    ResultsError,
    atomic_write,
    load_checkpoint,
    read_json,
    save_checkpoint,
    write_json,
)


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    write_json(path, {"a": 1})

    def explode(file: object) -> None:
        file.write(b'{"a": ')  # type: ignore[attr-defined]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, explode)
    assert read_json(path) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_json_refuses_nan(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        write_json(tmp_path / "x.json", {"a": float("nan")})


def test_read_json_errors(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match=r"must exist, but it was not found"):
        read_json(tmp_path / "missing.json")
    path = tmp_path / "cut.json"
    path.write_text(json.dumps({"runs": [1, 2, 3]})[:9])
    with pytest.raises(
        ResultsError, match=r"must be the JSON the harness writes, but it is unreadable"
    ):
        read_json(path)


def _checkpoint() -> dict:
    net = torch.nn.Linear(2, 2)
    opt = torch.optim.AdamW(net.parameters())
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    return {
        "model": net.state_dict(),
        "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "state": {"epoch": 1, "losses": [0.5]},
    }


def test_checkpoint_round_trip_with_weights_only(tmp_path: Path) -> None:
    path = tmp_path / "c.pt"
    saved = _checkpoint()
    save_checkpoint(path, saved)
    loaded = load_checkpoint(path)
    assert loaded is not None and loaded["state"] == {"epoch": 1, "losses": [0.5]}
    assert torch.equal(loaded["model"]["weight"], saved["model"]["weight"])
    assert load_checkpoint(tmp_path / "none.pt") is None


def test_truncated_or_foreign_checkpoints_are_dropped_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "c.pt"
    save_checkpoint(path, _checkpoint())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.warns(RuntimeWarning, match=r"c.pt is unreadable .* restarts from scratch"):
        assert load_checkpoint(path) is None
    torch.save({"weights": torch.zeros(1)}, path)
    with pytest.warns(RuntimeWarning, match=r"not a harness checkpoint"):
        assert load_checkpoint(path) is None


class _Evil:
    def __reduce__(self) -> tuple:
        return (print, ("code ran while loading",))


def test_checkpoints_are_never_unpickled_as_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.pt"
    torch.save({**_checkpoint(), "extra": _Evil()}, path)
    with pytest.warns(RuntimeWarning, match=r"unreadable"):
        assert load_checkpoint(path) is None
    assert "code ran" not in capsys.readouterr().out
