"""Checks on the documentation sources; none of them needs Sphinx.

* every gallery example runs (with ``SK_SSL_EXAMPLE_QUICK=1``: tiny settings);
* every public name of sk_ssl is listed in the API reference (docs/api.rst);
* every public estimator's docstring has the numpydoc sections the issue asks
  for, including an Examples section (run as a doctest by ``--doctest-modules``);
* every committed benchmark table is rendered on the benchmarks page.
"""

import importlib
import inspect
import re
import runpy
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

import sk_ssl

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))
DOCUMENTED_MODULES = ["sk_ssl", "sk_ssl.exceptions", "sk_ssl.datasets", "sk_ssl.losses", "sk_ssl.augment", "sk_ssl.encoders", "sk_ssl.models"]


def _public_names(module_name):
    module = importlib.import_module(module_name)
    return [name for name in module.__all__ if not name.startswith("_")]


def _api_entries():
    """Names listed under each ``.. currentmodule::`` of docs/api.rst, by module."""
    entries, module, in_autosummary = {}, None, False
    for line in (DOCS / "api.rst").read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith(".. currentmodule::"):
            module = stripped.split("::", 1)[1].strip()
            in_autosummary = False
        elif stripped.startswith(".. autosummary::"):
            in_autosummary = True
        elif in_autosummary and line.startswith("   ") and stripped and not stripped.startswith(":"):
            entries.setdefault(module, set()).add(stripped)
        elif stripped and not line.startswith(" "):
            in_autosummary = False
    return entries


def _public_estimators():
    return [getattr(sk_ssl, name) for name in _public_names("sk_ssl") if inspect.isclass(getattr(sk_ssl, name))]


def test_examples_found():
    assert len(EXAMPLES) >= 6, [p.name for p in EXAMPLES]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path, monkeypatch, tmp_path):
    """Run the example in-process with tiny settings and a non-interactive backend."""
    pytest.importorskip("pandas")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setenv("SK_SSL_EXAMPLE_QUICK", "1")
    monkeypatch.chdir(tmp_path)  # an example must not depend on, or write into, the working directory
    try:
        # One BLAS/OpenMP thread: tiny problems only lose time to thread start-up and contention.
        with threadpool_limits(limits=1):
            namespace = runpy.run_path(str(path), run_name="__main__")
        assert plt.get_fignums(), f"{path.name} drew no figure"
    finally:
        plt.close("all")
    assert namespace["QUICK"] is True


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_is_a_gallery_script(path):
    """sphinx-gallery needs a module docstring with an underlined title; examples must not read ../shared."""
    source = path.read_text()
    doc = inspect.cleandoc(re.match(r'^\s*"""(.*?)"""', source, re.S).group(1)).splitlines()
    assert len(doc) > 3 and set(doc[1]) == {"="} and len(doc[1]) >= len(doc[0]), doc[:2]
    assert "shared/data" not in source
    assert re.search(r"Reduced\s+settings", source), "state the reduced settings and the full ones in the text"


@pytest.mark.parametrize("module_name", DOCUMENTED_MODULES)
def test_api_reference_lists_every_public_name(module_name):
    listed = _api_entries().get(module_name, set())
    missing = [name for name in _public_names(module_name) if name != "__version__" and name not in listed]
    assert not missing, f"add {missing} to an autosummary under '.. currentmodule:: {module_name}' in docs/api.rst"


def test_api_reference_lists_nothing_stale():
    for module_name, names in _api_entries().items():
        module = importlib.import_module(module_name)
        stale = [name for name in names if not hasattr(module, name)]
        assert not stale, f"docs/api.rst lists {stale} under {module_name}, which does not define them"


@pytest.mark.parametrize("estimator", _public_estimators(), ids=lambda cls: cls.__name__)
def test_estimator_docstring_sections(estimator):
    doc = inspect.getdoc(estimator)
    sections = set(re.findall(r"^(\w[\w ]*)\n-{3,}$", doc, re.M))
    required = {"Parameters", "Attributes", "See Also", "References", "Examples"}
    assert required <= sections, f"{estimator.__name__} lacks {sorted(required - sections)}"
    attributes = doc.split("\nAttributes\n", 1)[1].split("\nSee Also\n", 1)[0]
    # Trained (torch) estimators; SentenceBagVectorizer takes documents, not feature columns, and trains nothing.
    trained = issubclass(estimator, sk_ssl._base._TorchEstimatorBase)
    for attribute in ("n_features_in_", "feature_names_in_", "history_", "n_iter_") if trained else ():
        assert re.search(rf"^{attribute} :", attributes, re.M), f"{estimator.__name__} does not document {attribute}"
    assert ">>> " in doc.split("\nExamples\n", 1)[1], f"{estimator.__name__}'s Examples has no doctest"
    documented = set(re.findall(r"^(\w+) :", doc.split("\nParameters\n", 1)[1].split("\nAttributes\n", 1)[0], re.M))
    params = set(inspect.signature(estimator).parameters)
    assert params <= documented, f"{estimator.__name__} does not document parameters {sorted(params - documented)}"


def test_benchmarks_page_renders_every_result():
    page = (DOCS / "benchmarks.md").read_text()
    results = sorted((ROOT / "benchmarks" / "results").glob("*.md"))
    missing = [p.name for p in results if "_quick" not in p.name and f"../benchmarks/results/{p.name}" not in page]
    assert not missing, f"include {missing} in docs/benchmarks.md"


def test_user_guide_lists_every_page():
    toctree = (DOCS / "user_guide.md").read_text().split("{toctree}", 1)[1]
    listed = set(re.findall(r"^(\w+)$", toctree, re.M))
    pages = {p.stem for p in DOCS.glob("*.md")} - {"index", "user_guide", "getting_started", "data_formats",
                                                     "large_data", "benchmarks", "changelog"}
    assert pages <= listed, f"add {sorted(pages - listed)} to the toctree of docs/user_guide.md"
