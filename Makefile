# The two set-up commands of the README: `make demo` and `make test`.
# Each creates .venv on first use and installs the project from its own files.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.sk_ssl-installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test,bench]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m sk_ssl.demo

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	for script in benchmarks/bench_*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache
