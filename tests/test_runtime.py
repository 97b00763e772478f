"""Tests for ganlab/runtime.py: the seed a notebook reads from GANLAB_SEED, fast mode, setup."""

from __future__ import annotations

import pytest
import torch

import ganlab
from ganlab import runtime


@pytest.mark.parametrize("raw, expected", [(None, 0), ("", 0), ("  ", 0), ("0", 0), ("1", 1), (" 2 ", 2),
                                           ("12345", 12345)])
def test_seed_from_env_reads_ganlab_seed(monkeypatch: pytest.MonkeyPatch, raw: str | None, expected: int) -> None:
    if raw is None:
        monkeypatch.delenv("GANLAB_SEED", raising=False)
    else:
        monkeypatch.setenv("GANLAB_SEED", raw)
    assert runtime.seed_from_env() == expected


@pytest.mark.parametrize("raw", ["one", "1.5", "0x1", "-1", "-7"])
def test_seed_from_env_rejects_bad_values_naming_the_variable(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("GANLAB_SEED", raw)
    with pytest.raises(ValueError, match=r"GANLAB_SEED must be a non-negative integer such as GANLAB_SEED=1") as err:
        runtime.seed_from_env()
    assert raw.strip() in str(err.value)


def test_setup_uses_ganlab_seed_when_no_seed_is_given(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GANLAB_SEED", "3")
    ganlab.setup(device="cpu")
    from_env = torch.rand(4)
    torch.manual_seed(3)
    torch.testing.assert_close(from_env, torch.rand(4), rtol=0, atol=0)
    assert "seed=3" in capsys.readouterr().out


def test_setup_prefers_an_explicit_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANLAB_SEED", "3")
    ganlab.setup(seed=5, device="cpu", quiet=True)
    explicit = torch.rand(4)
    torch.manual_seed(5)
    torch.testing.assert_close(explicit, torch.rand(4), rtol=0, atol=0)


def test_setup_rejects_a_bad_ganlab_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANLAB_SEED", "abc")
    with pytest.raises(ValueError, match="GANLAB_SEED"):
        ganlab.setup(device="cpu", quiet=True)


def test_different_seeds_give_different_streams() -> None:
    runtime.seed_everything(1)
    one = torch.rand(4)
    runtime.seed_everything(2)
    assert not torch.equal(one, torch.rand(4))


@pytest.mark.parametrize("raw, expected", [(None, False), ("0", False), ("", False), ("no", False),
                                           ("1", True), ("yes", True)])
def test_fast_mode_and_pick(monkeypatch: pytest.MonkeyPatch, raw: str | None, expected: bool) -> None:
    if raw is None:
        monkeypatch.delenv("GANLAB_FAST", raising=False)
    else:
        monkeypatch.setenv("GANLAB_FAST", raw)
    assert runtime.fast_mode() is expected
    assert runtime.pick("fast", "full") == ("fast" if expected else "full")
