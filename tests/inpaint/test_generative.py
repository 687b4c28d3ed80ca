"""Generative adapters, run offline on real but tiny, randomly initialised diffusers models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from shiftaug.inpaint import DiffusersInpainter, RePaintInpainter, get_inpainter, load_pipeline

diffusers = pytest.importorskip("diffusers")


def _unet(size: int = 16, channels: int = 3) -> object:
    torch.manual_seed(0)
    return diffusers.UNet2DModel(
        sample_size=size,
        in_channels=channels,
        out_channels=channels,
        layers_per_block=1,
        block_out_channels=(4, 8),
        down_block_types=("DownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "UpBlock2D"),
        norm_num_groups=4,
    )


def _repaint(unet: object, seed: int = 0, **options: object) -> RePaintInpainter:
    options = {"num_inference_steps": 2, "jump_length": 1, "jump_n_sample": 1, **options}
    return RePaintInpainter(unet, generator=torch.Generator().manual_seed(seed), **options)


def _batch(n: int = 2, size: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    images = torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(1))
    holes = torch.zeros(n, 1, size, size, dtype=torch.bool)
    holes[0, 0, 3:9, 4:12] = True
    holes[-1, 0, 8:, :5] = True
    return images, holes


def test_repaint_runs_the_real_pipeline_with_the_keep_mask() -> None:
    images, holes = _batch()
    unet = _unet()
    fill = _repaint(unet)
    # The raw model output: RePaint pastes the known pixels back at every step, ending with the
    # clean image (t = 0), so the pixels we marked "keep" come back unchanged and the hole is
    # generated. An inverted mask convention would fail both checks.
    raw = fill._run(images, holes)
    keep = ~holes.expand_as(images)
    torch.testing.assert_close(raw[keep], images[keep], atol=1e-5, rtol=0)
    assert (raw[~keep] - images[~keep]).abs().mean() > 0.05
    out = _repaint(unet)(images, holes)  # same seed, so the same generated pixels
    assert torch.equal(out[keep], images[keep]) and torch.equal(out[~keep], raw[~keep])


def test_repaint_seeding_dtype_resizing_and_grey_images() -> None:
    unet = _unet()
    images, holes = _batch(n=3, size=24)  # resized to the model's 16 x 16 and back
    out_a = _repaint(unet, seed=5)(images, holes)
    assert torch.equal(out_a, _repaint(unet, seed=5)(images, holes))
    assert not torch.equal(out_a, _repaint(unet, seed=6)(images, holes))
    uint8 = (images * 255).round().to(torch.uint8)
    out = _repaint(unet, batch_size=2)(uint8, holes)  # two pipeline calls
    keep = ~holes.expand_as(images)
    assert out.dtype == torch.uint8 and torch.equal(out[keep], uint8[keep])
    grey = _repaint(unet)(images[:, :1], holes)
    assert grey.shape == (3, 1, 24, 24)
    assert torch.equal(grey[~holes], images[:, :1][~holes])


def test_repaint_from_ddpm_pipeline_local_path_and_generative_name(tmp_path: Path) -> None:
    unet = _unet()
    ddpm = diffusers.DDPMPipeline(unet=unet, scheduler=diffusers.DDPMScheduler(beta_end=0.03))
    ddpm.save_pretrained(tmp_path / "ddpm")
    unet.save_pretrained(tmp_path / "unet")
    images, holes = _batch()
    reference = _repaint(ddpm)(images, holes)
    assert _repaint(ddpm).pipeline.scheduler.config.beta_end == 0.03  # the DDPM's betas
    for source in (tmp_path / "ddpm", str(tmp_path / "ddpm")):
        fill = get_inpainter(
            "generative",
            pipeline=source,
            num_inference_steps=2,
            jump_length=1,
            jump_n_sample=1,
            generator=torch.Generator().manual_seed(0),
        )
        assert isinstance(fill, RePaintInpainter)
        torch.testing.assert_close(fill(images, holes), reference)
    assert isinstance(load_pipeline(tmp_path / "unet"), diffusers.UNet2DModel)
    assert isinstance(get_inpainter("generative", pipeline=unet), RePaintInpainter)


def build_sd_pipeline(folder: Path, *, unet_channels: int = 9, unet_seed: int = 0) -> object:
    """A real StableDiffusionInpaintPipeline with tiny random weights and a 56-token vocabulary.

    ``unet_channels=9`` is a dedicated inpainting UNet (latents + mask + masked-image latents);
    4 is a plain text-to-image UNet, for which the pipeline pastes the known latents back at
    every step.
    """
    transformers = pytest.importorskip("transformers")
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for char in "abcdefghijklmnopqrstuvwxyz ":
        vocab[char] = len(vocab)
        vocab[char + "</w>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = transformers.CLIPTokenizer(
        str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=8
    )
    torch.manual_seed(0)
    text_encoder = transformers.CLIPTextModel(
        transformers.CLIPTextConfig(
            vocab_size=len(vocab),
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            max_position_embeddings=8,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
        )
    )
    vae = diffusers.AutoencoderKL(
        block_out_channels=(8, 16),
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=16,
        mid_block_add_attention=False,  # keeps the decoder local (see the mask test)
    )
    torch.manual_seed(unet_seed)
    unet = diffusers.UNet2DConditionModel(
        sample_size=8,
        in_channels=unet_channels,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(16, 32),
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16,
        attention_head_dim=2,
        norm_num_groups=8,
    )
    pipeline = diffusers.StableDiffusionInpaintPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=diffusers.DDIMScheduler(steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


@pytest.fixture(scope="module")
def sd_pipeline(tmp_path_factory: pytest.TempPathFactory) -> object:
    return build_sd_pipeline(tmp_path_factory.mktemp("tokenizer"))


def _sd(pipeline: object, seed: int = 0, **options: object) -> DiffusersInpainter:
    options = {"num_inference_steps": 2, "guidance_scale": 1.0, **options}
    return DiffusersInpainter(pipeline, generator=torch.Generator().manual_seed(seed), **options)


def test_stable_diffusion_pipeline_through_the_adapter(sd_pipeline: object) -> None:
    images, holes = _batch(n=3, size=20)  # resized to the native 16 x 16 (8 latents x 2) and back
    fill = _sd(sd_pipeline, prompt="a cat")
    assert fill.size == (16, 16)
    out = fill(images, holes)
    keep = ~holes.expand_as(images)
    assert out.shape == images.shape and torch.equal(out[keep], images[keep])
    assert (out[~keep] - images[~keep]).abs().mean() > 0.01  # generated, not copied
    assert torch.equal(out, _sd(sd_pipeline, prompt="a cat")(images, holes))
    assert not torch.equal(out, _sd(sd_pipeline, seed=1, prompt="a cat")(images, holes))
    uint8 = (images * 255).to(torch.uint8)
    guided = _sd(sd_pipeline, guidance_scale=2.0, negative_prompt="dog", size=8, batch_size=2)
    out8 = guided(uint8, holes)
    assert out8.dtype == torch.uint8 and torch.equal(out8[keep], uint8[keep])


def test_stable_diffusion_repaints_exactly_the_holes(tmp_path: Path) -> None:
    # With a plain 4-channel UNet the pipeline pastes the encoded image back into the latents
    # wherever its mask says "keep" (0), and only the UNet paints where the mask is 1. Two
    # different UNets, same seed: the raw outputs must differ inside our holes and agree far
    # from them (the VAE decoder is local). An inverted mask would show the opposite.
    images = torch.rand(1, 3, 48, 48, generator=torch.Generator().manual_seed(1))
    holes = torch.zeros(1, 1, 48, 48, dtype=torch.bool)
    holes[..., 4:16, 4:16] = True
    raw = []
    for seed in (0, 1):
        (tmp_path / str(seed)).mkdir()
        pipeline = build_sd_pipeline(tmp_path / str(seed), unet_channels=4, unet_seed=seed)
        raw.append(_sd(pipeline, size=48)._run(images, holes))
    difference = (raw[0] - raw[1]).abs()
    inside, far = difference[..., 4:16, 4:16].mean(), difference[..., 32:, 32:].mean()
    assert inside > 0.05 and far < inside / 10


def test_stable_diffusion_from_local_path_and_generative_name(
    sd_pipeline: object, tmp_path: Path
) -> None:
    sd_pipeline.save_pretrained(tmp_path / "sd")  # type: ignore[attr-defined]
    images, holes = _batch(n=1, size=16)
    fill = get_inpainter(
        "generative",
        pipeline=tmp_path / "sd",
        num_inference_steps=2,
        guidance_scale=1.0,
        generator=torch.Generator().manual_seed(0),
    )
    assert isinstance(fill, DiffusersInpainter)
    torch.testing.assert_close(fill(images, holes), _sd(sd_pipeline)(images, holes))


def test_generative_errors() -> None:
    images, holes = _batch(n=1)
    with pytest.raises(ValueError, match=r"`pipeline` must be a pipeline object or a local dir"):
        get_inpainter("generative", pipeline="someone/some-model")
    with pytest.raises(TypeError, match=r"`pipeline` must be a RePaintPipeline, a pipeline"):
        RePaintInpainter(object())
    with pytest.raises(TypeError, match=r"`pipeline` must be a diffusers inpainting pipeline"):
        DiffusersInpainter(lambda x: x)
    with pytest.raises(TypeError, match=r"`generator` must be a torch.Generator or None"):
        RePaintInpainter(_unet(), generator=0)
    with pytest.raises(ValueError, match=r"`size` must be an int or \(H, W\) of ints > 0"):
        RePaintInpainter(_unet(), size=(8, 0))
    with pytest.raises(ValueError, match=r"`eta` must be a float in \[0, 1\], but got 2"):
        RePaintInpainter(_unet(), eta=2)
    with pytest.raises(ValueError, match=r"`images` must have 1 channels \(or 1\)"):
        _repaint(_unet(channels=1))(images, holes)
    with pytest.raises(ValueError, match=r"`holes` must have shape \(1, 1, 16, 16\)"):
        _repaint(_unet())(images, holes[..., :8])
