"""`python -m gensweep` / `gensweep`: check the command line, compose the config with Hydra, run the jobs."""

from __future__ import annotations

import os
import sys
import warnings
from importlib import resources
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from gensweep.paths import discard_if_unused, plugin_installed, register_resolvers
from gensweep.placement import jobs_per_gpu_error

# conf/hydra/launcher/joblib.yaml shares its name with the joblib plugin's schema, which Hydra then checks it
# against, warning for every job that this matching is deprecated: nothing a user can act on. Set when this
# module is imported, which a joblib worker does too (to unpickle _job) before Hydra sets up the job.
warnings.filterwarnings("ignore", message=r"\s*'hydra/launcher/joblib' is validated against ConfigStore schema")


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


def _unwritable_output(argv: list[str]) -> str | None:
    """Why the run or sweep folder cannot be created (a file in its path, no write permission), or None.

    Checked before Hydra starts: Hydra creates the folder itself and would fail with a traceback.
    """
    given = [a.split("=", 1) for a in argv if a.startswith(("hydra.run.dir=", "hydra.sweep.dir="))]
    for key, folder in given or [("outputs", "outputs")]:
        if "$" in folder:  # an interpolation Hydra resolves later
            continue
        probe = Path(folder).expanduser().absolute()
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        if not probe.is_dir():
            return f"{key}={folder} cannot be created: {probe} is a file, not a folder; choose another folder"
        if not os.access(probe, os.W_OK | os.X_OK):
            return (
                f"{key}={folder} cannot be created: {probe} is not writable; run from a writable folder "
                "or set hydra.run.dir=<folder> (hydra.sweep.dir=<folder> with -m)"
            )
    return None


# Hydra plugins behind the presets in conf/hydra/: the module each needs, from `pip install 'gensweep[cluster]'`.
PLUGINS = {
    "hydra/launcher=joblib": "hydra_plugins.hydra_joblib_launcher",
    "hydra/launcher=slurm": "hydra_plugins.hydra_submitit_launcher",
    "hydra/launcher=submitit_local": "hydra_plugins.hydra_submitit_launcher",
    "hydra/launcher=submitit_slurm": "hydra_plugins.hydra_submitit_launcher",
    "hydra/sweeper=optuna": "hydra_plugins.hydra_optuna_sweeper",
    "hparams_search=optuna": "hydra_plugins.hydra_optuna_sweeper",
}


def _missing_plugin(argv: list[str]) -> str | None:
    """The install hint for a launcher or sweeper preset whose Hydra plugin is not installed, or None."""
    for arg in argv:
        module = PLUGINS.get(arg.lstrip("+").replace(" ", ""))
        if module and not plugin_installed(module):
            return (
                f"{arg} needs its Hydra plugin ({module.split('.')[-1].replace('_', '-')}), which is not "
                "installed: pip install 'gensweep[cluster]'"
            )
    return None


def _resume_target(argv: list[str]) -> list[str]:
    """argv pointing Hydra at the run or sweep that resume=... continues, checked before Hydra writes
    anything (gensweep.resume); a refusal exits with one line and leaves every folder as it was."""
    if not any(a.split("=", 1)[0] == "resume" for a in argv):
        return argv
    from hydra.errors import HydraException

    from gensweep.errors import CheckpointError, ConfigError
    from gensweep.resume import prepare

    try:
        return prepare(argv)
    except (ConfigError, CheckpointError, HydraException) as err:
        print(f"gensweep: error: {err}", file=sys.stderr)
        sys.exit(2)


def _unknown_option(argv: list[str]) -> str | None:
    """`model=foo` (or one value of a sweep list `model=vae,foo`) naming no file of a config group: one line
    listing the group's options, instead of Hydra's multi-line message."""
    conf = resources.files("gensweep.conf")
    for arg in argv:
        group, _, value = arg.lstrip("+").partition("=")
        if not value or not group or group.startswith("hydra") or "(" in value or "$" in value:
            continue
        folder = conf.joinpath(*group.split("/"))
        if not folder.is_dir():
            continue
        options = sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))
        for choice in value.split(","):
            if choice.strip() not in options and choice.strip() not in ("null", "none"):
                return f"{group}={choice.strip()} is not a known {group}: use one of {', '.join(options)}"
    return None


def _unknown_key(argv: list[str]) -> str | None:
    """`zdim=8` (a key the config does not have, checked by its first part): one line instead of Hydra's seven."""
    import yaml

    conf = resources.files("gensweep.conf")
    known = set(yaml.safe_load(conf.joinpath("config.yaml").read_text())) | {"hydra"}
    known |= {p.name for p in conf.iterdir() if p.is_dir() and not p.name.startswith("_")}
    for arg in argv:
        key = arg.partition("=")[0]
        if "=" in arg and not arg.startswith(("+", "~", "-")) and "/" not in key and key.split(".")[0] not in known:
            return (
                f"{key} is not a config key: check its spelling (python -m gensweep --cfg job lists every key), "
                f"or add it as a new key with +{arg}"
            )
    return None


def _sweep_without_multirun(argv: list[str]) -> str | None:
    """`model=vae,gan` without -m: one line naming -m, instead of Hydra's six on how a comma may be read. The
    overrides are read by Hydra's own parser; one it cannot parse is left to Hydra's message."""
    if any(a in ("-m", "--multirun") for a in argv):
        return None
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        overrides = OverridesParser.create().parse_overrides([a for a in argv if "=" in a and not a.startswith("-")])
    except HydraException:
        return None
    sweeps = [o.input_line for o in overrides if o.is_sweep_override()]
    if not sweeps:
        return None
    return (
        f"{sweeps[0]} lists several values: add -m to sweep over them (one run each), or give one value "
        "(a list as one value: key=[a,b])"
    )


def _bad_jobs_per_gpu(argv: list[str]) -> str | None:
    """jobs_per_gpu sets the launcher's job count, which Hydra resolves before any job could refuse it."""
    jobs = os.environ.get("GENSWEEP_JOBS", "")
    if jobs and not (jobs.isdigit() and int(jobs) > 0):
        return f"GENSWEEP_JOBS={jobs!r} is invalid: the joblib launcher's jobs at once, a positive integer (e.g. 4)"
    for arg in argv:
        key, _, value = arg.partition("=")
        if key == "jobs_per_gpu":
            return jobs_per_gpu_error(int(value) if value.strip().isdigit() else value)
    return None


def main() -> None:
    argv = sys.argv[1:]
    problem = (
        _unwritable_output(argv)
        or _missing_plugin(argv)
        or _unknown_option(argv)
        or _unknown_key(argv)
        or _sweep_without_multirun(argv)
        or _bad_jobs_per_gpu(argv)
    )
    if problem:
        print(f"gensweep: error: {problem}", file=sys.stderr)
        sys.exit(2)
    register_resolvers()
    # `-m` anywhere: Hydra's parser takes no override after a flag, so `... -m n_epochs=1` would be refused
    multirun = [a for a in sys.argv[1:] if a in ("-m", "--multirun")]
    sys.argv[1:] = [a for a in sys.argv[1:] if a not in multirun] + multirun[:1]
    sys.argv[1:] = _resume_target(sys.argv[1:])
    try:
        _job()
    except KeyboardInterrupt:  # outside a training loop, which stops at a step with a checkpoint instead
        print(
            "gensweep: interrupted while starting up or writing results, not during training: finished runs "
            "and checkpoints are kept; run the command again (resume=true continues a run)",
            file=sys.stderr,
        )
        sys.exit(130)


__all__ = ["main"]
