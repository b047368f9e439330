# The two commands that matter: `make demo` and `make test`. Both set up their own
# virtualenv (.venv) from pyproject.toml on first use and whenever it changes.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# `make token SUB=alice [EMAIL=...] [ROLE=SUPER_ADMIN] [MERCHANT=1]` (MERCHANT: the merchantId
# claim that scopes TRANSACTIONS in the packaged catalog; empty for a token without it)
SUB ?= demo-user
EMAIL ?= $(SUB)@example.com
ROLE ?=
MERCHANT ?= 1

.PHONY: help install demo up token test lint typecheck bench clean

help:
	@echo "make demo   - run the whole export flow locally on embedded defaults"
	@echo "make up     - the same local stack, left running until Ctrl-C"
	@echo "make token  - print a token for that stack: TOKEN=\$$(make -s token SUB=alice)"
	@echo "make test   - install what the tests need, lint (ruff, hadolint, mypy --strict),"
	@echo "              then run every test suite (pytest tests/; PYTEST_ARGS=... to narrow)"
	@echo "make lint   - ruff, hadolint, mypy --strict"
	@echo "make bench  - benchmarks (exporter vs psql \\copy; formats; API)"
	@echo "make clean  - remove the virtualenv and caches"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m devstack.demo

up: $(STAMP)
	$(BIN)/python -m devstack.up

token: $(STAMP)
	@$(BIN)/python -m devstack.token --sub '$(SUB)' --email '$(EMAIL)' $(if $(ROLE),--role '$(ROLE)') $(if $(MERCHANT),--merchant-id '$(MERCHANT)')

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/hadolint Dockerfile.exporter Dockerfile.operator
	$(BIN)/mypy exporter api operator/streamexport_operator core/streamexport_core devstack

typecheck: $(STAMP)
	$(BIN)/mypy exporter api operator/streamexport_operator core/streamexport_core devstack

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/bench_exporter.py
	$(BIN)/python bench/bench_formats.py --rows 100000,500000,1000000
	$(BIN)/python bench/bench_api.py
	$(BIN)/python bench/bench_api.py --only list --exports 10000 --concurrency 1,16 --rows 1000 --duration 30 --warmup 1
	$(BIN)/python bench/bench_export_index.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache *.egg-info
