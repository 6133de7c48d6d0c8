#!/usr/bin/env bash
# The whole test suite: core, every plugin's own tests, the example plugin's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pytest "$@"
