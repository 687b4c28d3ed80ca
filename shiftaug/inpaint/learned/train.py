"""The GAN training loop of the learned inpainter, short enough to read in one sitting.

Each step draws a batch of photo crops and holes (seeded by the step, so a resumed run sees
exactly the batches it would have seen), then

1. **critic step**: the patch critic learns to call real crops real, and the generator's
   patches that touch a hole fake (patches of known pixels stay "real": the composite keeps
   them exactly);
2. **generator step**: L1 reconstruction in the hole + non-saturating adversarial loss on the
   hole's patches + feature matching against the critic's features of the real crop.

No pretrained network is involved (nothing can be downloaded). Checkpoints are written every
``checkpoint_every`` steps (atomically, read back with ``weights_only=True``); rerunning the
same command resumes. Under ``torchrun`` every process takes its share of the batch and DDP
averages the gradients; only rank 0 writes.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .config import FREE_KEYS, InpainterConfig
from .data import PhotoSet, folder_photos, skimage_photos
from .holes import default_shapes, sample_holes
from .io import save_inpainter
from .network import FillNet, PatchCritic

__all__ = ["hole_psnr", "train_inpainter"]

CHECKPOINT_FORMAT = "shiftaug.inpainter-train/1"


def hole_psnr(filled: torch.Tensor, truth: torch.Tensor, holes: torch.Tensor) -> float:
    """PSNR (dB, 0-255 scale) over all hole pixels of the batch (images in ``[0, 1]``)."""
    mask = holes.expand_as(truth)
    error = ((filled[mask] - truth[mask]) * 255).double().pow(2).mean().clamp_min(1e-10)
    return float(10 * torch.log10(255**2 / error))


def _sources(
    cfg: InpainterConfig,
) -> tuple[PhotoSet, PhotoSet, list[torch.Tensor], list[torch.Tensor]]:
    """Training and held-out photos, and the silhouettes of each side's object holes."""
    if cfg.data is None:
        train, held = skimage_photos("train"), skimage_photos("eval")
    else:
        train, held = folder_photos(cfg.data, holdout=cfg.holdout, seed=cfg.seed)
    train_shapes = train.shapes or list(default_shapes("train"))
    held_shapes = held.shapes or (train.shapes if cfg.data else list(default_shapes("eval")))
    return train, held, train_shapes, held_shapes


