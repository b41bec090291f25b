"""The parts of benchmarks/gpu_check.sh that are Python: the machine's description, the shared-GPU sweep, and the
results.md that sums up the check's folder.

    python benchmarks/gpu_report.py env --device cuda --out DIR       # DIR/env.txt
    python benchmarks/gpu_report.py sweep --device cuda --out DIR -- n_epochs=2 ...   # DIR/sweep.csv
    python benchmarks/gpu_report.py summary --device cuda --out DIR   # DIR/results.md, also printed

The sweep trains the same four runs (vae, gan, wgan, dcgan) twice: one after another (Hydra's basic launcher),
then as one joblib sweep with jobs_per_gpu=4, all four on the one GPU at once. The two wall times give what
sharing a GPU gains; each job's summary.json gives its device and its own training time. With
dataset.root=DIR/data (the real check) the MNIST-format files are written there first, random images in the
real format (throughput does not depend on content), and removed afterwards, as are the runs' checkpoints.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import platform
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from gensweep.api import write_csv

SWEEP_MODELS = "vae,gan,wgan,dcgan"
LAUNCHERS = {"one_at_a_time": [], "joblib_shared": ["hydra/launcher=joblib", "jobs_per_gpu=4"]}


def describe(device: str) -> str:
    import torch

    lines = [
        f"date: {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"python {platform.python_version()}, torch {torch.__version__}, CUDA build {torch.version.cuda}, "
        f"cuDNN {torch.backends.cudnn.version()}, {platform.machine()} with {torch.get_num_threads()} threads",
    ]
    if device.startswith("cuda") and torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            lines.append(
                f"cuda:{i}: {p.name}, {p.total_memory / 2**30:.0f} GiB, compute capability {p.major}.{p.minor}"
            )
        if shutil.which("nvidia-smi"):
            smi = subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version,power.limit,clocks.max.sm", "--format=csv,noheader"],
                capture_output=True,
                text=True,
            )
            lines.append(f"nvidia-smi (driver, power limit, max SM clock): {smi.stdout.strip() or smi.stderr.strip()}")
    else:
        lines.append(f"device {device}: no GPU used" + ("" if device == "cpu" else " (none visible to PyTorch)"))
    return "\n".join(lines)


def sweep(device: str, out: Path, overrides: list[str]) -> None:
    root = next((o.split("=", 1)[1] for o in overrides if o.startswith("dataset.root=")), None)
    if root is not None:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        import fake_data as fake  # made-up images in the real idx format (the tests' fixtures)

        fake.mnist(Path(root), n_train=468 * 128, n_test=10_000)
    rows = []
    try:
        for launcher, extra in LAUNCHERS.items():
            folder = out / f"sweep_{launcher}"
            cmd = [
                sys.executable,
                "-m",
                "gensweep",
                f"model={SWEEP_MODELS}",
                f"device={'auto' if device == 'cuda' else device}",
                "metrics.backbone=none",
                "trainer.progress=false",
                *overrides,
                *extra,
                f"hydra.sweep.dir={folder}",
                "-m",
            ]
            start = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.perf_counter() - start
            print(f"{launcher}: exit {proc.returncode} after {wall:.1f}s: {' '.join(cmd[1:])}", flush=True)
            if proc.returncode != 0:
                print(proc.stderr[-3000:], file=sys.stderr)
            for job, model in enumerate(SWEEP_MODELS.split(",")):
                path = folder / str(job) / "summary.json"
                summary = json.loads(path.read_text()) if path.is_file() else {"status": "missing"}
                rows.append(
                    {
                        "launcher": launcher,
                        "job": job,
                        "model": model,
                        "device": summary.get("device", ""),
                        "status": summary.get("status"),
                        "train_seconds": summary.get("train_seconds", ""),
                        "job_wall_seconds": summary.get("wall_seconds", ""),
                        "sweep_wall_seconds": round(wall, 1),
                    }
                )
            for checkpoint in folder.glob("*/checkpoint.pt"):
                checkpoint.unlink()
    finally:
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)
        if rows:
            write_csv(out / "sweep.csv", rows)
    if any(r["status"] != "completed" for r in rows):
        sys.exit(1)


BENCH_COLUMNS = (
    "(a) gensweep's trainer (`steps_a` steps, with validation, grids, checkpoints and FID), (b) the bare "
    "`train_step` on batches already made, (c) a torchvision Dataset + DataLoader loop feeding the same step; "
    "`a_over_b` near 1 means the trainer adds nothing to the step, `a_over_c` above 1 that it beats the usual "
    "loop; `peak_mb_*`: peak GPU memory allocated (CPU: the process's resident set) during each measurement."
)


def _read_csv(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter=delimiter))


def _table(rows: list[dict[str, str]], columns: list[str]) -> str:
    from gensweep.api import markdown_table

    lines = markdown_table([{c: r.get(c, "") for c in columns} for r in rows])
    return "\n".join(lines) if lines else "(no rows: see the step's log)\n"


def _tests(out: Path) -> str:
    path = out / "tests.xml"
    if not path.is_file():
        return "no test report (see tests.log)\n"
    suite = ET.parse(path).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    n = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    passed = n["tests"] - n["failures"] - n["errors"] - n["skipped"]
    text = f"{passed} passed, {n['failures']} failed, {n['errors']} errors, {n['skipped']} skipped of {n['tests']}\n"
    if n["skipped"] == n["tests"]:
        text += "(all skipped: PyTorch saw no GPU; the step's `ok` means only that pytest ran)\n"
    failed = [
        f"{case.get('classname')}::{case.get('name')}"
        for case in suite.iter("testcase")
        if case.find("failure") is not None or case.find("error") is not None
    ]
    return text + "".join(f"- failed: {name}\n" for name in failed)


def _variants(out: Path) -> list[dict[str, str]]:
    """variants.csv, led by bench.csv's DCGAN row at the same shape and variant 32 when the variants step left
    that row to the bench step (the real check does, to fit its time)."""
    rows = _read_csv(out / "variants.csv")
    if rows and not any(r["variant"] == "32" for r in rows):
        rows = [
            r
            for r in _read_csv(out / "bench.csv")
            if (r["model"], r["data"], r["variant"]) == (rows[0]["model"], rows[0]["data"], "32")
        ] + rows
    return rows


def summary(device: str, out: Path) -> str:
    steps = _read_csv(out / "steps.tsv", delimiter="\t")
    env = (out / "env.txt").read_text().strip() if (out / "env.txt").is_file() else "(env step failed)"
    bench_cols = [
        "data",
        "model",
        "variant",
        "steps_a",
        "trainer_img_s",
        "bare_img_s",
        "peer_img_s",
        "a_over_b",
        "a_over_c",
        "peak_mb_a",
        "peak_mb_b",
        "peak_mb_c",
    ]
    sweep_rows = _read_csv(out / "sweep.csv")
    walls = {r["launcher"]: float(r["sweep_wall_seconds"]) for r in sweep_rows}
    gain = ""
    if len(walls) == 2 and walls["joblib_shared"] > 0:
        gain = (
            f"One after another {walls['one_at_a_time']:.1f} s, sharing the {device} at once "
            f"{walls['joblib_shared']:.1f} s: "
            f"{walls['one_at_a_time'] / walls['joblib_shared']:.2f}x the throughput.\n\n"
        )
    extrapolation = (
        "in a dry run from one step on the CPU, so only a check that the script works"
        if device == "cpu"
        else "data preparation and the FID classifier left out"
    )
    text = (
        f"# gensweep GPU check{' (dry run on the CPU)' if device == 'cpu' else ''}\n\n"
        f"Made by `bash benchmarks/gpu_check.sh{' --dry-run' if device == 'cpu' else ''}`.\n\n```\n{env}\n```\n\n"
        f"## Steps\n\n{_table(steps, ['step', 'status', 'seconds'])}\n"
        f"## Tests (`pytest -m cuda`)\n\n{_tests(out)}\n"
        f"## Training throughput, images/s (bench.csv)\n\n{BENCH_COLUMNS}\n\n"
        f"{_table(_read_csv(out / 'bench.csv'), bench_cols)}\n"
        f"## Speed options on the DCGAN (variants.csv)\n\n{_table(_variants(out), bench_cols)}\n"
        "## Expected wall time of each study's sweep, one run at a time (study_time.csv)\n\n"
        "Extrapolated from a few timed training steps of every run (benchmarks/study_time.py `--steps`), plus 5%; "
        f"{extrapolation}.\n\n"
        f"{_table(_read_csv(out / 'study_time.csv'), ['study', 'runs', 'hours_one_at_a_time', 'longest_run_hours'])}\n"
        f"## Four runs sharing {'the CPU (dry run)' if device == 'cpu' else 'one GPU'} (sweep.csv)\n\n{gain}"
        f"{_table(sweep_rows, ['launcher', 'job', 'model', 'device', 'status', 'train_seconds', 'job_wall_seconds'])}"
    )
    (out / "results.md").write_text(text)
    return text


def main() -> None:
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a time limit's TERM too: finally blocks run
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", choices=["env", "sweep", "summary"])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", type=Path, required=True)
    args, overrides = parser.parse_known_args()  # sweep: gensweep keys for every run, after --
    overrides = [o for o in overrides if o != "--"]
    if args.part == "env":
        text = describe(args.device)
        (args.out / "env.txt").write_text(text + "\n")
        print(text)
    elif args.part == "sweep":
        sweep(args.device, args.out, overrides)
    else:
        print(summary(args.device, args.out))


if __name__ == "__main__":
    main()
