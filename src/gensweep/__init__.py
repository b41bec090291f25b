"""gensweep: train and compare image generators with one Hydra command."""

__version__ = "0.1.0"
