"""Adapters that run diffusers inpainting pipelines a user has locally (extra ``generative``).

Two families:

- **RePaint** (Lugmayr et al., CVPR 2022) over any unconditional ``UNet2DModel`` (a DDPM
  checkpoint): :class:`RePaintInpainter`.
- **Stable-Diffusion-style** inpainting pipelines, anything ``AutoPipelineForInpainting``
  returns (``StableDiffusionInpaintPipeline``, SDXL, ...): :class:`DiffusersInpainter`.

Nothing is ever downloaded: a pipeline is passed ready-made or loaded from a local directory
with ``local_files_only=True``. ``diffusers`` is imported on first use only.
"""

from __future__ import annotations

import inspect
import os
import warnings
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from .._checks import describe
from ._base import register_inpainter
from ._common import check_positive_int, composite, prepare

__all__ = ["DiffusersInpainter", "RePaintInpainter", "generative", "load_pipeline"]


def _diffusers() -> Any:
    try:
        import diffusers
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "The generative backends need diffusers: pip install 'shiftaug[generative]'."
        ) from error
    return diffusers


def load_pipeline(path: str | os.PathLike[str]) -> Any:
    """Load a diffusers pipeline or a bare ``UNet2DModel`` from a local directory, offline.

    A directory with ``model_index.json`` is loaded with ``DiffusionPipeline.from_pretrained``;
    one with just a model ``config.json`` as a ``UNet2DModel``. Both use
    ``local_files_only=True``: a Hub id that is not a local directory is an error, not a download.
    """
    root = Path(path)
    if not root.is_dir():
        raise ValueError(
            f"`pipeline` must be a pipeline object or a local directory, but got {str(path)!r} "
            "(shiftaug never downloads checkpoints)."
        )
    diffusers = _diffusers()
    if (root / "model_index.json").is_file():
        return diffusers.DiffusionPipeline.from_pretrained(root, local_files_only=True)
    if (root / "config.json").is_file():
        return diffusers.UNet2DModel.from_pretrained(root, local_files_only=True)
    raise ValueError(
        f"`pipeline` must be a directory holding model_index.json or config.json, but got "
        f"{str(path)!r}."
    )


def _size(value: Any, name: str = "size") -> tuple[int, int]:
    size = (value, value) if isinstance(value, int) else tuple(value)
    if len(size) != 2 or not all(isinstance(s, int) and s > 0 for s in size):
        raise ValueError(f"`{name}` must be an int or (H, W) of ints > 0, but got {value!r}.")
    return size


def _resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(x.shape[-2:]) == size:
        return x
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)


