# 党建台账 — 常用命令。 make run：安装并启动；make test：运行全部测试。
SHELL := /bin/bash
VENV  ?= .venv
HOST  ?= 127.0.0.1
PORT  ?= 8000
# Django 6 needs Python 3.12 or newer: take the newest interpreter on this machine that actually runs.
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 /root/.pyenv/versions/3.1[2-9]*/bin/python3 $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 python3; do \
	  if $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then echo $$p; break; fi; done)
BIN   := $(VENV)/bin

.PHONY: run test lint format bench install clean-data

$(BIN)/dangjian: pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "需要 Python 3.12 或更高版本（Django 6 的要求），本机未找到。"; exit 1; fi
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(BIN)/dangjian

install: $(BIN)/dangjian

run: install
	$(BIN)/dangjian init --demo
	$(BIN)/dangjian serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: install
	$(BIN)/python -m bench

clean-data:
	rm -rf data