def _batch(
    photos: PhotoSet, shapes: list[torch.Tensor], cfg: InpainterConfig, count: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    crops = photos.crops(count, cfg.size, zoom=(cfg.zoom[0], cfg.zoom[1]), generator=g)
    return crops, sample_holes(count, cfg.size, cfg.holes, shapes=shapes, generator=g)


def _patch_holes(holes: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """1 for critic patches that touch a hole (adaptive max pooling onto the logit grid)."""
    return F.adaptive_max_pool2d(holes.float(), logits.shape[-2:])


def _critic_loss(
    critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, holes: torch.Tensor
) -> torch.Tensor:
    logits, _ = critic(torch.cat([real, fake]))
    real_logits, fake_logits = logits.chunk(2)
    fake_target = _patch_holes(holes, fake_logits)
    fake_loss = F.softplus(fake_logits) * fake_target + F.softplus(-fake_logits) * (1 - fake_target)
    return F.softplus(-real_logits).mean() + fake_loss.mean()


def _generator_loss(
    critic: PatchCritic,
    real: torch.Tensor,
    fake: torch.Tensor,
    holes: torch.Tensor,
    cfg: InpainterConfig,
) -> tuple[torch.Tensor, dict[str, float]]:
    rec, parts = _reconstruction(fake, real, holes, cfg)
    fake_logits, fake_features = critic(fake)
    with torch.no_grad():
        _, real_features = critic(real)
    weight = _patch_holes(holes, fake_logits)
    adv = (F.softplus(-fake_logits) * weight).sum() / weight.sum().clamp_min(1)
    fm = sum(F.l1_loss(f, r) for f, r in zip(fake_features, real_features, strict=True))
    total = rec + cfg.adv_weight * adv + cfg.fm_weight * fm / len(fake_features)
    return total, {**parts, "adv": adv.item()}


def _blocks(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, 4, ceil_mode=True)


def _high_pass(x: torch.Tensor) -> torch.Tensor:
    """``|grey - 3x3 mean of grey|``: the fine texture a smooth fill lacks (luminance only, so
    the loss never pays for colour noise)."""
    grey = x.mean(1, keepdim=True)
    return (grey - F.avg_pool2d(F.pad(grey, (1, 1, 1, 1), mode="reflect"), 3, 1)).abs()


def _hole_l1(a: torch.Tensor, b: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return ((a - b).abs() * weight).sum() / (weight.sum() * a.shape[1]).clamp_min(1)


def _reconstruction(
    fake: torch.Tensor, real: torch.Tensor, holes: torch.Tensor, cfg: InpainterConfig
) -> tuple[torch.Tensor, dict[str, float]]:
    """Pixel L1, block-mean L1 and texture-energy L1, all over the hole.

    The block term pins the fill's low frequencies (what PSNR mostly measures) while the
    per-pixel term can be weighted down so the critic is free to shape the texture inside each
    block; the texture term asks for as much fine detail (4x4 block mean of the high-pass
    magnitude) as the photo has there, without asking for the same pixels.
    """
    h = holes.float()
    block = F.max_pool2d(h, 4, ceil_mode=True)
    rec = _hole_l1(fake, real, h)
    low = _hole_l1(_blocks(fake), _blocks(real), block)
    texture = _hole_l1(_blocks(_high_pass(fake)), _blocks(_high_pass(real)), block)
    total = cfg.rec_weight * rec + cfg.low_weight * low + cfg.texture_weight * texture
    return total, {"rec": rec.item(), "low": low.item(), "texture": texture.item()}


def _resume(path: Path, cfg: InpainterConfig) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a file cut short by a kill, or not ours
        raise ValueError(
            f"`--out` holds an unreadable checkpoint {path}: {error}; delete it."
        ) from None
    saved, now = ckpt.get("config", {}), cfg.to_dict()
    changed = sorted(k for k in now if k not in FREE_KEYS and saved.get(k) != now[k])
    if ckpt.get("format") != CHECKPOINT_FORMAT or changed:
        raise ValueError(
            f"`--out` {path.parent} must hold a run of the same config to resume, but its "
            f"checkpoint differs in {changed or ['format']}; use another --out."
        )
    return ckpt


@torch.no_grad()
def _evaluate(net: FillNet, real: torch.Tensor, holes: torch.Tensor) -> dict[str, float]:
    """PSNR of the generator and of its classical starting fill on the held-out batch."""
    was_training = net.training
    net.eval()
    scores = {"psnr": hole_psnr(net(real, holes), real, holes)}
    scores[f"psnr_{net.config.coarse}"] = hole_psnr(net.coarse(real, holes), real, holes)
    net.train(was_training)
    return scores


def train_inpainter(cfg: InpainterConfig, out: str | Path, *, progress: bool = True) -> Path | None:
    """Train (or resume) a learned inpainter; write ``out/inpainter.<format>``.

    Args:
        cfg: the settings (:func:`~shiftaug.inpaint.learned.load_inpainter_config`).
        out: output folder: ``checkpoint.pt``, ``train_log.json``, the model file.
        progress: show a progress bar.

    Returns:
        The model file's path (``None`` on torchrun ranks other than 0).
    """
    from tqdm.auto import tqdm

    from ...harness.experiment import _setup

    cfg.check()
    out = Path(out)
    d = _setup(cfg.device)
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    if cfg.batch_size % d.world:
        raise ValueError(
            f"`batch_size` must be divisible by the {d.world} processes, but got {cfg.batch_size}."
        )
    train, held, train_shapes, held_shapes = _sources(cfg)
    eval_real, eval_holes = _batch(held, held_shapes, cfg, cfg.eval_images, seed=10**6 + cfg.seed)
    torch.manual_seed(cfg.seed)
    net, critic = FillNet(cfg.net), PatchCritic(cfg.critic_width, cfg.critic_layers)
    betas = (cfg.betas[0], cfg.betas[1])
    opt_g = torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=betas)
    opt_d = torch.optim.Adam(critic.parameters(), lr=cfg.lr, betas=betas)
    ckpt_path = out / "checkpoint.pt"
    ckpt = _resume(ckpt_path, cfg)
    step, history, elapsed = 0, [], 0.0
    if ckpt is not None:
        net.load_state_dict(ckpt["generator"])
        critic.load_state_dict(ckpt["critic"])
        opt_g.load_state_dict(ckpt["opt_g"])
        opt_d.load_state_dict(ckpt["opt_d"])
        step, history, elapsed = ckpt["step"], ckpt["history"], ckpt["train_time_s"]
    net.to(d.device)
    critic.to(d.device)
    g_net: nn.Module = net
    d_net: nn.Module = critic
    if d.world > 1:
        g_net = nn.parallel.DistributedDataParallel(net)
        d_net = nn.parallel.DistributedDataParallel(critic)
    amp = cfg.amp and d.device.type == "cuda"
    share = cfg.batch_size // d.world
    bar = tqdm(
        total=cfg.steps, initial=step, desc="train-inpainter", disable=not progress or d.rank != 0
    )
    start = time.perf_counter()
    while step < cfg.steps:
        # Seeded by (seed, step, rank): a resumed run draws the batches it would have drawn.
        real, holes = _batch(
            train, train_shapes, cfg, share, (cfg.seed * 1_000_003 + step) * 1024 + d.rank
        )
        real, holes = real.to(d.device), holes.to(d.device)
        with torch.autocast(d.device.type, dtype=torch.bfloat16, enabled=amp):
            with torch.no_grad():
                fake = g_net(real, holes)
            d_loss = _critic_loss(d_net, real, fake.float(), holes)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        # The generator step reads the critic without updating it (no power iteration, no grad).
        critic.eval().requires_grad_(False)
        with torch.autocast(d.device.type, dtype=torch.bfloat16, enabled=amp):
            g_loss, parts = _generator_loss(critic, real, g_net(real, holes).float(), holes, cfg)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        critic.train().requires_grad_(True)
        step += 1
        record: dict[str, Any] = {"step": step, "d": d_loss.item(), "g": g_loss.item(), **parts}
        if d.rank == 0 and (step == cfg.steps or (cfg.eval_every and step % cfg.eval_every == 0)):
            record.update(_evaluate(net, eval_real.to(d.device), eval_holes.to(d.device)))
            bar.write(json.dumps({k: round(v, 4) for k, v in record.items()}))
        history.append(record)
        bar.update(1)
        bar.set_postfix(d=f"{record['d']:.3f}", g=f"{record['g']:.3f}", rec=f"{parts['rec']:.4f}")
        if d.rank == 0 and (step % cfg.checkpoint_every == 0 or step == cfg.steps):
            _save_checkpoint(ckpt_path, cfg, step, net, critic, opt_g, opt_d, history,
                             elapsed + time.perf_counter() - start)  # fmt: skip
    bar.close()
    elapsed += time.perf_counter() - start
    if d.world > 1:
        torch.distributed.barrier()
    if d.rank != 0:
        return None
    return _finish(out, cfg, net, history, elapsed, d.world)


def _save_checkpoint(
    path: Path, cfg: InpainterConfig, step: int, net: nn.Module, critic: nn.Module,
    opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer, history: list[dict[str, Any]],
    elapsed: float,
) -> None:  # fmt: skip
    from ...harness.store import atomic_write

    state = {
        "format": CHECKPOINT_FORMAT, "config": cfg.to_dict(), "step": step,
        "generator": net.state_dict(), "critic": critic.state_dict(),
        "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
        "history": history, "train_time_s": elapsed,
    }  # fmt: skip
    atomic_write(path, lambda f: torch.save(state, f))


def _finish(
    out: Path,
    cfg: InpainterConfig,
    net: FillNet,
    history: list[dict[str, Any]],
    elapsed: float,
    world: int,
) -> Path:
    from ...harness.store import write_json

    final = {k: v for k, v in history[-1].items() if k.startswith("psnr")} if history else {}
    info = {
        "preset": cfg.name, "size": cfg.size, "steps": cfg.steps, "batch_size": cfg.batch_size,
        "data": cfg.data or "skimage photos (bottom-right quarters held out)",
        "holes": cfg.holes, "train_time_s": round(elapsed, 1), "processes": world,
        "torch": str(torch.__version__), "held_out": final,
    }  # fmt: skip
    path = save_inpainter(net.cpu(), out / f"inpainter.{cfg.format}", info=info)
    write_json(out / "train_log.json", {"config": cfg.to_dict(), "info": info, "history": history})
    return path
