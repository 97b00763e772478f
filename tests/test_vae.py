import math

import pytest
import torch

from ganlab import toy
from ganlab.vae import VAE, VAEConfig, VAETrainer, gaussian_kl, negative_elbo, reparameterize


def test_gaussian_kl_matches_monte_carlo_within_its_standard_error():
    g = torch.Generator().manual_seed(0)
    mu = torch.tensor([[0.5, -1.0, 0.0], [2.0, 0.3, -0.7]], dtype=torch.float64)
    logvar = torch.tensor([[0.0, -1.0, 0.7], [-2.0, 0.5, 0.1]], dtype=torch.float64)
    n = 400_000
    eps = torch.randn(n, *mu.shape, generator=g, dtype=torch.float64)
    z = reparameterize(mu, logvar, eps)  # (n, 2, 3)
    log_q = -0.5 * (eps.pow(2) + logvar + math.log(2 * math.pi)).sum(-1)
    log_p = -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(-1)
    terms = log_q - log_p  # (n, 2): the KL is their mean
    estimate, stderr = terms.mean(0), terms.std(0) / math.sqrt(n)
    exact = gaussian_kl(mu, logvar)
    assert exact.shape == (2,)
    assert bool(((estimate - exact).abs() < 4 * stderr).all()), (estimate, exact, stderr)
    assert bool((stderr < 0.01 * exact).all())  # the comparison is sharp enough to see a missing ½ or −1


def test_gaussian_kl_closed_form_values():
    zero = gaussian_kl(torch.zeros(4, 3), torch.zeros(4, 3))
    torch.testing.assert_close(zero, torch.zeros(4))  # q = prior
    one = gaussian_kl(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, math.log(2.0)]]))
    torch.testing.assert_close(one, torch.tensor([0.5 + 0.5 * (2 - math.log(2) - 1)]))


@pytest.mark.parametrize("mu, logvar, fix", [
    (torch.zeros(3), torch.zeros(3), "(N, d)"),
    (torch.zeros(3, 2), torch.zeros(3, 4), "(N, d)"),
    ([[0.0]], torch.zeros(1, 1), "tensors"),
])
def test_gaussian_kl_bad_input(mu, logvar, fix):
    with pytest.raises(ValueError, match=fix.replace("(", r"\(").replace(")", r"\)")):
        gaussian_kl(mu, logvar)


def test_negative_elbo_by_hand():
    model = VAE((2,), latent_dim=1, hidden_dim=4, layers=1)
    x = torch.tensor([[0.3, -0.2]])
    eps = torch.tensor([[0.5]])
    loss, recon, kl = negative_elbo(model, x, eps, beta=2.0, obs_std=0.5)
    mu, logvar = model.encode(x)
    z = mu + torch.exp(0.5 * logvar) * eps
    want_recon = ((x - model.decode(z)) ** 2).sum() / (2 * 0.25)
    want_kl = 0.5 * (mu**2 + logvar.exp() - logvar - 1).sum()
    torch.testing.assert_close(recon, want_recon.reshape(1))
    torch.testing.assert_close(kl, want_kl.reshape(1))
    torch.testing.assert_close(loss, (want_recon + 2.0 * want_kl).reshape(1))


def test_vae_shapes_and_image_range():
    model = VAE((1, 28, 28), latent_dim=3, hidden_dim=16)
    mu, logvar = model.encode(torch.randn(5, 1, 28, 28))
    assert mu.shape == logvar.shape == (5, 3)
    out = model.decode(torch.randn(5, 3) * 10).detach()
    assert out.shape == (5, 1, 28, 28) and float(out.abs().max()) <= 1.0


def test_a_few_training_steps_reduce_the_loss_on_the_ring():
    cfg = VAEConfig(dataset="ring8", data_shape=(2,), latent_dim=2, hidden_dim=32, batch_size=256, obs_std=0.1,
                    lr=3e-3, device="cpu")
    t = VAETrainer(cfg, check_every=10)
    history = t.fit(steps=60)["loss"]
    assert len(history) == 60
    assert sum(history[-10:]) / 10 < 0.5 * sum(history[:10]) / 10, history
    assert t.sample(7).shape == (7, 2)


def test_images_train_and_checkpoint_round_trip(tmp_path):
    images = torch.rand(64, 1, 28, 28) * 2 - 1
    cfg = VAEConfig(dataset="tensor", latent_dim=4, hidden_dim=16, batch_size=16, device="cpu")
    t = VAETrainer(cfg, data=images)
    t.fit(steps=5)
    path = t.save(tmp_path / "vae.pt")
    t.fit(steps=3)
    after = [p.detach().clone() for p in t.model.parameters()]
    u = VAETrainer(cfg, data=images)
    u.load(path)
    assert u.step_count == 5
    u.fit(steps=3)
    for a, b in zip(after, u.model.parameters()):
        torch.testing.assert_close(a, b)  # resumed exactly: same batches, same ε, same Adam moments
    with pytest.raises(ValueError, match="different config"):
        VAETrainer(VAEConfig(dataset="tensor", latent_dim=5, hidden_dim=16, batch_size=16, device="cpu"),
                   data=images).load(path)


def test_bad_config_and_data():
    with pytest.raises(ValueError, match="obs_std"):
        VAEConfig(obs_std=0.0)
    with pytest.raises(ValueError, match="beta"):
        VAEConfig(beta=-1.0)
    with pytest.raises(ValueError, match="data_shape"):
        VAETrainer(VAEConfig(dataset="ring8", data_shape=(3,), device="cpu"))
    with pytest.raises(ValueError, match="batch_size"):
        VAETrainer(VAEConfig(dataset="tensor", batch_size=128, device="cpu"), data=torch.zeros(10, 1, 28, 28))
    assert toy.get("ring8").dim == 2


def test_fit_decays_the_learning_rate_linearly_then_restores_it():
    t = VAETrainer(VAEConfig(dataset="ring8", data_shape=(2,), latent_dim=2, hidden_dim=8, batch_size=8, lr=1e-3,
                             device="cpu"))
    seen = []
    step = t.step
    t.step = lambda: (seen.append(t.opt.param_groups[0]["lr"]), step())
    t.fit(10, decay=0.5)
    torch.testing.assert_close(torch.tensor(seen), torch.tensor([1e-3] * 6 + [8e-4, 6e-4, 4e-4, 2e-4]))
    assert t.opt.param_groups[0]["lr"] == 1e-3
    with pytest.raises(ValueError, match="decay"):
        t.fit(5, decay=1.5)
