import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganlab import GANConfig
from ganlab.data import ImageData
from ganlab.inference import (
    BiGANTrainer,
    bigan_d_step,
    bigan_g_loss,
    build_bigan,
    encode,
    generate,
    invert,
    lerp,
    reconstruction_error,
    slerp,
)
from ganlab.nets.bigan import BiGANPair

LATENT = 6


def tiny_cfg(**changes):
    base = dict(model="dcgan", latent_dim=LATENT, batch_size=8, device="cpu", seed=0, real_label=1.0,
                extra={"width": 4, "hidden": 16, "dropout": 0.0})
    return GANConfig(**{**base, **changes})


def tiny_data(n=32):
    g = torch.Generator().manual_seed(0)
    return ImageData(torch.rand(n, 1, 28, 28, generator=g) * 2 - 1, torch.arange(n) % 10, "toy", "train", ())


# ---------------------------------------------------------------------- paths in z
def test_lerp_and_slerp_endpoints():
    a, b = torch.randn(5), torch.randn(5)
    t = torch.tensor([0.0, 1.0])
    for path in (lerp(a, b, t), slerp(a, b, t)):
        torch.testing.assert_close(path[0], a)
        torch.testing.assert_close(path[1], b)


def test_slerp_norm_and_known_midpoint():
    u, v = torch.tensor([3.0, 0.0, 0.0]), torch.tensor([0.0, 3.0, 0.0])  # orthogonal, equal norms
    t = torch.linspace(0, 1, 11)
    torch.testing.assert_close(slerp(u, v, t).norm(dim=1), torch.full((11,), 3.0))
    torch.testing.assert_close(slerp(u, v, torch.tensor([0.5]))[0], torch.tensor([3, 3, 0.0]) / math.sqrt(2))
    # the straight line dips: its midpoint has norm 3/√2
    torch.testing.assert_close(lerp(u, v, torch.tensor([0.5]))[0].norm(), torch.tensor(3 / math.sqrt(2)))
    # unequal norms: the norm moves linearly, the angle at a constant rate
    w = torch.tensor([0.0, 1.0, 0.0])
    path = slerp(u, w, t)
    torch.testing.assert_close(path.norm(dim=1), 3 * (1 - t) + t)
    angles = torch.atan2(path[:, 1], path[:, 0])
    torch.testing.assert_close(angles, t * math.pi / 2)


def test_slerp_edge_cases():
    a = torch.tensor([1.0, 2.0, 2.0])
    t = torch.linspace(0, 1, 5)
    # parallel codes: the directions agree, so the path only rescales and stays finite
    path = slerp(a, 2 * a, t)
    assert torch.isfinite(path).all()
    torch.testing.assert_close(path, (1 + t)[:, None] * a)
    with pytest.raises(ValueError, match="opposite"):
        slerp(a, -a, t)
    with pytest.raises(ValueError, match="nonzero"):
        slerp(torch.zeros(3), a, t)
    with pytest.raises(ValueError, match="same shape"):
        slerp(a, torch.ones(4), t)
    with pytest.raises(ValueError, match="1-D"):
        lerp(a, a, torch.zeros(2, 2))


# ---------------------------------------------------------------------- inversion
class LinearGenerator(nn.Module):
    """x = tanh-free linear image of z with orthonormal columns: the exact z is the only minimiser."""

    def __init__(self, latent=LATENT):
        super().__init__()
        self.latent_dim = latent
        columns = torch.randn(784, latent, generator=torch.Generator().manual_seed(1))
        self.weight = nn.Parameter(torch.linalg.qr(columns)[0])

    def forward(self, z):
        return (z @ self.weight.T).view(-1, 1, 28, 28)


def test_invert_recovers_z_of_a_known_generator():
    G = LinearGenerator()
    z_true = torch.randn(4, LATENT, generator=torch.Generator().manual_seed(2))
    target = G(z_true).detach()
    z, errors = invert(G, target, steps=300, lr=0.05, rng=torch.Generator().manual_seed(3))
    assert errors.shape == (301, 4)
    torch.testing.assert_close(z, z_true, atol=1e-3, rtol=0)
    assert (errors[-1] < 1e-3 * errors[0]).all()
    torch.testing.assert_close(errors[-1], reconstruction_error(target, G(z)).detach())
    # G's parameters are untouched and keep their requires_grad
    assert all(p.requires_grad and p.grad is None for p in G.parameters())


def test_invert_from_the_true_code_starts_at_zero_error():
    G = LinearGenerator()
    z_true = torch.randn(3, LATENT)
    _, errors = invert(G, G(z_true).detach(), steps=0, z0=z_true)
    torch.testing.assert_close(errors, torch.zeros(1, 3), atol=1e-6, rtol=0)


