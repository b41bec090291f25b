"""gensweep: train and compare image generators with one Hydra command."""

import time
import warnings

STARTED = time.perf_counter()  # the first thing a run imports: its startup time counts from here

# conf/hydra/launcher/joblib.yaml shares its name with the joblib plugin's schema, which Hydra then checks it
# against, warning in every job that this matching is deprecated: nothing a user can act on. Set here, where
# every process that composes a config imports gensweep first: a joblib worker unpickles the job's function,
# whose globals import gensweep, before it composes the job's config.
warnings.filterwarnings("ignore", message=r"\s*'hydra/launcher/joblib' is validated against ConfigStore schema")

__version__ = "0.1.0"
