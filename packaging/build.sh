#!/usr/bin/env bash
# Build the one-folder app with PyInstaller: dist/kling-studio/kling-studio.
# Usage: packaging/build.sh      (PY=/path/to/python to use another interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}

if [ ! -x "$PY" ]; then
  echo "build.sh: $PY not found; run 'make venv' first (or set PY=...)" >&2
  exit 2
fi
if ! "$PY" -m PyInstaller --version >/dev/null 2>&1; then
  echo "Installing PyInstaller (the 'package' extra)"
  "$PY" -m pip install --quiet -c requirements.lock -e ".[package]"
fi

start=$(date +%s)
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/kling-studio.spec
echo "Built dist/kling-studio in $(( $(date +%s) - start )) s; size $(du -sh dist/kling-studio | cut -f1)"