def test_invert_errors():
    G, target = LinearGenerator(), torch.zeros(2, 1, 28, 28)
    with pytest.raises(ValueError, match="steps"):
        invert(G, target, steps=-1)
    with pytest.raises(ValueError, match="lr"):
        invert(G, target, lr=0.0)
    with pytest.raises(ValueError, match=r"z0 must have shape \(2, 6\)"):
        invert(G, target, z0=torch.zeros(3, LATENT))


def test_reconstruction_error():
    x = torch.zeros(2, 1, 2, 2)
    x_hat = torch.stack([torch.zeros(1, 2, 2), torch.full((1, 2, 2), 0.5)])
    torch.testing.assert_close(reconstruction_error(x, x_hat), torch.tensor([0.0, 0.5]))
    with pytest.raises(ValueError, match="same shape"):
        reconstruction_error(x, x_hat[:1])


# ---------------------------------------------------------------------- BiGAN training
def test_g_loss_swaps_the_labels_of_the_real_side():
    t = BiGANTrainer(tiny_cfg(), tiny_data(), progress=False)
    x, z = tiny_data().images[:8], torch.randn(8, LATENT)
    D, pair = t.discriminator, t.generator
    want = F.softplus(-D(pair(z), z)).mean() + F.softplus(D(x, pair.encode(x))).mean()
    torch.testing.assert_close(bigan_g_loss(t, x, z), want)


def test_d_steps_lower_d_loss_on_a_fixed_batch():
    t = BiGANTrainer(tiny_cfg(lr_d=5e-3), tiny_data(), progress=False)
    x, z = tiny_data().images[:8], torch.randn(8, LATENT)
    losses = [float(bigan_d_step(t, x, z)[0]) for _ in range(20)]
    assert losses[-1] < 0.5 * losses[0]  # measured: 1.386 → 0.016


def test_g_steps_lower_g_and_e_loss_against_a_fixed_d():
    t = BiGANTrainer(tiny_cfg(lr_d=5e-3, lr_g=5e-3), tiny_data(), progress=False)
    x, z = tiny_data().images[:8], torch.randn(8, LATENT)
    for _ in range(20):  # a D that tells the pairs apart, so G and E have something to fool
        bigan_d_step(t, x, z)
    t.generator.eval()  # BatchNorm on running statistics so the loss is one fixed function of the weights
    before = float(bigan_g_loss(t, x, z).detach())
    for _ in range(20):
        t.g_step(t, x, z)
    assert float(bigan_g_loss(t, x, z).detach()) < 0.5 * before  # measured: 10.4 → 1e-4


def test_fit_changes_g_e_and_d_and_checkpoints(tmp_path):
    t = BiGANTrainer(tiny_cfg(), tiny_data(), progress=False)
    parts = {"G": t.generator.generator, "E": t.encoder, "D": t.discriminator}
    before = {k: [p.detach().clone() for p in m.parameters()] for k, m in parts.items()}
    history = t.fit(steps=3)
    assert len(history["d_loss"]) == 3 and all(math.isfinite(v) for v in history["g_loss"])
    for k, m in parts.items():
        assert any(not torch.equal(a, b) for a, b in zip(before[k], m.parameters())), k
    path = t.save(tmp_path / "bigan.pt")
    loaded = BiGANTrainer.load(path, tiny_data(), progress=False)
    for a, b in zip(t.generator.state_dict().values(), loaded.generator.state_dict().values()):
        torch.testing.assert_close(a, b)
    # resuming continues exactly as the uninterrupted run
    t.fit(steps=2)
    loaded.fit(steps=2)
    torch.testing.assert_close(loaded.history["d_loss"], t.history["d_loss"])


def test_encode_and_generate_are_batched_and_in_eval_mode():
    pair, _ = build_bigan(tiny_cfg())
    x, z = tiny_data().images[:10], torch.randn(10, LATENT)
    pair.eval()
    with torch.no_grad():
        torch.testing.assert_close(encode(pair.encoder, x, batch_size=3), pair.encode(x))
        torch.testing.assert_close(generate(pair.generator, z, batch_size=4), pair(z))
    assert not pair.training  # left as it was found


def test_trainer_errors():
    with pytest.raises(ValueError, match="penalty"):
        BiGANTrainer(tiny_cfg(penalty="gp"), tiny_data(), progress=False)
    with pytest.raises(ValueError, match="BiGANPair"):
        pair, D = build_bigan(tiny_cfg())
        BiGANTrainer(tiny_cfg(), tiny_data(), pair.generator, D, progress=False)
    with pytest.raises(ValueError, match="28, 28"):
        build_bigan(tiny_cfg(image_shape=(2,)))
    assert isinstance(build_bigan(tiny_cfg())[0], BiGANPair)
