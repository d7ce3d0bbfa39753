# 党建台账 — 常用命令。 make run：安装并启动；make test：运行全部测试。
SHELL := /bin/bash
VENV  ?= .venv
HOST  ?= 127.0.0.1
PORT  ?= 8000
# The machine's own python3 (3.10 or newer: Debian 12, Ubuntu 22.04 and 信创 server distributions ship 3.10–3.11).
PYTHON ?= python3
BIN   := $(VENV)/bin

.PHONY: run test lint format bench install clean-data wheels

$(BIN)/dangjian: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null || { \
	  echo "需要 Python 3.10 或更高版本（本机 $(PYTHON) 不满足），可用 make run PYTHON=/path/to/python3 指定。"; exit 1; }
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

# Offline bundle for an intranet machine with no package index (docs/deploy.md「离线安装」): the project's wheel and
# every dependency's wheel for this machine's platform and the venv's Python, plus install.sh. For another Python:
# make wheels PYTHON=python3.10 VENV=.venv-py310
BUNDLE := dist/dangjian-offline
wheels: install
	rm -rf $(BUNDLE) && mkdir -p $(BUNDLE)/wheels
	$(BIN)/python -m pip wheel -q --wheel-dir $(BUNDLE)/wheels .
	cp scripts/install-offline.sh $(BUNDLE)/install.sh
	cp docs/deploy.md $(BUNDLE)/
	$(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' > $(BUNDLE)/PYTHON_VERSION
	tar -czf $(BUNDLE)-$$($(BIN)/python -c 'import sys, sysconfig; from importlib.metadata import version; \
	  print("%s-py%d%d-%s" % (version("dangjian"), *sys.version_info[:2], sysconfig.get_platform().replace("-", "_")))').tar.gz \
	  -C dist dangjian-offline
	@ls -1 dist/*.tar.gz && echo "离线安装包已生成：复制到内网机器，解压后运行 sh dangjian-offline/install.sh（见 docs/deploy.md）"
