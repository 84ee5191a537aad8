#!/usr/bin/env bash
# Fresh machine -> virtualenv with the app and its test extras -> the frappe-free test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
ensure_venv test
# Test the installed package (not the work tree) so a missing data file in the wheel shows up here.
.venv/bin/pytest -q -p no:cacheprovider "$@"
