#!/usr/bin/env bash
# The packaging check: desktop entry and AppStream metadata validate, the PyInstaller one-folder
# app builds, prints --version, and opens its window offscreen and quits (--smoke).
# Usage: packaging/check.sh          (KLING_SKIP_BUILD=1 reuses an existing dist/kling-studio)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
APP_ID=io.github.klingstudio.KlingStudio
APP=dist/kling-studio/kling-studio
check_start=$(date +%s)
step() { printf '\n== %s\n' "$*"; }

step "tools"
missing=()
command -v desktop-file-validate >/dev/null || missing+=(desktop-file-utils)
command -v appstreamcli >/dev/null || missing+=(appstream)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "check.sh needs: ${missing[*]}. Run: sudo apt-get install -y ${missing[*]}" >&2
    exit 2
  fi
fi
echo "desktop-file-validate: $(command -v desktop-file-validate); $(appstreamcli --version)"

step "desktop entry"
desktop-file-validate "packaging/$APP_ID.desktop"
# The command the entry starts must be one that both the wheel and the PyInstaller bundle provide.
exec_cmd=$(sed -n 's/^Exec=\([^ ]*\).*/\1/p' "packaging/$APP_ID.desktop")
tryexec_cmd=$(sed -n 's/^TryExec=//p' "packaging/$APP_ID.desktop")
[ "$exec_cmd" = "$tryexec_cmd" ] || { echo "Exec ($exec_cmd) and TryExec ($tryexec_cmd) name different commands" >&2; exit 1; }
echo "ok: packaging/$APP_ID.desktop starts '$exec_cmd'"

step "AppStream metainfo"
appstreamcli validate --no-net "packaging/$APP_ID.metainfo.xml"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

step "wheel: resources and entry points (pip install .)"
"$PY" -m pip wheel . --no-deps --quiet -w "$scratch/wheel" > "$scratch/wheel.log" 2>&1 || { cat "$scratch/wheel.log" >&2; exit 1; }
wheel=$(ls "$scratch"/wheel/kling_studio-*.whl)
"$PY" - "$wheel" <<'PYEOF'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
need = ["kling_studio/resources/sample/sample.kling.json", "kling_studio/resources/sample/frames/first-frame.png",
        "kling_studio/resources/app/kling-studio.svg", "kling_studio/resources/app/kling-studio-512.png"]
missing = [n for n in need if n not in names]
sys.exit(f"missing from the wheel: {missing}" if missing else 0)
PYEOF
# A throw-away venv with only the wheel installed; the pinned dependencies come from .venv via a .pth file.
"$PY" -m venv "$scratch/venv"
"$scratch/venv/bin/python" -m pip install --quiet --no-deps "$wheel"
"$PY" -c 'import sysconfig; print(sysconfig.get_path("purelib"))' > "$("$scratch/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/venv-deps.pth"
test -x "$scratch/venv/bin/kling-studio-gui"
test -x "$scratch/venv/bin/$exec_cmd" || { echo "the wheel does not install the desktop entry's command $exec_cmd" >&2; exit 1; }
"$scratch/venv/bin/kling-studio" --version
sample=$(cd "$scratch" && "$scratch/venv/bin/python" -c 'import kling_studio, pathlib; print(pathlib.Path(kling_studio.__file__).parent / "resources/sample/sample.kling.json")')
case "$sample" in "$scratch"/venv/*) ;; *) echo "kling_studio was imported from $sample, not the wheel" >&2; exit 1;; esac
"$scratch/venv/bin/kling-studio" compile "$sample" >/dev/null
echo "ok: $(basename "$wheel") has resources/ and working kling-studio, kling-studio-gui commands"

step "PyInstaller one-folder build"
if [ "${KLING_SKIP_BUILD:-0}" = 1 ] && [ -x "$APP" ]; then
  echo "reusing $APP (KLING_SKIP_BUILD=1)"
else
  PY="$PY" packaging/build.sh
fi

step "desktop entry command in the bundle"
test -x "dist/kling-studio/$exec_cmd" || { echo "the bundle has no $exec_cmd (the desktop entry's Exec)" >&2; exit 1; }
echo "ok: dist/kling-studio/$exec_cmd"

step "bundled resources and adapters"
internal=dist/kling-studio/_internal
for f in kling_studio/resources/sample/sample.kling.json kling_studio/resources/sample/frames/first-frame.png \
         kling_studio/resources/app/kling-studio.svg otio_fcpx_xml_adapter/plugin_manifest.json \
         otio_cmx3600_adapter/cmx_3600.py; do
  test -e "$internal/$f" || { echo "missing in the bundle: $f" >&2; exit 1; }
done
echo "ok"

# The app must not read or write the user's own settings, keyring or library while checked.
export KLING_STUDIO_HOME="$scratch/home" HOME="$scratch" XDG_CONFIG_HOME="$scratch/config" \
  XDG_DATA_HOME="$scratch/data" XDG_CACHE_HOME="$scratch/cache" XDG_STATE_HOME="$scratch/state"
unset KLING_STUDIO_API_KEY

step "--version"
expected="kling-studio $("$PY" -c 'import kling_studio; print(kling_studio.__version__)')"
got=$("$APP" --version)
echo "$got"
[ "$got" = "$expected" ] || { echo "expected '$expected'" >&2; exit 1; }

step "compile the bundled sample (frozen CLI)"
"$APP" compile "$internal/kling_studio/resources/sample/sample.kling.json" >/dev/null
echo "ok"

step "export from the frozen CLI (EDL with transliterated text, storyboard PDF)"
"$APP" animatic "$internal/kling_studio/resources/sample/sample.kling.json" -o "$scratch/take.mp4" >/dev/null
"$PY" - "$scratch/take.json" <<'PYEOF'
import json, sys
from kling_studio.domain.project_file import storyboard_to_snapshot
from kling_studio.domain.storyboard import Shot, Storyboard
board = Storyboard(title="Night", shots=(Shot("東京の夜景", 5), Shot("Rain on the window", 10)))
with open(sys.argv[1], "w", encoding="utf-8") as fh:
    json.dump({"job_id": "0c4ec4ec4ec4", "title": "Night", "storyboard": storyboard_to_snapshot(board)}, fh)
PYEOF
"$APP" export "$scratch/take.mp4" --format edl -o "$scratch/take.edl" >/dev/null
grep -q "Shot 1: Dong Jing no Ye Jing" "$scratch/take.edl" || { cat "$scratch/take.edl" >&2; exit 1; }
"$APP" export "$scratch/take.mp4" --format pdf -o "$scratch/take.pdf" >/dev/null
head -c 5 "$scratch/take.pdf" | grep -q "%PDF-"
echo "ok"

step "--smoke (offscreen window)"
QT_QPA_PLATFORM=offscreen timeout 120 "$APP" --smoke 2>&1 | tee "$scratch/smoke.log"
status=${PIPESTATUS[0]}
[ "$status" = 0 ] || { echo "--smoke exited with $status" >&2; exit 1; }
# A bundle that lost a library Qt Multimedia's FFmpeg plugin links still opens, without a player.
if grep -q "No QtMultimedia backends found" "$scratch/smoke.log"; then
  echo "the bundled Qt Multimedia has no backend (a library of its FFmpeg plugin is missing)" >&2
  exit 1
fi
echo "ok"

step "summary"
echo "one-folder size: $(du -sh dist/kling-studio | cut -f1); check took $(( $(date +%s) - check_start )) s"
echo "PACKAGING CHECK PASSED"
