# One-command set-up: `make run` trains/studies, `make test` runs the suite.
# Cluster users with a system MPI: `make install EXTRAS=dev` and then build mpi4py against it
# (see README, "Cluster MPI").
PYTHON ?= python3
VENV   ?= .venv
EXTRAS ?= mpi,dev,postgres
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m sensitivity run studies/quickstart.toml
	$(PY) -m sensitivity figures studies/quickstart.toml

# One BLAS thread per process: the solver parallelises over ranks and workers, and BLAS threads
# on top of them oversubscribe the cores (3-4x slower gradient evaluations measured on 2 cores).
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1

test: $(STAMP)
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV)
