"""The one error type a dataset raises for the user: missing, undownloadable or corrupt files."""


class DatasetError(RuntimeError):
    """A dataset problem whose message names the path and the fix; printed without a traceback."""
