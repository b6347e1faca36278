# raflab: `make demo` draws the RAF figure, `make test` runs the tests. Both create .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
FIGURE := docs/figures/raf_linear_hinge.png

.PHONY: install demo test test-all bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The main job: the three RAF errors against alpha for eps in {0, 0.1, 0.3}, hinge loss, small lam,
# exact theory (lines) and fits at d = 300 over 4 seeds (points with standard errors).
demo: install
	$(BIN)/raflab compare --model linear --loss hinge --alpha 0.25:4:10 --eps 0,0.1,0.3 --lam 0.02 \
		--d 300 --seeds 4 --format table --out $(FIGURE)

# Default run: everything but the tests marked slow; two workers on two cores, one BLAS thread each.
test: install
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 -m "not slow"

test-all: install
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2

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
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/bench_scan.py
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/bench_gpt_throughput.py
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/bench_grpo.py

clean:
	rm -rf $(VENV) .pytest_cache build dist
