"""Training threads picked from the free cores, and an augmentation share robust to load."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from shiftaug.harness.train import TrainState, pick_threads


def test_requested_threads_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert pick_threads(5) == 5
    assert pick_threads(0) == torch.get_num_threads()  # the user's OMP_NUM_THREADS choice


@pytest.mark.skipif(not hasattr(os, "getloadavg"), reason="no load average on this platform")
def test_auto_threads_leave_the_busy_cores_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert cores is not None
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    quiet = pick_threads()
    assert 1 <= quiet <= cores
    monkeypatch.setattr(os, "getloadavg", lambda: (cores + 6.0, 0.0, 0.0))
    assert pick_threads() == 1  # a load of 4-8 on 2 cores: one thread, not two
    monkeypatch.setattr(os, "getloadavg", lambda: (1.0, 0.0, 0.0))
    assert pick_threads() == max(1, quiet - 1)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_auto_threads_follow_the_affinity_mask() -> None:
    code = (
        "import os\n"
        "os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})\n"
        "from shiftaug.harness.train import pick_threads\n"
        "print(pick_threads())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "1"


def test_aug_overhead_is_the_median_share() -> None:
    # one epoch hit by a busy spell (0.9) does not move it; old checkpoints keep the ratio
    assert TrainState(aug_shares=[0.10, 0.90, 0.12]).aug_overhead == 0.12
    assert TrainState(aug_time_s=1.0, step_time_s=4.0).aug_overhead == 0.25
    assert TrainState().aug_overhead == 0.0
