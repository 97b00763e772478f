"""What the training dashboard shows, as data: ``Scene`` (fixed per run) and ``Frame`` (one redraw).

``Scene`` holds what stays fixed between redraws of one run: real points, the noise behind the fake
points and the noise-grid lines, the plotting box and the blurred real density. ``capture(trainer,
scene)`` turns the trainer's current state into a ``Frame`` of numpy arrays, which tests assert on;
``render(frame)`` draws it with matplotlib's Agg canvas (no pyplot, so it is safe off the main thread)
and returns PNG bytes for an ``ipywidgets.Image``.

The divergence chart is the Jensen–Shannon divergence between the real and the fake distribution,
both blurred by a Gaussian of width h: the real side exactly (a mixture's blur is a mixture with
stds √(σ² + h²)), the fake side as a kernel density estimate of the fake points. Blurring makes the
number finite and smooth while G is still far from the thin real modes; with h → 0 it becomes the JSD
itself. ``Scene.jsd_floor`` is what the same estimate gives for real samples, the value a perfect G reaches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..data import ImageData
from ..diagnostics import diagnose, summary

N_FAKE = 1024  # fake points drawn for the scatter and the divergence (fixed noise, so frames compare)
N_ARROWS = 64  # of which this many carry G's gradient arrow
RESOLUTION = 64  # heatmap and divergence grid, per axis
LOG2 = math.log(2.0)


@dataclass
class Scene:
    """Per-run constants for drawing; ``divergence`` grows by one (step, JSD) pair per 2-D redraw."""

    box: tuple[float, float, float, float] | None = None  # xmin, xmax, ymin, ymax
    real: np.ndarray | None = None  # (n, 2) real samples to scatter
    fake_noise: Tensor | None = None  # (N_FAKE, latent)
    grid_noise: Tensor | None = None  # (lines, points, latent): lines of constant z₁ or z₂
    grid_xy: Tensor | None = None  # (RESOLUTION², 2) centres of the heatmap cells
    real_density: Tensor | None = None  # (RESOLUTION²,) blurred real density on grid_xy, sums to 1
    bandwidth: float = 0.0
    jsd_floor: float = 0.0
    image_noise: Tensor | None = None  # (64, latent) for image data
    divergence: list[tuple[int, float]] = field(default_factory=list)


@dataclass
class Frame:
    """Everything one redraw shows. 2-D fields are None for images and vice versa."""

    step: int
    label: str
    loss: str
    history: dict[str, list[float]]
    diagnostics: str
    divergence: list[tuple[int, float]]
    jsd_floor: float = 0.0
    box: tuple[float, float, float, float] | None = None
    real: np.ndarray | None = None  # (n, 2)
    fake: np.ndarray | None = None  # (N_FAKE, 2)
    d_map: np.ndarray | None = None  # (RESOLUTION, RESOLUTION), rows are y; D(x) or the critic's value
    d_map_is_prob: bool = True
    arrow_xy: np.ndarray | None = None  # (N_ARROWS, 2) where the arrows start (fake points)
    arrow_uv: np.ndarray | None = None  # (N_ARROWS, 2) −∇ₓ of G's loss: where each fake is pushed
    grid_lines: np.ndarray | None = None  # (lines, points, 2): G's image of the noise grid
    images: np.ndarray | None = None  # (H, W, C) sample grid in [0, 1]


def is_2d(trainer: Any) -> bool:
    return not isinstance(trainer.data, ImageData) and tuple(trainer.cfg.image_shape) == (2,)


def make_scene(trainer: Any, seed: int = 0) -> Scene:
    """Fixed noise, real points and the blurred real density for a fresh run of ``trainer``."""
    g = torch.Generator().manual_seed(seed)  # the dashboard's own stream: drawing never moves the trainer's
    latent, device = trainer.cfg.latent_dim, trainer.device
    if not is_2d(trainer):
        return Scene(image_noise=torch.randn(64, latent, generator=g).to(device))
    dist = trainer.data
    low, high = (b.float() for b in dist.bounds(3.0))
    pad = 0.35 * float((high - low).max())
    centre = (low + high) / 2
    half = float((high - low).max()) / 2 + pad  # a square box around the data
    box = (float(centre[0]) - half, float(centre[0]) + half, float(centre[1]) - half, float(centre[1]) + half)
    xs = torch.linspace(box[0], box[1], RESOLUTION)
    ys = torch.linspace(box[2], box[3], RESOLUTION)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    grid_xy = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)  # (R², 2), row-major in y
    bandwidth = 2 * half / 30
    real_density = _blurred_density(dist, grid_xy, bandwidth, g)
    fake_noise = torch.randn(N_FAKE, latent, generator=g)
    lines = torch.linspace(-2.0, 2.0, 9)
    along = torch.linspace(-2.5, 2.5, 40)
    grid_noise = torch.zeros(18, 40, latent)  # other latent coordinates stay 0
    grid_noise[:9, :, 0], grid_noise[:9, :, 1] = lines[:, None], along[None, :]
    grid_noise[9:, :, 1], grid_noise[9:, :, 0] = lines[:, None], along[None, :]
    scene = Scene(box=box, real=dist.sample(512, generator=g).numpy(), fake_noise=fake_noise.to(device),
                  grid_noise=grid_noise.to(device), grid_xy=grid_xy, real_density=real_density,
                  bandwidth=bandwidth)
    scene.jsd_floor = blurred_jsd(scene, dist.sample(N_FAKE, generator=g))
    return scene


def _blurred_density(dist: Any, xy: Tensor, h: float, g: torch.Generator) -> Tensor:
    """The real density convolved with N(0, h²I) on the grid points, normalised to sum 1 over them."""
    from .. import toy

    if isinstance(dist, toy.Mixture):  # exact: each component's variance grows by h²
        blurred = toy.mixture(dist.means, (dist.stds.pow(2) + h * h).sqrt(), dist.weights)
        p = blurred.log_prob(xy.double()).exp().float()
    else:  # any other sampler: a KDE of many real samples
        p = _kde(dist.sample(8192, generator=g).float(), xy, h)
    return p / p.sum()


def _kde(points: Tensor, xy: Tensor, h: float) -> Tensor:
    """Unnormalised Gaussian kernel density of ``points`` (n, 2) at ``xy`` (m, 2)."""
    sq = torch.cdist(xy, points).pow(2)  # (m, n)
    return torch.exp(-0.5 * sq / (h * h)).mean(1)


def _binned_kde(scene: Scene, points: Tensor) -> tuple[Tensor, float]:
    """A KDE of ``points`` (n, 2) on the scene's grid, by binning then a separable Gaussian blur.

    Binning moves each point by at most half a cell (cells are about h/2 wide); a blur costs O(R²·h/cell)
    instead of the O(R²·n) of an exact KDE. Returns (density (R²,) summing to the fraction of points
    inside the box, that fraction outside the box).
    """
    x0, x1, y0, y1 = scene.box
    step_x, step_y = (x1 - x0) / (RESOLUTION - 1), (y1 - y0) / (RESOLUTION - 1)
    ix = ((points[:, 0] - x0) / step_x).round().long()
    iy = ((points[:, 1] - y0) / step_y).round().long()
    inside = (ix >= 0) & (ix < RESOLUTION) & (iy >= 0) & (iy < RESOLUTION)
    counts = torch.bincount(iy[inside] * RESOLUTION + ix[inside], minlength=RESOLUTION**2).float()
    width = math.ceil(3 * scene.bandwidth / step_x)
    offsets = torch.arange(-width, width + 1, dtype=torch.float32) * step_x
    kernel = torch.exp(-0.5 * (offsets / scene.bandwidth) ** 2)
    kernel = kernel / kernel.sum()
    image = counts.reshape(1, 1, RESOLUTION, RESOLUTION)
    image = F.conv2d(image, kernel.reshape(1, 1, 1, -1), padding=(0, width))  # along x
    image = F.conv2d(image, kernel.reshape(1, 1, -1, 1), padding=(width, 0))  # along y
    n = points.shape[0]
    return image.reshape(-1) / n, float((~inside).sum()) / n


def blurred_jsd(scene: Scene, fake: Tensor) -> float:
    """JSD (in bits, 0..1) between the blurred real density and a KDE of ``fake`` (n, 2) on the scene's grid.

    Fakes outside the plotting box count as one extra cell, where the real density has (almost) no mass.
    """
    q, q_out = _binned_kde(scene, fake.float().cpu())
    # In float64: halving a float32 subnormal density (far from every mode) would round m to 0 and a / m to inf.
    p = torch.cat([scene.real_density, torch.zeros(1)]).double()
    q = torch.cat([q, torch.tensor([q_out])]).double()
    m = 0.5 * (p + q)
    kl = lambda a: torch.where(a > 0, a * (a / m).log(), torch.zeros_like(a)).sum()  # noqa: E731
    return float(0.5 * (kl(p) + kl(q)) / LOG2)


@torch.no_grad()
def _eval(module: Any, x: Tensor) -> Tensor:
    return module(x)


def capture(trainer: Any, scene: Scene, label: str = "", window: int = 100) -> Frame:
    """The trainer's state as a ``Frame``. Nets run in eval mode (no dropout, no spectral-norm power step)."""
    G, D = trainer.generator, trainer.discriminator
    modes = G.training, D.training
    G.eval()
    D.eval()
    try:
        history = {k: list(v) for k, v in trainer.history.items()}
        frame = Frame(step=trainer.step_count, label=label, loss=trainer.cfg.loss, history=history,
                      diagnostics=summary(diagnose(history, trainer.cfg.loss, window)),
                      divergence=scene.divergence)
        if scene.image_noise is not None:
            from ..plots import image_grid

            frame.images = image_grid(_eval(G, scene.image_noise).float().cpu())
            return frame
        _capture_plane(trainer, scene, frame)
        return frame
    finally:
        G.train(modes[0])
        D.train(modes[1])


