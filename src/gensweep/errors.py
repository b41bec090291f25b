"""The errors gensweep reports to the user as one line (the CLI prints them without a traceback).

Kept in the lowest module so that every layer, from the datasets up, can raise them without importing the
layers that catch them.
"""


class ConfigError(ValueError):
    """An invalid config value; the message names the key, the value and what is allowed."""


class DatasetError(RuntimeError):
    """A dataset problem (missing, undownloadable or corrupt files); the message names the path and the fix."""


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used to resume this run."""
