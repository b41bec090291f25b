#!/usr/bin/env bash
# The whole GPU picture in one call (at most 9.5 minutes on one H100/H200-class GPU), into one folder:
#   1. env        GPU, driver, torch and CUDA versions                              env.txt
#   2. tests      the `cuda` tests (pytest -m cuda, 4 at a time)                    tests.log, tests.xml
#   3. bench      benchmarks/bench.py --device cuda, every model, MNIST shape, one
#                 real-length epoch per row (a/b and a/c)                           bench.csv
#   4. variants   the DCGAN with --variants bf16,compile (its 32 row: bench's)      variants.csv
#   5. studies    benchmarks/study_time.py all --device cuda                           study_time.csv
#   6. sweep      4 runs (vae, gan, wgan, dcgan) one after another, then as one
#                 joblib sweep sharing the GPU (jobs_per_gpu=4)                     sweep.csv
#   7. summary    results.md from all of the above, printed at the end
# Each step's output goes to <step>.log. Every step has its own time limit; a step that fails or runs out of
# time is marked so in results.md and the next one still runs (a CSV keeps the rows finished before the limit).
#
#   bash benchmarks/gpu_check.sh                 # on the GPU machine, from a clone of the repository
#   bash benchmarks/gpu_check.sh --dry-run       # the same steps on the CPU at tiny sizes (a test runs this)
#   bash benchmarks/gpu_check.sh --out DIR       # results folder (default outputs/gpu_check/<date>_<time>)
#
# Python: $PYTHON if set, else .venv/bin/python or the system python3 if either can import what the check
# needs; else the script makes .venv (with --system-site-packages, so that a CUDA build of torch already on
# the machine is used) and runs pip install -e '.[test]' into it. Offline, that works only for what the
# machine already has: the script then names the modules missing.
set -uo pipefail
cd "$(dirname "$0")/.."

DRY=0
OUT=""
while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) DRY=1 ;;
        --out) OUT="${2:?--out needs a folder}"; shift ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "gpu_check: unknown option $1 (use --dry-run, --out DIR or --help)" >&2; exit 2 ;;
    esac
    shift
done
OUT="${OUT:-outputs/gpu_check/$(date +%Y-%m-%d_%H-%M-%S)}"
mkdir -p "$OUT" || { echo "gpu_check: cannot create $OUT" >&2; exit 2; }
OUT="$(cd "$OUT" && pwd)"

# Python: $PYTHON; else .venv/bin/python or the system python3, whichever already has gensweep's needs; else
# install into .venv (made with --system-site-packages, so a CUDA torch already on the machine is kept).
NEEDS="gensweep torch torchvision hydra pytest xdist sklearn matplotlib hydra_plugins.hydra_joblib_launcher"
missing() {  # the modules of NEEDS that $1 cannot import (empty: it has them all)
    "$1" - $NEEDS <<'PY' 2>/dev/null || echo "python itself"
import importlib, sys
bad = []
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except ImportError:
        bad.append(name)
print(" ".join(bad))
PY
}
if [ -n "${PYTHON:-}" ]; then
    PY="$PYTHON"
elif [ -x .venv/bin/python ] && [ -z "$(missing .venv/bin/python)" ]; then
    PY=.venv/bin/python
elif [ -z "$(missing python3)" ]; then
    PY=python3
else
    echo "gpu_check: installing gensweep into .venv (pip install -e '.[test]'; needs the network for what is missing)"
    fresh=0
    [ -x .venv/bin/python ] || { python3 -m venv --system-site-packages .venv && fresh=1; }
    if [ ! -x .venv/bin/python ] || ! .venv/bin/python -m pip install -q -e '.[test]'; then
        [ "$fresh" = 1 ] && rm -rf .venv   # no half-made .venv for the next try to trust
        echo "gpu_check: the install failed; missing from python3: $(missing python3)" >&2
        exit 2
    fi
    PY=.venv/bin/python
fi
gaps="$(missing "$PY")"
if [ -n "$gaps" ]; then
    echo "gpu_check: $PY cannot import: $gaps (pip install -e '.[test]' installs them)" >&2
    exit 2
fi

