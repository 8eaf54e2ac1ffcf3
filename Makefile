# The README's two commands: `make catalog` and `make test`. Each creates the environment first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.authcat-installed

.PHONY: catalog test lint bench serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[targets,test,bench]'
	touch $(STAMP)

## make catalog: probe the bundled local targets, classify, build the site into site/build/
catalog: $(STAMP)
	$(BIN)/authcat run

## make test: the whole test suite, against real local servers
test: $(STAMP)
	scripts/run-tests

lint: $(STAMP)
	$(BIN)/authcat lint

## make bench: the performance figures (B1–B7, B6 = the last make test) side by side; prints the table, writes benchmarks/results.json
bench: $(STAMP)
	scripts/ensure-system-deps
	$(BIN)/python -m benchmarks.run

serve: $(STAMP)
	$(BIN)/authcat serve

clean:
	rm -rf site/build site/generated .pytest_cache
