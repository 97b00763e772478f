"""The benchmark runs and reports what it promises; the seed loop it times is the seed's loop.

No timing is asserted here: a benchmark prints, a test checks correctness.
"""

import json

import pytest
import torch

from ganlab import GANConfig, load_images
from ganlab.bench import MODELS, Method, main, measure, run, table
from ganlab.bench.seed_loop import IdxImages, Probability, SeedLoop, point_dataset
from ganlab.losses import bce_d_loss, non_saturating_g_loss

ROW_KEYS = {"model", "method", "device", "batch_size", "steps", "steps_per_s", "s_per_epoch", "peak_memory_mb",
            "data_mb"}


def test_cli_writes_json_with_the_promised_keys(tmp_path, capsys):
    path = tmp_path / "bench.json"
    assert main(["--device", "cpu", "--steps", "1", "--models", "mlp,toy", "--json", str(path)]) == 0
    result = json.loads(path.read_text())
    assert {"rows", "speedup", "ratios", "device", "date", "torch", "threads"} <= set(result)
    assert [(r["model"], r["method"]) for r in result["rows"]] == [
        ("mlp", "seed_loop"), ("mlp", "ganlab"), ("toy", "seed_loop"), ("toy", "ganlab")]
    for row in result["rows"]:
        assert ROW_KEYS <= set(row)
        assert row["device"] == "cpu" and row["batch_size"] == 64 and row["steps"] == 1
        assert row["steps_per_s"] > 0 and row["peak_memory_mb"] >= 0  # growth while the method was built
    rates = {(r["model"], r["method"]): r["steps_per_s"] for r in result["rows"]}
    assert result["speedup"] == pytest.approx(rates["mlp", "ganlab"] / rates["mlp", "seed_loop"])
    assert result["ratios"]["toy"] == pytest.approx(rates["toy", "ganlab"] / rates["toy", "seed_loop"])
    out = capsys.readouterr().out
    assert "| mlp | ganlab | 64 |" in out and "speedup" in out


def test_methods_warm_up_alone_then_take_turns():
    calls = []

    def method(name):
        return lambda: Method(name, lambda: calls.append(name), lambda: None, lambda: f"{name} path", lambda: None)

    rows = measure(GANConfig(device="cpu"), [method("a"), method("b")], steps=6, warmup=1, rounds=3)
    assert "".join(calls) == "ab" + "aabb" * 3
    assert [(r.method, r.steps, r.path) for r in rows] == [("a", 6, "a path"), ("b", 6, "b path")]
    assert all(r.steps_per_s > 0 and r.s_per_epoch == pytest.approx(937 / r.steps_per_s) for r in rows)


def test_table_is_markdown_with_one_line_per_row():
    rows = [dict(model="toy", method=m, device="cpu", batch_size=8, steps=1, steps_per_s=r, s_per_epoch=1.0,
                 peak_memory_mb=1.0, memory="rss", data_mb=0.0, path="eager")
            for m, r in (("seed_loop", 2.0), ("ganlab", 5.0))]
    text = table({"device_name": "x", "device": "cpu", "threads": 2, "date": "2026-01-01T00:00", "torch": "2",
                  "rows": rows})
    assert text.splitlines()[-1] == "| toy | ganlab | 8 | 5.0 | 1.0 | 1 | 0 | 2.50 |"


@pytest.mark.parametrize("kw, match", [({"models": ("vae",)}, "vae"), ({"steps": 0}, "steps")])
def test_bad_arguments_are_explained(kw, match):
    with pytest.raises(ValueError, match=match):
        run("cpu", log=lambda s: None, **{"steps": 1, "models": MODELS, **kw})


def test_seed_dataset_matches_ganlab_images():
    # ToTensor then Normalize(0.5, 0.5) is x/255·2 − 1: the same [-1, 1] images ganlab keeps resident.
    seed = IdxImages.from_files("fashion_mnist")
    ours = load_images("fashion_mnist")
    assert len(seed) == len(ours) == 60_000
    for i in (0, 123, 59_999):
        image, label = seed[i]
        torch.testing.assert_close(image, ours.images[i])
        assert label == int(ours.labels[i])


def test_probability_wraps_logits_like_the_seed_sigmoid():
    logits = torch.tensor([-2.0, 0.0, 3.0])
    head = Probability(torch.nn.Identity())
    torch.testing.assert_close(head(logits), torch.sigmoid(logits)[:, None])


def test_seed_updates_are_the_seed_losses():
    # D's update: BCE(σ(D(x)), 0.9) + BCE(σ(D(G(z))), 0) is ganlab's bce_d_loss on logits; G's: BCE(σ, 0.9).
    cfg = GANConfig(device="cpu", hidden_dim=8, latent_dim=4, batch_size=16, extra={"dropout": 0.0})
    loop = SeedLoop(cfg, point_dataset(torch.zeros(32, 1, 28, 28)), workers=0)
    D, G = loop.discriminator.discriminator, loop.generator
    real = torch.rand(16, 1, 28, 28) * 2 - 1
    torch.manual_seed(5)
    with torch.no_grad():
        expected = bce_d_loss(D(real), D(G(torch.randn(16, 4))), 0.9, 0.0)
    torch.manual_seed(5)
    d_loss, d_real, d_fake = loop._train_discriminator(real)
    assert d_loss == pytest.approx(expected.item(), rel=1e-5)
    assert 0 < d_fake < 1 and 0 < d_real < 1
    torch.manual_seed(6)
    with torch.no_grad():
        fake_logits = D(G(torch.randn(16, 4)))
        expected_g = torch.nn.functional.binary_cross_entropy_with_logits(fake_logits, torch.full((16,), 0.9))
    torch.manual_seed(6)
    assert loop._train_generator(16) == pytest.approx(expected_g.item(), rel=1e-5)
    assert expected_g.item() != pytest.approx(non_saturating_g_loss(fake_logits).item())  # target 0.9, not 1


def test_seed_loop_runs_across_an_epoch_boundary():
    cfg = GANConfig(device="cpu", hidden_dim=8, latent_dim=4, batch_size=16)
    loop = SeedLoop(cfg, point_dataset(torch.rand(40, 1, 28, 28)), workers=0)  # 2 batches per epoch
    stats = [loop.step() for _ in range(5)]
    assert all(isinstance(v, float) for s in stats for v in s)
    loop.close()


def test_batched_row_compares_stacked_runs_with_the_same_runs_in_turn(tmp_path, capsys):
    path = tmp_path / "bench.json"
    assert main(["--device", "cpu", "--steps", "1", "--models", "toy_batched", "--json", str(path)]) == 0
    result = json.loads(path.read_text())
    rates = {r["method"]: r["steps_per_s"] for r in result["rows"]}
    assert list(rates) == ["sequential", "batched", "batched_vmap"]
    assert {r["model"] for r in result["rows"]} == {"toy_batched"}
    assert result["ratios"]["toy_batched"] == pytest.approx(rates["batched"] / rates["sequential"])
    assert result["speedup"] is None  # the seed MLP GAN was not measured
    out = capsys.readouterr().out
    assert "| toy_batched | sequential | 256 |" in out and "batched runs" in out
