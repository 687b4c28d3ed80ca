"""Crash-safe files: atomic writes, safe checkpoint loading, clear errors for corrupt results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from shiftaug.harness.store import (
    FolderLock,
    FolderLockedError,
    ResultsError,
    atomic_write,
    load_checkpoint,
    read_json,
    remove_stale_temporaries,
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


def _dead_pid() -> int:
    """The id of a process that has exited (a real one, not a guess)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_temporaries_of_killed_writers_are_removed_by_the_next_write(tmp_path: Path) -> None:
    dead = tmp_path / f".plot.png.{_dead_pid()}.abcd1234.tmp"
    old_style = tmp_path / ".plot.png.k2j3h4g5.tmp"  # written before temporaries named a pid
    alive = tmp_path / ".plot.png.1.abcd1234.tmp"  # pid 1 always runs
    other = tmp_path / f".other.png.{_dead_pid()}.abcd1234.tmp"
    for path in (dead, old_style, alive, other):
        path.write_bytes(b"half a png")
    atomic_write(tmp_path / "plot.png", lambda f: f.write(b"png"))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [alive.name, other.name, "plot.png"]
    )
    assert remove_stale_temporaries(tmp_path) == [other]


def test_a_failed_write_names_the_file(tmp_path: Path) -> None:
    # A file size limit makes the operating system refuse the write, as a full disk does.
    code = (
        "import resource, signal, sys, torch\n"
        "from shiftaug.harness.store import save_checkpoint\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))\n"
        "save_checkpoint(sys.argv[1], {'w': torch.zeros(10_000)})\n"
    )
    target = tmp_path / "checkpoint.pt"
    result = subprocess.run(
        [sys.executable, "-c", code, str(target)], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert f"OSError: [Errno 27] File too large: '{target}'" in result.stderr
    assert list(tmp_path.iterdir()) == []  # no temporary left behind


def test_folder_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    with FolderLock(tmp_path):
        code = (
            "import sys\n"
            "from shiftaug.harness.store import FolderLock\n"
            "FolderLock(sys.argv[1]).__enter__()\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True
        )
        assert "FolderLockedError" in result.stderr and "must not be in use" in result.stderr
        with pytest.raises(FolderLockedError, match=rf"\(pid {os.getpid()} on "):
            FolderLock(tmp_path).__enter__()
    with FolderLock(tmp_path):  # released on exit
        pass


def test_a_killed_holder_leaves_no_lock(tmp_path: Path) -> None:
    code = (
        "import os, sys, time\n"
        "from shiftaug.harness.store import FolderLock\n"
        "FolderLock(sys.argv[1]).__enter__()\n"
        "print('locked', flush=True)\n"
        "time.sleep(60)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    with pytest.raises(FolderLockedError, match=rf"pid {holder.pid} on"):
        FolderLock(tmp_path).__enter__()
    holder.kill()
    holder.wait()
    assert f"pid {holder.pid}" in (tmp_path / ".shiftaug.lock").read_text()  # the file stays
    with FolderLock(tmp_path):  # ... but it is no lock
        assert str(os.getpid()) in (tmp_path / ".shiftaug.lock").read_text()
