#!/usr/bin/env bash
# Fresh machine -> virtualenv -> the main job: the sandbox with two realms and a month of staffing billing.
# Installs the app into .venv on the first run and again only when its files changed (scripts/_venv.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
ensure_venv
.venv/bin/nexora-qbo demo "$@"
