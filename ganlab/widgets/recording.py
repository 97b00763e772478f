"""Save a dashboard run as an animation for slides: PNG frames → an animated GIF (Pillow) or an MP4 (imageio).

Pillow comes with matplotlib, so GIF always works; MP4 needs ``imageio`` with its ffmpeg plugin
(``pip install imageio imageio-ffmpeg``) and says so when they are missing.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

WRITERS = {".gif": "Pillow", ".mp4": "imageio + imageio-ffmpeg"}


def _decode(frames: Sequence[bytes]) -> list:
    """PNG bytes → RGB PIL images, all of the first frame's size."""
    from PIL import Image

    images = [Image.open(io.BytesIO(png)).convert("RGB") for png in frames]
    size = images[0].size
    return [im if im.size == size else im.resize(size) for im in images]


def save_animation(frames: Sequence[bytes], path: str | Path, fps: float = 4.0) -> Path:
    """Write PNG ``frames`` (each the bytes of one picture) to ``path`` (.gif or .mp4), ``fps`` frames a second.

    Raises ValueError for no frames, a bad fps or another suffix, and RuntimeError when the MP4 writer is missing.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITERS:
        raise ValueError(f"cannot save {path.name!r}: use a .gif (Pillow) or .mp4 (imageio-ffmpeg) file name")
    if len(frames) == 0:
        raise ValueError("no frames to save: record while training (Rec, then Start or Step), or call "
                         "dashboard.record(path, steps)")
    if not fps > 0:
        raise ValueError(f"fps={fps!r} must be > 0, e.g. fps=4")
    images = _decode(frames)
    if suffix == ".gif":
        images[0].save(path, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0)
        return path
    try:
        import imageio.v2 as imageio

        writer = imageio.get_writer(path, fps=fps, macro_block_size=1)
    except (ImportError, ValueError, RuntimeError) as err:  # imageio missing, or present without ffmpeg
        raise RuntimeError(f"no MP4 writer on this machine ({type(err).__name__}: {err}); "
                           "pip install imageio imageio-ffmpeg, or save a .gif instead (Pillow)") from None
    with writer:
        for image in images:
            writer.append_data(np.asarray(image))
    return path
