#!/usr/bin/env bash
# Install kamcore (editable, with test and benchmark extras) and every plugin in plugins/ and
# examples/ into the active Python environment, in one pip run.
set -euo pipefail
cd "$(dirname "$0")/.."
args=(-e ".[test,bench]")
for plugin in plugins/*/ examples/*/; do
  if [ -f "$plugin/pyproject.toml" ]; then
    args+=(-e "$plugin")
  fi
done
python -m pip install -q "${args[@]}"
