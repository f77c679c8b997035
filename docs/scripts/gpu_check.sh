#!/usr/bin/env bash
# The one prepared GPU check (issue #30 item 4), for a session that is lent a CUDA machine.
#
#   here:    bash docs/scripts/gpu_check.sh prepare
#            downloads the wheels the device image lacks (lightgbm, optuna and what it needs,
#            rdata, bed-reader; xgboost is imported only when used and too large to carry) for Python 3.12 into .gpu/wheels and copies the yeast
#            data into .gpu/data (.gpu/ is git-ignored; about 20 MB, under the 64 MiB carry limit)
#   device:  run(command="bash docs/scripts/gpu_check.sh device", carry=[".gpu"], timeout_s=590)
#
# On the device it installs those wheels with --no-deps --target (nothing can be fetched
# there), then runs, each step under its own time limit so that the whole fits in 10 minutes:
#   1. the tests `tox -e gpu` runs (`pytest -m gpu -o addopts="" -rs`; tox itself would install
#      torch from the network, which the device machine cannot reach): the paper profile's
#      forward/backward pass, peak memory and epoch time (goal <= 0.5 s)
#   2. the headline command with --device cuda, timed (goal <= 10 min on one H100)
#   3. the transformer rungs of the simulation ladder (docs/notes/simulation-ladder.md) on CUDA,
#      as far as the time left allows
# and writes $OUT/gpu-report.md (GPU model, driver, torch, each step's output and wall time):
# paste it into docs/notes/gpu.md with the date and commit. A step that did not finish is named
# there as not measured.
set -uo pipefail
cd "$(dirname "$0")/../.."
GPU_DIR=.gpu
case "${1:-}" in
prepare)
    mkdir -p "$GPU_DIR/wheels" "$GPU_DIR/data"
    python3 -m pip download --quiet --no-deps --python-version 3.12 --only-binary=:all: \
        --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 \
        --platform manylinux_2_17_x86_64 -d "$GPU_DIR/wheels" \
        lightgbm optuna alembic sqlalchemy mako colorlog greenlet rdata bed-reader \
        || { echo "gpu_check: wheel download failed; check the network and the names" >&2; exit 1; }
    rm -rf "$GPU_DIR/data/yeast" && cp -r ../shared/data/yeast "$GPU_DIR/data/yeast"
    du -sh "$GPU_DIR"
    echo "prepared $GPU_DIR; now device.run with carry=[\"$GPU_DIR\"]"
    exit 0 ;;
device) ;;
*) echo "usage: bash docs/scripts/gpu_check.sh prepare|device" >&2; exit 2 ;;
esac

OUT="${OUT:-/tmp/gpu-check}"
mkdir -p "$OUT"
REPORT="$OUT/gpu-report.md"
START=$(date +%s)
python3 -m pip install --quiet --no-index --no-deps --target "$GPU_DIR/site" \
    "$GPU_DIR"/wheels/*.whl >"$OUT/install.log" 2>&1 || echo "some wheels did not install" >&2
export PYTHONPATH="$PWD/benchmark:$PWD/plugins:$PWD:$PWD/$GPU_DIR/site"
export GPBENCH_DATA_DIR="$PWD/$GPU_DIR/data/yeast" GPBENCH_CACHE="$OUT/cache"

{
    echo "# GPU check, $(date -u +%F' '%H:%M) UTC, commit $(git rev-parse --short HEAD 2>/dev/null)"
    echo
    echo '```'
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
    python3 -c "import torch, sys; print('torch', torch.__version__, 'python', sys.version.split()[0])"
    echo '```'
} >"$REPORT"

step() {  # step TITLE SECONDS COMMAND...: run with a time limit, record output and wall time
    local title=$1 limit=$2; shift 2
    local t0=$(date +%s) rc
    timeout "$limit" "$@" >"$OUT/step.log" 2>&1; rc=$?
    local wall=$(( $(date +%s) - t0 ))
    {
        echo; echo "## $title"; echo
        if [ $rc -eq 124 ]; then echo "NOT MEASURED: stopped at its limit of ${limit} s."; fi
        echo "exit $rc, wall ${wall} s: \`$*\`"; echo; echo '```'; tail -n 25 "$OUT/step.log"
        echo '```'
    } >>"$REPORT"
}

step "tox -e gpu's tests" 120 python3 -m pytest -m gpu -o addopts="" -rs -q -s \
    -p no:cacheprovider tests/test_transformer.py
step "headline command, --device cuda" 330 python3 -m gpbench run \
    --models transformer,lasso,gbm --envs Lactate,Lactose --device cuda \
    --data-dir "$GPBENCH_DATA_DIR" --out "$OUT/headline" --no-report
LEFT=$(( 570 - ($(date +%s) - START) ))
if [ -f docs/scripts/simulation_ladder.py ] && [ "$LEFT" -gt 30 ]; then
    step "simulation ladder, transformer rungs on CUDA" "$LEFT" python3 \
        docs/scripts/simulation_ladder.py --models transformer --device cuda \
        --sizes 1000,4000,16000,64000 --out "$OUT/ladder"
else
    printf '\n## simulation ladder\n\nNOT MEASURED: %s s left or no ladder script.\n' \
        "$LEFT" >>"$REPORT"
fi
cp "$OUT/headline/leaderboard.md" "$OUT/headline-leaderboard.md" 2>/dev/null
cat "$REPORT"
