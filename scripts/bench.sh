#!/usr/bin/env bash
# Fresh machine -> virtualenv -> one benchmark: `bash scripts/bench.sh bench_engine_overhead.py [options]`.
# Prints its figures; add --write to record them in BENCHMARKS.md (nothing is rewritten unless asked).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
ensure_venv
script="${1:?usage: bash scripts/bench.sh <benchmarks/script.py> [options]}"
shift
.venv/bin/python "benchmarks/$(basename "$script")" "$@"
