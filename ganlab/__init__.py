"""ganlab: the package behind the GAN course notebooks.

    from ganlab import GANConfig, Trainer
    trainer = Trainer(GANConfig(epochs=5))
    trainer.fit()
    grid = trainer.sample(64)
"""

from .config import GANConfig, resolve_device
from .data import CorruptDatasetError, DatasetNotFoundError, ImageData, load_images
from .runtime import fast_mode, pick, seed_everything, seed_from_env, setup
from .train import Trainer, TrainingDiverged

__version__ = "0.1.0"

__all__ = ["GANConfig", "Trainer", "TrainingDiverged", "ImageData", "load_images", "DatasetNotFoundError",
           "CorruptDatasetError", "fast_mode", "pick", "seed_everything", "seed_from_env", "setup", "resolve_device"]
