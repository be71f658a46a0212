"""Sphinx configuration of the sk_ssl documentation (``make docs``).

Build: ``make docs`` (HTML in ``docs/_build/html``, warnings are errors).
Gallery execution: ``SK_SSL_DOCS_PLOT_GALLERY=0`` skips running the examples
(the rendered pages then show code only); ``SK_SSL_EXAMPLE_QUICK=1`` runs them
with tiny settings (what the test suite does, see
``tests/test_docs.py``).
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

import sk_ssl  # noqa: E402

project = "sk_ssl"
author = "the sk_ssl developers"
copyright = "the sk_ssl developers, BSD-3-Clause"
release = sk_ssl.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.json", "auto_examples/*.md5"]

# --- API reference -----------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"member-order": "groupwise"}
autodoc_typehints = "none"
numpydoc_show_class_members = False  # the autosummary class template lists members
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False


def _skip_member(app, what, name, obj, skip, options):
    # scikit-learn generates set_<method>_request helpers per estimator; their
    # docstrings point at scikit-learn's own user guide.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    # Inherited scikit-learn API (documented by scikit-learn, whose docstrings
    # link into its own user guide).
    if name in ("get_metadata_routing", "set_output"):
        return True
    return skip


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)


# --- Markdown pages (docs/*.md, README sections, benchmark results) ---------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
# Links in the Markdown guides point at repository files (benchmark results,
# sources) that are not pages of this site; MyST would report each as a
# missing cross-reference.
suppress_warnings = ["myst.xref_missing"]

# --- Gallery -------------------------------------------------------------------
_plot_gallery = os.environ.get("SK_SSL_DOCS_PLOT_GALLERY", "1") not in ("0", "false", "False")
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": os.environ.get("SK_SSL_DOCS_GALLERY_PATTERN", r"/plot_"),
    "plot_gallery": _plot_gallery,
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "abort_on_example_error": True,
    "show_memory": False,
    "doc_module": ("sk_ssl",),
    "backreferences_dir": "generated/backreferences",
}

# --- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sk_ssl {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path = []
html_show_sourcelink = False
