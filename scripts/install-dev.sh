#!/usr/bin/env bash
# Install kamcore (editable, with test extras) and every plugin in plugins/ and examples/ into the
# active Python environment.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -e ".[test,bench]"
for plugin in plugins/*/ examples/*/; do
  if [ -f "$plugin/pyproject.toml" ]; then
    python -m pip install -q -e "$plugin"
  fi
done
