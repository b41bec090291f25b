"""gensweep: train and compare image generators with one Hydra command."""

import time

STARTED = time.perf_counter()  # the first thing a run imports: its startup time counts from here

__version__ = "0.1.0"
