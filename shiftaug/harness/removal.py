"""The removal probe: does an augmentation leave a trace where it removed an object?

An arm that relocates objects (``relocate``, ``relocate_<backend>``) cuts each object out and
fills the hole. If the fill is recognisable, a network can learn "the object *was* here" - the
very position cue relocation should take away. The probe measures it directly:

1. render test objects on their own backgrounds, each at a random position in the left or the
   right half of the canvas (the probe's label is the half);
2. apply the arm, exactly as in training: the object is moved anywhere it fits (uniformly,
   independently of where it was) and the hole is filled;
3. train a small CNN with a fully connected head (which can read absolute position) to predict
   the half on 2/3 of the images; score it on the rest.

Accuracy 50% means no usable trace is left; 100% means the hole always gives the old position
away. The probe depends on the arm and the seed, not on the model being trained, so
:func:`removal_probe` results can be shared by every model of an experiment.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from .arms import make_arm
from .config import ArmConfig, EvalConfig, TrainConfig
from .metrics import predict
from .models import build_model
from .task import Task
from .train import train

__all__ = ["removal_probe"]


def removal_probe(
    arm_name: str,
    arm_cfg: ArmConfig,
    task: Task,
    cfg: EvalConfig,
    *,
    seed: int,
    device: torch.device | str = "cpu",
) -> float | None:
    """Held-out accuracy of a probe telling which half of the canvas the object was removed from.

    Args:
        arm_name: the arm (``None`` is returned for arms that remove nothing).
        arm_cfg: the arms' options.
        task: a canvas task (it needs ``render`` and ``render_masks``).
        cfg: ``removal_images`` images are rendered (2/3 train the probe, 1/3 score it);
            ``removal_epochs`` epochs.
        seed: fixes the images, the arm's draws and the probe's initial weights.
        device: where the probe trains.

    Returns:
        The probe's accuracy (0.5 = chance), or ``None`` if the arm removes no objects or
        ``cfg.removal_images`` is 0.
    """
    device = torch.device(device)
    generator = torch.Generator(device).manual_seed(seed)
    arm = make_arm(arm_name, arm_cfg, task, generator=generator)
    if arm is None or not arm.removes or cfg.removal_images < 1:
        return None
    if task.render is None or task.render_masks is None:
        raise ValueError(f"`task` must be a canvas dataset, but {task.name!r} has no positions.")
    g = torch.Generator().manual_seed(seed)
    n = cfg.removal_images
    index = torch.randint(len(task.test_images), (n,), generator=g)
    half = torch.randint(0, 2, (n,), generator=g)
    # x in the left or the right half (never the middle column), y anywhere.
    side = (task.free + 1) // 2
    x = torch.randint(0, side, (n,), generator=g) + half * (task.free + 1 - side)
    y = torch.randint(0, task.free + 1, (n,), generator=g)
    positions = torch.stack([x, y], 1)
    images, _ = task.render(index, positions)
    masks = task.render_masks(index, positions)
    with torch.no_grad():
        moved = torch.cat([
            arm(images[i : i + 256].to(device), masks[i : i + 256].to(device)).cpu()
            for i in range(0, n, 256)
        ])  # fmt: skip
    split = 2 * n // 3
    probe_task = Task(
        f"removal-{arm_name}", moved[:split], half[:split], None, moved[split:], half[split:],
        margin=0, num_classes=2,
    )  # fmt: skip
    torch.manual_seed(seed)
    model = build_model(
        "cnn_flat", in_channels=task.channels, num_classes=2, image_size=task.image_size
    ).to(device)
    tcfg = replace(TrainConfig(), epochs=cfg.removal_epochs, batch_size=min(32, split))
    train(model, probe_task, None, tcfg, seed=seed, device=device, progress=False)
    logits = predict(model, probe_task.test_images, batch_size=cfg.batch_size)
    return (logits.argmax(1) == probe_task.test_labels).float().mean().item()
