"""What tools/ and benchmarks/ may import from gensweep: the package's public API for scripts that compose a
config, load data, build or load a model, train, score and write tables. The rest of the package may change
without notice; tests/test_layers.py checks that the scripts import from here only."""

from gensweep.config import compose_config, sweep_jobs, validate
from gensweep.data import load_splits
from gensweep.files import read_csv, size_text, write_csv
from gensweep.job import build_trainer
from gensweep.metrics.probe import DivergenceProbe, real_floor, real_stand_ins
from gensweep.metrics.quality import QualityMetrics
from gensweep.models.build import build_model
from gensweep.models.expost import e_step, fit_mixture, mixture_components
from gensweep.report.sweep import markdown_table
from gensweep.resume import completed, load_run_model
from gensweep.score import run_config, score
from gensweep.space import run_bytes
from gensweep.spec import RunSpec
from gensweep.train.checkpoint import load as load_checkpoint

__all__ = [
    "DivergenceProbe",
    "QualityMetrics",
    "RunSpec",
    "build_model",
    "build_trainer",
    "completed",
    "compose_config",
    "e_step",
    "fit_mixture",
    "load_checkpoint",
    "load_run_model",
    "load_splits",
    "markdown_table",
    "mixture_components",
    "read_csv",
    "real_floor",
    "real_stand_ins",
    "run_bytes",
    "run_config",
    "score",
    "size_text",
    "sweep_jobs",
    "validate",
    "write_csv",
]