class _PipelineInpainter:
    """Shared logic: scale to [0, 1], resize to the model's size, run in chunks, composite.

    Float images are taken to be in ``[0, 1]`` (clamped), uint8 in ``[0, 255]``.
    """

    channels: int
    size: tuple[int, int]

    def __init__(self, generator: torch.Generator | None, batch_size: int | None) -> None:
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(
                f"`generator` must be a torch.Generator or None, but got {describe(generator)}."
            )
        self.generator = generator
        self.batch_size = (
            None if batch_size is None else check_positive_int("batch_size", batch_size)
        )

    def _run(self, images: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
        """``(n, channels, *size)`` float in [0, 1] and hole masks -> the same, on any device."""
        raise NotImplementedError

    def __call__(self, images: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
        images, holes = prepare(images, holes)
        channels = images.shape[1]
        if channels not in (1, self.channels):
            raise ValueError(
                f"`images` must have {self.channels} channels (or 1) for this model, but got "
                f"shape {tuple(images.shape)}."
            )
        if images.shape[0] == 0:
            return images.clone()
        unit = images.float() / 255 if images.dtype == torch.uint8 else images.float().clamp(0, 1)
        unit = unit.expand(-1, self.channels, -1, -1)
        small = _resize(unit, self.size)
        # Any coverage by a hole makes a model pixel a hole, so everything the hole touches is
        # generated rather than copied from a resized (smeared) copy of the removed object.
        small_holes = _resize(holes.float(), self.size) > 0
        step = self.batch_size or images.shape[0]
        outputs = [
            self._run(small[i : i + step], small_holes[i : i + step]).to(images.device)
            for i in range(0, images.shape[0], step)
        ]
        filled = _resize(torch.cat(outputs).float(), tuple(images.shape[-2:]))  # type: ignore[arg-type]
        if channels == 1 and self.channels != 1:
            filled = filled.mean(1, keepdim=True)
        return composite(images, holes, filled * 255 if images.dtype == torch.uint8 else filled)


def _takes_mask(pipeline: Any) -> bool:
    """Whether ``pipeline`` is called like an inpainting pipeline (``image=``, ``mask_image=``)."""
    try:
        parameters = inspect.signature(pipeline).parameters
    except (TypeError, ValueError):
        return False
    return "image" in parameters and "mask_image" in parameters


def _unconditional_unet(pipeline: Any) -> Any:
    """The ``UNet2DModel`` behind ``pipeline`` (itself, or its ``unet``), else ``None``."""
    unet_class = _diffusers().UNet2DModel
    if isinstance(pipeline, unet_class):
        return pipeline
    unet = getattr(pipeline, "unet", None)
    return unet if isinstance(unet, unet_class) else None


def _as_repaint(pipeline: Any) -> Any:
    """A ``RePaintPipeline`` from a RePaint pipeline, a DDPM-style pipeline or a ``UNet2DModel``."""
    if isinstance(pipeline, (str, os.PathLike)):
        pipeline = load_pipeline(pipeline)
    diffusers = _diffusers()
    if isinstance(pipeline, diffusers.RePaintPipeline):
        return pipeline
    unet = _unconditional_unet(pipeline)
    if unet is None:
        raise TypeError(
            "`pipeline` must be a RePaintPipeline, a pipeline with an unconditional UNet2DModel "
            f"(e.g. DDPMPipeline), a UNet2DModel or a local path, but got {describe(pipeline)}."
        )
    scheduler = getattr(pipeline, "scheduler", None)
    config = dict(scheduler.config) if scheduler is not None else {}
    known = set(inspect.signature(diffusers.RePaintScheduler.__init__).parameters)
    repaint = diffusers.RePaintPipeline(
        unet=unet,
        scheduler=diffusers.RePaintScheduler(**{k: v for k, v in config.items() if k in known}),
    )
    repaint.set_progress_bar_config(disable=True)
    return repaint


@register_inpainter("repaint")
class RePaintInpainter(_PipelineInpainter):
    """RePaint (Lugmayr et al. 2022): inpainting with any unconditional diffusion ``UNet2DModel``.

    Images are resized to the model's ``sample_size``, scaled to ``[-1, 1]`` and passed with
    RePaint's mask convention (1 = keep, so the hole is ``~holes``); the result is resized back
    and composited, so pixels outside the holes are untouched.

    Args:
        pipeline: a ``RePaintPipeline``, any pipeline with a ``UNet2DModel`` as ``unet`` (its
            scheduler's betas are reused), a bare ``UNet2DModel``, or a local directory holding
            one of these (loaded with ``local_files_only=True``).
        num_inference_steps: diffusion steps (the paper uses 250).
        jump_length: RePaint's jump length ``j`` (steps forward before resampling back).
        jump_n_sample: RePaint's resampling count ``r``.
        eta: DDIM (0) to DDPM (1) noise weight.
        size: model input size ``S`` or ``(H, W)``; defaults to the UNet's ``sample_size``.
        generator: random source for the diffusion noise (seed it for reproducible fills).
        batch_size: images per pipeline call (all at once by default).

    Shape:
        ``images`` ``(N, C, H, W)`` with ``C`` the UNet's channels (or 1), float in ``[0, 1]``
        or uint8; ``holes`` ``(N, 1, H, W)`` bool -> ``(N, C, H, W)`` in ``images``' dtype.

    Example:
        >>> import torch
        >>> from diffusers import UNet2DModel
        >>> from shiftaug.inpaint import RePaintInpainter
        >>> unet = UNet2DModel(sample_size=8, in_channels=3, out_channels=3, layers_per_block=1,
        ...     block_out_channels=(8, 8), down_block_types=("DownBlock2D",) * 2,
        ...     up_block_types=("UpBlock2D",) * 2, norm_num_groups=4)
        >>> fill = RePaintInpainter(unet, num_inference_steps=2, jump_length=1, jump_n_sample=1,
        ...     generator=torch.Generator().manual_seed(0))
        >>> images, holes = torch.rand(2, 3, 8, 8), torch.zeros(2, 1, 8, 8, dtype=torch.bool)
        >>> holes[..., 2:5, 2:5] = True
        >>> out = fill(images, holes)
        >>> bool((out == images)[~holes.expand_as(out)].all())
        True
    """

    def __init__(
        self,
        pipeline: Any,
        *,
        num_inference_steps: int = 250,
        jump_length: int = 10,
        jump_n_sample: int = 10,
        eta: float = 0.0,
        size: int | tuple[int, int] | None = None,
        generator: torch.Generator | None = None,
        batch_size: int | None = None,
    ) -> None:
        super().__init__(generator, batch_size)
        self.pipeline = _as_repaint(pipeline)
        config = self.pipeline.unet.config
        self.channels = int(config.in_channels)
        self.size = _size(config.sample_size if size is None else size)
        self.num_inference_steps = check_positive_int("num_inference_steps", num_inference_steps)
        self.jump_length = check_positive_int("jump_length", jump_length)
        self.jump_n_sample = check_positive_int("jump_n_sample", jump_n_sample)
        if isinstance(eta, bool) or not isinstance(eta, (int, float)) or not 0 <= eta <= 1:
            raise ValueError(f"`eta` must be a float in [0, 1], but got {describe(eta)}.")
        self.eta = float(eta)

    def _run(self, images: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
        pipe = self.pipeline
        device, dtype = pipe.device, pipe.unet.dtype
        with warnings.catch_warnings():
            # RePaintPipeline warns about its own (internal) preprocessing helper on every call.
            warnings.filterwarnings("ignore", message=".*preprocess method is deprecated.*")
            result = pipe(
                image=(images * 2 - 1).to(device, dtype),
                mask_image=(~holes).to(device, dtype),  # RePaint: 1 = known pixel
                num_inference_steps=self.num_inference_steps,
                eta=self.eta,
                jump_length=self.jump_length,
                jump_n_sample=self.jump_n_sample,
                generator=self.generator,
                output_type="np",
            )
        return torch.from_numpy(result.images).permute(0, 3, 1, 2)

    def __repr__(self) -> str:
        return (
            f"RePaintInpainter({type(self.pipeline.unet).__name__}, size={self.size}, "
            f"num_inference_steps={self.num_inference_steps})"
        )


def _as_inpaint_pipeline(pipeline: Any) -> Any:
    """An inpainting pipeline from one, from a convertible pipeline, or from a local path."""
    if isinstance(pipeline, (str, os.PathLike)):
        pipeline = load_pipeline(pipeline)
    if _takes_mask(pipeline):
        return pipeline
    diffusers = _diffusers()
    if isinstance(pipeline, diffusers.DiffusionPipeline):
        try:
            return diffusers.AutoPipelineForInpainting.from_pipe(pipeline)
        except ValueError as error:
            raise TypeError(
                f"`pipeline` must be an inpainting pipeline, but got {type(pipeline).__name__}, "
                f"which AutoPipelineForInpainting cannot convert ({error})."
            ) from error
    raise TypeError(
        "`pipeline` must be a diffusers inpainting pipeline (called with `image` and "
        f"`mask_image`) or a local path, but got {describe(pipeline)}."
    )


@register_inpainter("diffusers")
class DiffusersInpainter(_PipelineInpainter):
    """Stable-Diffusion-style inpainting: any pipeline ``AutoPipelineForInpainting`` can give.

    Images are resized to ``size``, passed in ``[0, 1]`` with the pipeline's mask convention
    (1 = repaint) and the prompt; the result is resized back and composited, so pixels outside
    the holes are untouched. Latent-diffusion models repaint a slightly wider area than the
    mask; only the hole pixels are taken.

    Args:
        pipeline: an inpainting pipeline (e.g. ``StableDiffusionInpaintPipeline``), a text-to-
            image pipeline that ``AutoPipelineForInpainting.from_pipe`` converts, or a local
            directory holding one (loaded with ``local_files_only=True``).
        prompt: what to paint into the holes; the default ``""`` asks for plain continuation.
        negative_prompt: what to avoid (only used with ``guidance_scale > 1``).
        num_inference_steps: denoising steps.
        guidance_scale: classifier-free guidance weight (1 disables guidance).
        strength: how much noise is added to the masked area (1 ignores its content).
        size: model input size ``S`` or ``(H, W)``, multiples of 8 for Stable Diffusion;
            defaults to the model's native ``unet.config.sample_size * vae_scale_factor``.
        generator: random source for the diffusion noise (seed it for reproducible fills).
        batch_size: images per pipeline call (all at once by default).
        pipeline_kwargs: further keyword arguments for every pipeline call.

    Shape:
        ``images`` ``(N, 3, H, W)`` or ``(N, 1, H, W)``, float in ``[0, 1]`` or uint8;
        ``holes`` ``(N, 1, H, W)`` bool -> ``(N, C, H, W)`` in ``images``' dtype.
    """

    def __init__(
        self,
        pipeline: Any,
        *,
        prompt: str = "",
        negative_prompt: str | None = None,
        num_inference_steps: int = 30,
        guidance_scale: float = 7.5,
        strength: float = 1.0,
        size: int | tuple[int, int] | None = None,
        generator: torch.Generator | None = None,
        batch_size: int | None = None,
        pipeline_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(generator, batch_size)
        self.pipeline = _as_inpaint_pipeline(pipeline)
        self.channels = 3
        if size is None:
            unet = getattr(self.pipeline, "unet", None)
            factor = getattr(self.pipeline, "vae_scale_factor", None)
            if unet is None or factor is None:
                raise ValueError(
                    f"`size` must be given for a {type(self.pipeline).__name__} (its native "
                    "size is unknown), but got None."
                )
            size = int(unet.config.sample_size) * int(factor)
        self.size = _size(size)
        for name, text in (("prompt", prompt), ("negative_prompt", negative_prompt)):
            if text is not None and not isinstance(text, str):
                raise TypeError(f"`{name}` must be a str, but got {describe(text)}.")
        self.prompt, self.negative_prompt = prompt, negative_prompt
        self.num_inference_steps = check_positive_int("num_inference_steps", num_inference_steps)
        self.guidance_scale = float(guidance_scale)
        if not 0 < strength <= 1:
            raise ValueError(f"`strength` must be a float in (0, 1], but got {strength!r}.")
        self.strength = float(strength)
        self.pipeline_kwargs = dict(pipeline_kwargs or {})

    def _run(self, images: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
        count, device = images.shape[0], self.pipeline.device
        negative = None if self.negative_prompt is None else [self.negative_prompt] * count
        result = self.pipeline(
            prompt=[self.prompt] * count,
            negative_prompt=negative,
            image=images.to(device),
            mask_image=holes.float().to(device),  # diffusers: 1 (white) = repaint
            height=self.size[0],
            width=self.size[1],
            num_inference_steps=self.num_inference_steps,
            guidance_scale=self.guidance_scale,
            strength=self.strength,
            generator=self.generator,
            output_type="pt",
            **self.pipeline_kwargs,
        )
        return result.images

    def __repr__(self) -> str:
        return (
            f"DiffusersInpainter({type(self.pipeline).__name__}, size={self.size}, "
            f"prompt={self.prompt!r}, num_inference_steps={self.num_inference_steps})"
        )


@register_inpainter("generative")
def generative(pipeline: Any, **options: Any) -> RePaintInpainter | DiffusersInpainter:
    """The right adapter for ``pipeline``: RePaint for unconditional UNets, else diffusers.

    ``pipeline`` is a ready object or a local directory (see :func:`load_pipeline`);
    ``options`` go to :class:`RePaintInpainter` or :class:`DiffusersInpainter`.

    Example:
        >>> from shiftaug.inpaint import get_inpainter
        >>> get_inpainter("generative", pipeline="/no/such/dir")
        Traceback (most recent call last):
        ...
        ValueError: `pipeline` must be a pipeline object or a local directory, but got '/no/such/dir' (shiftaug never downloads checkpoints).
    """
    if isinstance(pipeline, (str, os.PathLike)):
        pipeline = load_pipeline(pipeline)
    diffusers = _diffusers()
    is_repaint = isinstance(pipeline, diffusers.RePaintPipeline)
    if is_repaint or (_unconditional_unet(pipeline) is not None and not _takes_mask(pipeline)):
        return RePaintInpainter(pipeline, **options)
    return DiffusersInpainter(pipeline, **options)
