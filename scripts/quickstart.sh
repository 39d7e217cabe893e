#!/usr/bin/env bash
# Set up .venv and run a closed-loop campaign against the built-in cycler simulator,
# logged to mlruns/; it ends with the best recipes, what to try next and how to open MLflow.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/gbs demo "$@"
