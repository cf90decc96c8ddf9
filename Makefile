# Kling Studio — two commands do all set-up: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.deps-stamp
# Qt's xcb platform and QtMultimedia need these on Debian/Ubuntu (see docs/ARCHITECTURE notes).
QT_DEBS := libpulse0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 \
           libxcb-xinerama0 libxcb-randr0 libxcb-shape0 libxcb-xkb1 libxcb-cursor0 \
           libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 libdbus-1-3 fonts-dejavu-core \
           libxml2-utils poppler-utils fonts-droid-fallback
# Test tools: xmllint (FCPXML DTD check), pdftotext/pdfimages (storyboard PDF), a CJK font for the PDF.
TEST_TOOLS := xmllint pdftotext pdfimages pdffonts pdfinfo
QT_LIBS := libpulse.so.0 libxcb-icccm.so.4 libxcb-keysyms.so.1 libxcb-cursor.so.0 libxkbcommon-x11.so.0 libEGL.so.1

.PHONY: run test lint types pytest syslibs venv screenshots bench soak package package-check clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml requirements.lock | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

syslibs:
	@missing=""; for lib in $(QT_LIBS); do ldconfig -p | grep -q "$$lib" || missing="$$missing $$lib"; done; \
	[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing DejaVuSans.ttf"; \
	for tool in $(TEST_TOOLS); do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	[ -f /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf ] || missing="$$missing DroidSansFallbackFull.ttf"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Qt system libraries and test tools (missing:$$missing)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(QT_DEBS) >/dev/null; \
	  else \
	    echo "Qt and the tests need system packages (missing:$$missing). Run:"; \
	    echo "  sudo apt-get install -y $(QT_DEBS)"; \
	  fi; \
	fi

run: $(STAMP) syslibs
	$(PY) -m kling_studio $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check kling_studio tests benchmarks
	$(VENV)/bin/ruff format --check kling_studio tests benchmarks

types: $(STAMP)
	$(VENV)/bin/mypy kling_studio

pytest: $(STAMP) syslibs
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test: lint types pytest

screenshots: $(STAMP) syslibs
	QT_QPA_PLATFORM=offscreen $(PY) -m kling_studio.ui.demo.screenshots docs/screenshots

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/run_all.py

# 100 random SIGKILLs across submit/poll/download, each followed by resume (minutes; not in `make test`).
soak: $(STAMP)
	$(PY) benchmarks/soak_crash.py --kills 100

package: $(STAMP)
	PY=$(PY) packaging/build.sh

package-check: $(STAMP) syslibs
	PY=$(PY) packaging/check.sh

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache
