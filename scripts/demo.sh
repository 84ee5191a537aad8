#!/usr/bin/env bash
# Fresh machine -> virtualenv -> the main job: the sandbox with two realms and a month of staffing billing.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet .
.venv/bin/nexora-qbo demo "$@"
