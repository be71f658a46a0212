# The two set-up commands of the README: `make demo` and `make test`.
# Each creates .venv on first use and installs the project from its own files.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.sk_ssl-installed
DOCS_STAMP := $(VENV)/.sk_ssl-docs-installed
# SK_SSL_DOCS_PLOT_GALLERY=0 make docs: render the gallery without running it.
SPHINXOPTS ?= -W --keep-going

.PHONY: demo test bench docs clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test,bench,distributed,multigpu,images]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m sk_ssl.demo

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	for script in benchmarks/bench_*.py; do $(PY) $$script || exit 1; done

# The docs extra goes into the same .venv, with its own stamp.
$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[docs]"
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	$(PY) -m sphinx -b html $(SPHINXOPTS) docs docs/_build/html
	@echo "HTML in docs/_build/html/index.html"

clean:
	rm -rf $(VENV) .pytest_cache docs/_build docs/generated docs/auto_examples docs/sg_execution_times.rst
