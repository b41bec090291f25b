#!/usr/bin/env bash
# Run one study's sweep and print where its report is:
#   scripts/study.sh s1_depth [--smoke] [gensweep overrides...]
# (the same as python -m gensweep experiment=s1_depth -m, with the sweep folder under outputs/studies/)
# --smoke (or GENSWEEP_SMOKE=1): the same sweep for one epoch on a 128-image subset of the bundled digits
# (every dataset of the study replaced by digits, so it runs anywhere, offline, in minutes on a CPU).
# GENSWEEP_SMOKE_DATA=real keeps the study's own datasets in the smoke run (they must be on disk or downloadable).
# Environment: PYTHON (default: python), GENSWEEP_STUDIES (where sweeps go, default outputs/studies).
# Any extra argument is passed to gensweep, e.g. hydra/launcher=joblib or device=cuda.
set -euo pipefail
study="$1"; shift
smoke="${GENSWEEP_SMOKE:-0}"
args=()
for a in "$@"; do
  if [[ "$a" == "--smoke" ]]; then smoke=1; else args+=("$a"); fi
done
python="${PYTHON:-python}"
name="$study"
extra=()
if [[ "$smoke" == "1" ]]; then
  name="$study-smoke"
  extra=(debug=smoke)  # conf/debug/smoke.yaml
  if [[ "${GENSWEEP_SMOKE_DATA:-digits}" != "real" ]]; then extra+=(dataset=digits); fi
fi
dir="${GENSWEEP_STUDIES:-outputs/studies}/$name/$(date +%Y-%m-%d_%H-%M-%S)"
echo "study $study$([[ "$smoke" == "1" ]] && echo ' (smoke)'): sweep folder $dir"
start=$(date +%s)
status=0
"$python" -m gensweep experiment="$study" "${extra[@]}" "hydra.sweep.dir=$dir" "${args[@]}" -m || status=$?
echo "study $study: finished in $(( $(date +%s) - start )) s (exit $status)"
if [[ -f "$dir/report/README.md" ]]; then
  echo "report: $dir/report/README.md"
else
  echo "no report was written under $dir (see the errors above)" >&2
fi
exit "$status"
