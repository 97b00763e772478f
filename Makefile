# ganlab — `make lab` to learn, `make test` to check. The venv is made once and reused.
PYTHON   ?= python3
VENV     ?= .venv
PY       := $(VENV)/bin/python
STAMP    := $(VENV)/.installed
LAB_ARGS ?=
# JupyterLab refuses to run as root unless told to (containers, CI).
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
# Two pytest workers on a 2-core machine, one torch thread each: oversubscribed OpenMP threads
# made notebook runs 20-70x slower. Override with `make test WORKERS=4` on a bigger machine.
WORKERS  ?= 2
THREADS  ?= 1

.PHONY: install lab test unit notebooks notebooks-seeds lint data classifier e2e bench gpu-check gpu-bundle clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[dev,e2e]'
	@touch $(STAMP)

# Fashion-MNIST: already present → nothing; root on Debian/Ubuntu → apt package; else download.
data: install
	@if $(PY) -c "from ganlab.data import ensure_local; ensure_local('fashion_mnist')" 2>/dev/null; then \
		$(PY) -c "from ganlab.data import ensure_local; print(ensure_local('fashion_mnist'))"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && apt-cache policy dataset-fashion-mnist 2>/dev/null | grep -q Candidate; then \
		apt-get install -y -qq dataset-fashion-mnist || (apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist); \
	else \
		$(PY) -m ganlab.data fashion_mnist; \
	fi

# The Fashion-MNIST classifier behind the sample-quality metrics (notebooks 05 and 07-14): trained once
# (about 2 min on a 2-core CPU) and cached under data/classifiers/, so no notebook pays for it.
classifier: install data
	OMP_NUM_THREADS=2 $(PY) -c "from ganlab.features import classifier; classifier('fashion_mnist')"

lab: install data
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(ROOT_FLAG) $(LAB_ARGS)

lint: install
	$(VENV)/bin/ruff check conftest.py ganlab tests tools notebooks
	$(PY) tools/check_notebooks.py notebooks

unit: install data
	OMP_NUM_THREADS=$(THREADS) $(VENV)/bin/pytest -q -n $(WORKERS) -m "not e2e" tests

notebooks: install data classifier
	GANLAB_FAST=1 OMP_NUM_THREADS=$(THREADS) MPLBACKEND=agg $(VENV)/bin/pytest -q -n $(WORKERS) --dist loadfile \
		--nbval-lax --nbval-current-env -p no:randomly --durations=0 notebooks/

# The notebooks again with other seeds (GANLAB_SEED, read by every setup cell): a check on a training outcome
# must hold off the trajectory it was written against, not only for seed 0.
notebooks-seeds: install data classifier
	for seed in 1 2 3; do \
		GANLAB_SEED=$$seed GANLAB_FAST=1 OMP_NUM_THREADS=$(THREADS) MPLBACKEND=agg $(VENV)/bin/pytest -q -n $(WORKERS) \
			--dist loadfile --nbval-lax --nbval-current-env -p no:randomly --durations=0 notebooks/ || exit 1; \
	done

e2e: install data
	$(PY) tools/run_e2e.py

test: lint unit notebooks
	@$(PY) tools/run_e2e.py --if-available

bench: install data
	$(PY) -m ganlab.bench

# On a machine with an NVIDIA GPU: unit tests, notebooks (fast mode), bench and graph-vs-eager on CUDA, one
# report in artifacts/gpu-check/ (tools/gpu_check.py). USE_SYSTEM=1 uses $(PYTHON) as it is (a bare CUDA
# machine whose python has torch): no venv, nothing installed; a gpu-bundle/ folder beside this file, made
# by `make gpu-bundle` where there is network, brings the data, the classifier and missing wheels.
USE_SYSTEM ?= 0
GPU_BUNDLE ?= gpu-bundle
GPU_ARGS   ?=
ifeq ($(USE_SYSTEM),1)
GPU_PY   := $(PYTHON)
GPU_DEPS :=
else
GPU_PY   := $(PY)
GPU_DEPS := install data classifier
endif
gpu-check: $(GPU_DEPS)
	$(GPU_PY) tools/gpu_check.py $(if $(wildcard $(GPU_BUNDLE)),--bundle $(GPU_BUNDLE)) $(GPU_ARGS)

gpu-bundle: install data classifier
	$(PY) tools/gpu_bundle.py --out $(GPU_BUNDLE)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache artifacts build *.egg-info $(GPU_BUNDLE)
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
