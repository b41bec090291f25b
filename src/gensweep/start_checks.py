"""gensweep's checks on the command Hydra composed, before Hydra creates or records anything in a folder.

`StartChecks` is a Hydra callback (conf/config.yaml, hydra.callbacks): Hydra calls on_run_start and
on_multirun_start after composing the config and before it makes the run or sweep folder, so a refusal here
(one line, exit 2) leaves every byte on disk as it was. A command that does not compose at all (an unknown
option or key, a comma list without -m) is refused by Hydra itself; `hydra_error` puts its message in
one line.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import ConfigCompositionException, HydraException, MissingConfigException
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError

from gensweep.errors import CheckpointError, ConfigError, DatasetError
from gensweep.files import nearest_existing
from gensweep.loggers import missing_package
from gensweep.paths import plugin_installed, resume_mode
from gensweep.placement import jobs_per_gpu_error

# Hydra plugins behind the presets in conf/hydra/ and conf/hparams_search/ (`pip install 'gensweep[cluster]'`):
# the config each chooses and the module it needs.
PLUGINS = {
    "hydra/launcher/joblib": "hydra_plugins.hydra_joblib_launcher",
    "hydra/launcher/slurm": "hydra_plugins.hydra_submitit_launcher",
    "hydra/launcher/submitit_local": "hydra_plugins.hydra_submitit_launcher",
    "hydra/launcher/submitit_slurm": "hydra_plugins.hydra_submitit_launcher",
    "hydra/sweeper/optuna": "hydra_plugins.hydra_optuna_sweeper",
}

CFG_HINT = "python -m gensweep --cfg job lists every key"
INSTALL = "pip install 'gensweep[cluster]'"


class StartChecks(Callback):
    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        _refuse_on_error(_check_run, config)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        _refuse_on_error(_check_sweep, config)


def _refuse_on_error(check: Callable[[DictConfig], str | None], cfg: DictConfig) -> None:
    try:
        problem = check(cfg)
    except (ConfigError, CheckpointError) as err:
        problem = str(err)
    if problem:
        refuse(problem)


def refuse(problem: str) -> NoReturn:
    print(f"gensweep: error: {problem}", file=sys.stderr)
    sys.exit(2)


def _check_run(cfg: DictConfig) -> str | None:
    from gensweep.resume import continue_run

    problem = _missing_plugin(cfg) or _bad_jobs(cfg)
    if problem:
        return problem
    continue_run(cfg)  # may point hydra.run.dir at the run to continue (and checks its disk's space)
    problem = _unwritable(cfg, "hydra.run.dir")
    if problem is None and resume_mode(cfg.resume) == "off":
        from gensweep.space import check_run_space

        check_run_space(cfg, Path(str(cfg.hydra.run.dir)), resume=False)  # before Hydra makes the folder
    # last: the run imports torchvision anyway, a command refused above never needs it (nor its 2 s)
    return problem or _broken_torchvision()


def _broken_torchvision() -> str | None:
    """torchvision built for another torch than the one installed fails at import ("operator torchvision::nms
    does not exist"), which a run would meet as a traceback after making its folder."""
    try:
        import torchvision  # noqa: F401
    except (ImportError, RuntimeError) as err:
        import torch

        cause = (str(err).strip().splitlines() or [""])[0]
        return (
            f"torchvision does not load beside torch {torch.__version__} ({type(err).__name__}: {cause}): the two "
            "were installed for different versions; reinstall them as a pair from one index, e.g. "
            "pip install --force-reinstall torch torchvision (README: Install)"
        )
    return None


def _check_sweep(cfg: DictConfig) -> str | None:
    from gensweep.resume import continue_sweep

    problem = _missing_plugin(cfg) or _bad_jobs(cfg) or _unknown_sweep_value(cfg) or missing_package(cfg.logger)
    if problem:
        return problem
    continue_sweep(cfg)  # may point hydra.sweep.dir at the sweep to continue
    return _unwritable(cfg, "hydra.sweep.dir") or _unavailable_data(cfg)


def _unavailable_data(cfg: DictConfig) -> str | None:
    """Each set the sweep's jobs train on, fetched and converted once here if it never was (gensweep.data.prepare):
    a set that cannot be had is one line before any job starts, not the same error from every job."""
    from gensweep.data import prepare

    for dataset in _job_datasets(cfg):
        try:
            prepare(dataset)
        except DatasetError as err:
            first, *layout = str(err).splitlines()
            return " ".join([first, *(" ".join(line.split()) + ";" for line in layout)]).rstrip(";")
    return None


def _job_datasets(cfg: DictConfig) -> list[DictConfig]:
    """The distinct dataset configs among the sweep's jobs, composed as the basic sweeper composes its jobs (its
    params, then the command line's overrides; for one key the later wins). Only the values that can shape a
    job's dataset are crossed: config groups (dataset, model through dataset_model, experiment, ...) and
    dataset.* or paths.* keys; of any other key the first value is taken, and a range the sweeper draws from
    (optuna's intervals) keeps its default."""
    loader = GlobalHydra.instance().config_loader()
    params = OmegaConf.select(cfg, "hydra.sweeper.params") or {}
    lines = [f"{key}={value}" for key, value in params.items()] + list(cfg.hydra.overrides.task)
    choices: dict[str, list[str]] = {}
    for override in OverridesParser.create().parse_overrides(lines):
        key = override.get_key_element()
        if override.is_discrete_sweep():
            values = [f"{key}={value}" for value in override.sweep_string_iterator()]
            name = override.key_or_group
            shapes_data = bool(loader.get_group_options(name)) or name.split(".")[0] in ("dataset", "paths")
            choices[key] = values if shapes_data else values[:1]
        elif not override.is_sweep_override():
            choices[key] = [f"{key}={override.get_value_element_as_str()}"]
    datasets: dict[str, DictConfig] = {}
    for job in itertools.product(*choices.values()):
        dataset = loader.load_configuration(cfg.hydra.job.config_name, list(job), RunMode.RUN).dataset
        datasets.setdefault(OmegaConf.to_yaml(dataset, resolve=True), dataset)
    return list(datasets.values())


def _missing_plugin(cfg: DictConfig) -> str | None:
    """The install hint for a launcher or sweeper whose Hydra plugin is not installed, or None."""
    for group in ("hydra/launcher", "hydra/sweeper"):
        choice = cfg.hydra.runtime.choices.get(group)
        hint = plugin_hint(f"{group}/{choice}")
        if hint:
            return hint
    return None


def plugin_hint(config: str) -> str | None:
    """For a config path such as hydra/launcher/joblib whose plugin is missing: which plugin, how to install."""
    module = PLUGINS.get(config)
    if module is None or plugin_installed(module):
        return None
    group, _, choice = config.rpartition("/")
    plugin = module.split(".")[-1].replace("_", "-")
    return f"{group}={choice} needs its Hydra plugin ({plugin}), which is not installed: {INSTALL}"


def _bad_jobs(cfg: DictConfig) -> str | None:
    """GENSWEEP_JOBS and jobs_per_gpu set the joblib launcher's job count, resolved before any job starts."""
    jobs = os.environ.get("GENSWEEP_JOBS", "")
    if jobs and not (jobs.isdigit() and int(jobs) > 0):
        return f"GENSWEEP_JOBS={jobs!r} is invalid: the joblib launcher's jobs at once, a positive integer (e.g. 4)"
    return jobs_per_gpu_error(cfg.jobs_per_gpu)


def _unknown_sweep_value(cfg: DictConfig) -> str | None:
    """A swept option no config group has, or a swept key the config lacks: Hydra composes each job only when
    it starts, so without this check the jobs before it would run first."""
    loader = GlobalHydra.instance().config_loader()
    for override in OverridesParser.create().parse_overrides(list(cfg.hydra.overrides.task)):
        if not override.is_sweep_override() or override.is_add() or override.is_force_add():
            continue
        key = override.key_or_group
        options = loader.get_group_options(key)
        if options:
            for choice in override.sweep_string_iterator():
                if choice not in options and choice not in ("null", "none"):
                    return f"{key}={choice} is not a known {key}: use one of {', '.join(options)}"
        elif key.split(".")[0] not in cfg:
            return unknown_key(key, f"+{override.input_line}")
    return None


def unknown_key(key: str, added: str) -> str:
    return f"{key} is not a config key: check its spelling ({CFG_HINT}), or add it as a new key with {added}"


def _unwritable(cfg: DictConfig, key: str) -> str | None:
    """Why the run or sweep folder cannot be created (a file in its path, no write permission), or None:
    Hydra creates it next and would fail with a traceback."""
    folder = str(OmegaConf.select(cfg, key))
    probe = nearest_existing(Path(folder))
    if not probe.is_dir():
        return f"{key}={folder} cannot be created: {probe} is a file, not a folder; choose another folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        return (
            f"{key}={folder} cannot be created: {probe} is not writable; run from a writable folder "
            "or set hydra.run.dir=<folder> (hydra.sweep.dir=<folder> with -m)"
        )
    return None


def hydra_error(err: HydraException) -> str:
    """Hydra's refusal of a command (one it cannot parse or compose), as one line naming the fix."""
    if isinstance(err, MissingConfigException) and err.missing_cfg_file:
        group, _, choice = err.missing_cfg_file.rpartition("/")
        hint = plugin_hint(err.missing_cfg_file)
        if hint:
            return hint
        if err.options:
            return f"{group}={choice} is not a known {group}: use one of {', '.join(err.options)}"
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    if isinstance(err, ConfigCompositionException):
        cause = err.__cause__
        if isinstance(cause, (ConfigAttributeError, ConfigKeyError)) and lines[0].startswith("Could not override"):
            return unknown_key(str(cause.full_key), lines[-1].split()[-1])
        if lines[0].startswith("Ambiguous value for argument "):
            given = lines[0].removeprefix("Ambiguous value for argument ").strip("'")
            return (
                f"{given} lists several values: add -m to sweep over them (one run each), or give one value "
                "(a list as one value: key=[a,b])"
            )
    return "; ".join(lines)