def pointwise(discriminator: torch.nn.Module) -> Any:
    """D as a function of single points (N, 2) → (N,) logits.

    A packed D (PacGAN) scores packs, so each point is scored as a pack of copies of itself: the value D
    gives a generator that put all its samples there. Batch-level layers (minibatch std, minibatch
    discrimination) see the whole grid of points as their batch.
    """
    pack = getattr(discriminator, "pack", 1)
    return discriminator if pack == 1 else (lambda x: discriminator(x.repeat_interleave(pack, 0)))


def _capture_plane(trainer: Any, scene: Scene, frame: Frame) -> None:
    G, D = trainer.generator, pointwise(trainer.discriminator)
    fake = _eval(G, scene.fake_noise)  # (N_FAKE, 2) on the device
    frame.box, frame.real, frame.jsd_floor = scene.box, scene.real, scene.jsd_floor
    frame.fake = fake.float().cpu().numpy()
    frame.grid_lines = _eval(G, scene.grid_noise.reshape(-1, scene.grid_noise.shape[-1])).reshape(
        *scene.grid_noise.shape[:2], 2).float().cpu().numpy()
    logits = _eval(D, scene.grid_xy.to(trainer.device)).float().cpu()
    frame.d_map_is_prob = trainer.cfg.loss in ("minimax", "non_saturating")
    values = torch.sigmoid(logits) if frame.d_map_is_prob else logits
    frame.d_map = values.reshape(RESOLUTION, RESOLUTION).numpy()
    # Where G's loss pushes each fake: −∂(Σ g_loss)/∂x, one arrow per fake point.
    x = fake[:N_ARROWS].detach().clone().requires_grad_(True)
    with torch.enable_grad():
        loss = trainer.objective.g_loss(D(x)) * x.shape[0]  # × n undoes the batch mean: per-sample gradients
        (grad,) = torch.autograd.grad(loss, x)
    frame.arrow_xy, frame.arrow_uv = frame.fake[:N_ARROWS], (-grad).float().cpu().numpy()
    track_divergence(trainer, scene, fake)
    frame.divergence = list(scene.divergence)


def track_divergence(trainer: Any, scene: Scene, fake: Tensor | None = None) -> None:
    """Append (step, blurred JSD of the fixed-noise fakes) to ``scene.divergence``, once per step; 2-D only."""
    if scene.fake_noise is None or (scene.divergence and scene.divergence[-1][0] == trainer.step_count):
        return
    if fake is None:
        was_training = trainer.generator.training
        trainer.generator.eval()
        try:
            fake = _eval(trainer.generator, scene.fake_noise)
        finally:
            trainer.generator.train(was_training)
    scene.divergence.append((trainer.step_count, blurred_jsd(scene, fake)))
