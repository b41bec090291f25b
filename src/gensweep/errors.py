"""The errors gensweep reports to the user as one line (the CLI prints them without a traceback).

Kept in the lowest module so that every layer, from the datasets up, can raise them without importing the
layers that catch them.
"""

from pathlib import Path


class ConfigError(ValueError):
    """An invalid config value; the message names the key, the value and what is allowed."""


class DatasetError(RuntimeError):
    """A dataset problem (missing, undownloadable or corrupt files); the message names the path and the fix."""


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used to resume this run."""


class WriteFailed(RuntimeError):
    """A file could not be written: a full disk or quota, a read-only or unwritable folder, an I/O error. The
    message names the file, the space free against what it needed, and the fix; the partial file is gone."""

    exit_code = 5

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path  # a file in the run's folder, or elsewhere (a dataset or classifier cache)
