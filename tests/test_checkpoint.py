"""Checkpoints: junk is refused clearly, damage is detected by the checksum, other devices and old formats load."""

from __future__ import annotations

import io
import zipfile

import pytest
import torch
from torch.testing import assert_close

from ganlab import GANConfig, Trainer
from ganlab.checkpoint import digest, read_checkpoint, safe_load, write_checkpoint


def toy_trainer(**kw: object) -> Trainer:
    cfg = GANConfig(**{**dict(model="toy", image_shape=(2,), latent_dim=2, hidden_dim=16, dataset="ring8",
                              batch_size=32, device="cpu", extra={"layers": 2}), **kw})
    return Trainer(cfg, progress=False, check_every=4)


def same_parameters(a: torch.nn.Module, b: torch.nn.Module) -> None:
    for (name, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items()):
        assert_close(p, q, rtol=0, atol=0, msg=name)


def not_torch_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("hello.txt", "not a tensor")
    return buffer.getvalue()


@pytest.mark.parametrize("content", [b"", b"junk", b"abc", b"\x80\x02", not_torch_zip(), b"PK\x03\x04" + b"\0" * 40],
                         ids=["empty", "junk", "abc", "pickle-header", "zip", "zip-header"])
def test_junk_files_are_refused_with_one_clear_error(tmp_path, content):
    path = tmp_path / "junk.pt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"junk.pt is not a readable checkpoint \(truncated, corrupt"):
        Trainer.load(path)
    with pytest.raises(ValueError, match="not a readable file"):
        safe_load(path)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.999])
def test_truncated_checkpoints_are_refused(tmp_path, keep):
    data = toy_trainer().save(tmp_path / "ok.pt").read_bytes()
    path = tmp_path / "cut.pt"
    path.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(ValueError, match="cut.pt is not a readable checkpoint"):
        Trainer.load(path)


def test_keyboard_interrupt_is_not_swallowed(tmp_path, monkeypatch):
    path = toy_trainer().save(tmp_path / "ok.pt")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "load", interrupted)
    with pytest.raises(KeyboardInterrupt):
        Trainer.load(path)


def test_a_flipped_bit_in_a_weight_is_reported_as_damage(tmp_path):
    trainer = toy_trainer()
    trainer.fit(steps=5)
    path = trainer.save(tmp_path / "run.pt")
    weight = trainer.generator.state_dict()["net.0.weight"]
    data = bytearray(path.read_bytes())
    at = bytes(data).find(weight.numpy().tobytes())  # the tensor's bytes lie uncompressed in the zip
    assert at > 0
    data[at + 3] ^= 0x40  # the high bits of the first float's exponent
    path.write_bytes(bytes(data))
    raw = torch.load(path, weights_only=True)  # torch itself reads it without complaint ...
    assert not torch.equal(raw["state"]["generator"]["net.0.weight"], weight)
    with pytest.raises(ValueError, match="run.pt is damaged: its contents do not match the SHA-256"):
        Trainer.load(path)  # ... ganlab does not


def test_the_checksum_covers_values_and_structure():
    state = {"w": torch.arange(4.0), "step": 3, "groups": [{"lr": 2e-4}]}
    base = digest(state)
    assert digest({"w": torch.arange(4.0), "step": 3, "groups": [{"lr": 2e-4}]}) == base
    for other in ({**state, "step": 4}, {**state, "w": torch.arange(4.0).double()},
                  {**state, "w": torch.arange(4.0).reshape(2, 2)}, {**state, "groups": [{"lr": 2e-3}]},
                  {**state, "groups": ({"lr": 2e-4},)}):
        assert digest(other) != base


def test_a_checkpoint_without_checksum_loads_with_a_warning(tmp_path):
    trainer = toy_trainer()
    trainer.fit(steps=6)
    old_state = {k: v for k, v in trainer.state_dict().items() if k not in ("config", "device", "parts")}
    path = tmp_path / "v1.pt"
    torch.save({"format": "ganlab-checkpoint-v1", "config": trainer.cfg.to_dict(), "state": old_state}, path)
    with pytest.warns(UserWarning, match="without a checksum"):
        back = Trainer.load(path, progress=False, check_every=4)
    same_parameters(back.generator, trainer.generator)
    trainer.fit(steps=3)
    back.fit(steps=3)  # ganlab 0.1's state was complete: the run continues exactly
    same_parameters(back.discriminator, trainer.discriminator)


def fake_cuda_checkpoint(trainer: Trainer, path) -> None:
    """What a trainer on CUDA writes: its config says cuda, its generator state is a 16-byte Philox state."""
    state = trainer.state_dict()
    state["device"], state["rng"] = "cuda", torch.zeros(16, dtype=torch.uint8)
    state["cuda_rng"] = torch.zeros(16, dtype=torch.uint8)
    write_checkpoint(path, {**trainer.cfg.to_dict(), "device": "cuda"}, state)


def test_a_cuda_checkpoint_opens_on_the_cpu_with_a_reseeded_stream(tmp_path):
    trainer = toy_trainer()
    trainer.fit(steps=6)
    path = tmp_path / "cuda.pt"
    fake_cuda_checkpoint(trainer, path)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match=r"saved for device='cuda'.*device='cpu'"):
            Trainer.load(path)
    runs = []
    for _ in range(2):
        with pytest.warns(UserWarning, match=r"saved on cuda and cannot continue on cpu; it was re-seeded"):
            back = Trainer.load(path, device="cpu", progress=False)
        assert back.cfg.device == "cpu" and back.step_count == 6 and back.history == trainer.history
        same_parameters(back.generator, trainer.generator)
        for a, b in zip(back.opt_d.state.values(), trainer.opt_d.state.values()):
            assert_close(a["exp_avg"], b["exp_avg"], rtol=0, atol=0)
        back.fit(steps=3)
        runs.append(back)
    same_parameters(runs[0].generator, runs[1].generator)  # the re-seeding is deterministic


def test_a_generator_state_of_the_wrong_kind_is_an_error(tmp_path):
    trainer = toy_trainer()
    state = trainer.state_dict()
    state["rng"] = torch.zeros(7, dtype=torch.uint8)  # said to be a CPU state, but no CPU generator's
    path = tmp_path / "odd.pt"
    write_checkpoint(path, trainer.cfg.to_dict(), state)
    with pytest.raises(ValueError, match=r"random-generator state \(\(7,\) torch.uint8\) is not a cpu generator"):
        Trainer.load(path)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_real_cuda_checkpoint_opens_on_the_cpu(tmp_path):
    trainer = toy_trainer(device="cuda")
    trainer.fit(steps=6)
    path = trainer.save(tmp_path / "gpu.pt")
    with pytest.warns(UserWarning, match="re-seeded"):
        back = Trainer.load(path, device="cpu", progress=False)
    for p, q in zip(back.generator.parameters(), trainer.generator.parameters()):
        assert_close(p, q.cpu(), rtol=0, atol=0)
    back.fit(steps=3)
    again = Trainer.load(path, progress=False)  # and on CUDA it resumes exactly
    trainer.fit(steps=3)
    again.fit(steps=3)
    same_parameters(again.generator, trainer.generator)


def test_read_checkpoint_returns_what_was_written(tmp_path):
    path = write_checkpoint(tmp_path / "c.pt", {"a": 1}, {"w": torch.ones(2)})
    config, state = read_checkpoint(path)
    assert config == {"a": 1}
    assert_close(state["w"], torch.ones(2))
