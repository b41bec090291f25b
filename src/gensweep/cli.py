"""`python -m gensweep` / `gensweep`: Hydra reads the command line and composes the config; gensweep checks it
(gensweep.start_checks, a Hydra callback) and runs the jobs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from omegaconf import DictConfig

from gensweep.paths import discard_if_unused, register_resolvers
from gensweep.start_checks import hydra_error, refuse


@hydra.main(version_base="1.3", config_path="pkg://gensweep.conf", config_name="config")
def _job(cfg: DictConfig) -> float | None:
    try:
        # Imported here, in the process that trains: a sweep's launching process then never loads torch (on a
        # GPU machine it does once, to count the GPUs for the joblib launcher: gensweep.placement).
        from gensweep.job import run_job

        return run_job(cfg)
    except KeyboardInterrupt:  # Ctrl-C before the training loop (which checkpoints instead) or after it
        discard_if_unused(Path(HydraConfig.get().runtime.output_dir))
        raise


def main() -> None:
    register_resolvers()
    # `-m` anywhere: Hydra's argument parser takes no override after a flag, so `... -m n_epochs=1` would fail
    multirun = [a for a in sys.argv[1:] if a in ("-m", "--multirun")]
    sys.argv[1:] = [a for a in sys.argv[1:] if a not in multirun] + multirun[:1]
    # Hydra then raises a command it cannot compose here, where it becomes one line, instead of printing it
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        _job()
    except HydraException as err:  # an unknown option or key, a comma list without -m, an unreadable override
        refuse(hydra_error(err))
    except KeyboardInterrupt:  # outside a training loop, which stops at a step with a checkpoint instead
        print(
            "gensweep: interrupted while starting up or writing results, not during training: finished runs "
            "and checkpoints are kept; run the command again (resume=true continues a run)",
            file=sys.stderr,
        )
        sys.exit(130)


__all__ = ["main"]
