# raflab: `make demo` draws the RAF figure, `make test` runs the tests. Both create .venv first and
# install the pinned environment of requirements.lock (every package, the test extras included), so a
# fresh clone gets the versions that passed. `make test-latest` runs the same suite against the newest
# versions pyproject.toml allows, `make test-oldest` against its lower bounds; `make lock` re-pins.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LOCK := requirements.lock
RESULTS := results
FIGURE := $(RESULTS)/raf_linear_hinge.png
# Two workers on two cores, one BLAS thread each.
THREADS := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

.PHONY: install demo test test-all test-latest test-oldest lock bench clean

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -c $(LOCK) --upgrade pip
	$(BIN)/python -m pip install -q -c $(LOCK) -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The main job: the three RAF errors against alpha for eps in {0, 0.1, 0.3}, hinge loss, small lam,
# exact theory (lines) and fits at d = 300 over 4 seeds (points with standard errors).
demo: install
	mkdir -p $(RESULTS)
	$(BIN)/raflab compare --model linear --loss hinge --alpha 0.25:4:10 --eps 0,0.1,0.3 --lam 0.02 \
		--d 300 --seeds 4 --format table --out $(FIGURE)

# Default run: everything but the tests marked slow.
test: install
	$(THREADS) $(BIN)/python -m pytest -q -n 2 -m "not slow"

test-all: install
	$(THREADS) $(BIN)/python -m pytest -q -n 2

# The check to run before refreshing the lock: a venv of its own with the newest versions that
# pyproject.toml allows (nothing pinned), then the default test run.
test-latest:
	rm -rf .venv-latest
	$(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip install -q --upgrade pip
	.venv-latest/bin/python -m pip install -q --upgrade --upgrade-strategy eager -e '.[test]'
	.venv-latest/bin/python tools/lock.py versions
	$(THREADS) .venv-latest/bin/python -m pytest -q -n 2 -m "not slow"

# The lower bounds of pyproject.toml are tested ones: every direct dependency at its lower bound
# (the packages they need at the newest versions that fit), then the default test run.
test-oldest:
	rm -rf .venv-oldest
	$(PYTHON) -m venv .venv-oldest
	.venv-oldest/bin/python -m pip install -q --upgrade pip
	.venv-oldest/bin/python tools/lock.py lower-bounds > .venv-oldest/lower-bounds.txt
	.venv-oldest/bin/python -m pip install -q -c .venv-oldest/lower-bounds.txt -e '.[test]'
	.venv-oldest/bin/python tools/lock.py versions
	$(THREADS) .venv-oldest/bin/python -m pytest -q -n 2 -m "not slow"

# Re-resolve the newest versions pyproject.toml allows in a clean venv and pin all of them.
# Run `make test-latest` first: the lock should only ever hold versions that passed.
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install -q --upgrade pip
	.venv-lock/bin/python -m pip install -q '.[test]'
	.venv-lock/bin/python tools/lock.py freeze > $(LOCK).new
	mv $(LOCK).new $(LOCK)
	rm -rf .venv-lock

bench: install
	$(BIN)/python benchmarks/bench_theory.py
	$(BIN)/python benchmarks/bench_rf_theory.py
	$(BIN)/python benchmarks/bench_ridge_path.py
	$(BIN)/python benchmarks/bench_fits.py
	$(BIN)/python benchmarks/bench_attention.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_gallery.py
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/bench_diffusion.py --threads 1
	$(BIN)/python benchmarks/bench_sdpi.py --threads 2
	$(BIN)/python benchmarks/bench_scan.py  # 2 torch threads; the official Mamba peer when RAF_MAMBA_REPO is set
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/bench_gpt_throughput.py
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/bench_grpo.py

clean:
	rm -rf $(VENV) .venv-latest .venv-oldest .venv-lock .pytest_cache build dist
