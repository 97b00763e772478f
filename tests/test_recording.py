"""ganlab.widgets.recording: PNG frames → an animated GIF, and clear errors for what cannot be written."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest
from PIL import Image

from ganlab.widgets.recording import save_animation


def png(value: int, size: tuple[int, int] = (40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((size[1], size[0], 3), value, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def test_gif_holds_every_frame_in_order(tmp_path) -> None:
    frames = [png(0), png(120), png(250)]
    path = save_animation(frames, tmp_path / "run.gif", fps=5)
    with Image.open(path) as gif:
        assert gif.n_frames == 3 and gif.size == (40, 30) and gif.info["duration"] == 200
        shades = []
        for i in range(3):
            gif.seek(i)
            shades.append(int(np.asarray(gif.convert("L")).mean()))
    assert shades[0] < shades[1] < shades[2]


def test_frames_of_another_size_are_fitted_to_the_first(tmp_path) -> None:
    path = save_animation([png(10), png(200, (80, 60))], tmp_path / "run.gif")
    with Image.open(path) as gif:
        assert gif.size == (40, 30) and gif.n_frames == 2


def test_bad_requests_are_named(tmp_path) -> None:
    with pytest.raises(ValueError, match="no frames to save"):
        save_animation([], tmp_path / "run.gif")
    with pytest.raises(ValueError, match=r"use a \.gif"):
        save_animation([png(0)], tmp_path / "run.avi")
    with pytest.raises(ValueError, match="fps=0"):
        save_animation([png(0)], tmp_path / "run.gif", fps=0)


def test_mp4_without_a_writer_says_what_to_install(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "imageio", None)  # as if imageio were not installed
    monkeypatch.setitem(sys.modules, "imageio.v2", None)
    with pytest.raises(RuntimeError, match="pip install imageio imageio-ffmpeg, or save a .gif"):
        save_animation([png(0)], tmp_path / "run.mp4")
    assert not (tmp_path / "run.mp4").exists()
