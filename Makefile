# Two commands set everything up on a fresh machine with Python 3.11:
#   make demo   install, then run the offline demo on generated images
#   make test   install, then run the test suite
#   make grid-demo  the 12-run grid on generated images (Table 2 layout)
#   make serve-demo  a local web page (127.0.0.1:8000) on the demo's model
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint install benchmark grid-demo serve-demo

$(VENV)/.installed: requirements/runtime.txt requirements/tests.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/tests.txt
	$(PY) -m pip install --quiet --no-build-isolation --no-deps -e .
	touch $@

install: $(VENV)/.installed

demo: install
	$(PY) tools/demo.py

test: install
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder

lint: install
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports

benchmark: install
	$(PY) tools/dataset/benchmark_annotations.py

grid-demo: install
	$(PY) tools/run_grid.py --demo --work-dir work_dirs/grid_demo

serve-demo: install
	$(PY) tools/serve.py --demo