if [ "$DRY" = 1 ]; then
    DEVICE=cpu
    export GENSWEEP_TEST_GPU=cpu        # two of the cuda tests, on the CPU: the step's own mechanics
    TESTS=(tests/test_cuda.py -m cuda -k "nan_is_caught or index_past")  # collecting only their file
    # narrow nets, few samples and probe steps: the steps' mechanics in seconds, not a measurement
    SMALL=(width=8 metrics.n_samples=64 metrics.probe.steps=10 metrics.probe.n_train=256 metrics.probe.n_test=128)
    TINY=(--shapes mnist --epochs 1 --steps-per-epoch 2 --measure-steps 2 --workers 0 metrics.classifier_steps=20 "${SMALL[@]}")
    BENCH=(--models dcgan "${TINY[@]}")
    VARIANTS=(--models dcgan --variants channels_last "${TINY[@]}")   # its 32 row: bench's, as below; bf16, compile: slow on a CPU
    STUDIES=(s5_zappos --steps 1)
    SWEEP=(debug=smoke width=8)
    LIMITS=(90 120 120 60 120)
else
    DEVICE=cuda
    # Sized from the first run on an H200 (2026-11-30): 15 of the 19 cuda tests took 116 s one at a time, a bench
    # row about 30 s (a fresh process, a real MNIST epoch, (b) and (c)), the 4-run sweep 42 s one at a time.
    TESTS=(-m cuda -n 4)
    BENCH=(--shapes mnist --epochs 1 --measure-steps 200)
    VARIANTS=(--models dcgan --shapes mnist --variants bf16,compile --epochs 1 --measure-steps 200)
    STUDIES=(all --steps 3)
    SWEEP=(dataset=mnist "dataset.root=$OUT/data" dataset.download=false n_epochs=2)
    LIMITS=(80 220 90 40 90)   # with env's 15 s and 5 s of grace each: 565 s, inside the 9.5 minutes
fi

STEPS="$OUT/steps.tsv"
printf 'step\tstatus\tseconds\n' > "$STEPS"
# run NAME LIMIT_SECONDS COMMAND...: the command's output goes to NAME.log; its status and time to steps.tsv
run() {
    local name="$1" limit="$2"
    shift 2
    echo "gpu_check: $name (at most ${limit}s)"
    local start=$SECONDS status rc=0
    # SIGINT at the limit: pytest still writes its report, gpu_report its CSV, and both clean up
    timeout --signal=INT --kill-after=5 "$limit" "$@" > "$OUT/$name.log" 2>&1 || rc=$?
    case $rc in
        0) status=ok ;;
        124|130|137) status="timed out after ${limit}s" ;;
        *) status="failed (exit $rc)" ;;
    esac
    printf '%s\t%s\t%s\n' "$name" "$status" $((SECONDS - start)) >> "$STEPS"
    [ "$status" = ok ] || { echo "gpu_check: $name $status; last lines of $OUT/$name.log:"; tail -5 "$OUT/$name.log"; }
}

run env 15 "$PY" benchmarks/gpu_report.py env --device "$DEVICE" --out "$OUT"
run tests "${LIMITS[0]}" "$PY" -m pytest -q -rs "${TESTS[@]}" --junitxml="$OUT/tests.xml" -p no:cacheprovider
run bench "${LIMITS[1]}" "$PY" benchmarks/bench.py --device "$DEVICE" "${BENCH[@]}" --out "$OUT/bench.csv"
run variants "${LIMITS[2]}" "$PY" benchmarks/bench.py --device "$DEVICE" "${VARIANTS[@]}" --out "$OUT/variants.csv"
run studies "${LIMITS[3]}" "$PY" benchmarks/study_time.py "${STUDIES[@]}" --device "$DEVICE" --csv "$OUT/study_time.csv"
run sweep "${LIMITS[4]}" "$PY" benchmarks/gpu_report.py sweep --device "$DEVICE" --out "$OUT" -- "${SWEEP[@]}"
"$PY" benchmarks/gpu_report.py summary --device "$DEVICE" --out "$OUT"
echo "gpu_check: everything is in $OUT (results.md first)"
