"""README.md quotes what ``make demo`` prints: its figures stay in step with benchmarks/results/demo.json."""

import json
import re
from pathlib import Path

import pytest

from sk_ssl import demo

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "demo.json"
README = ROOT / "README.md"
MARKER = "<!-- demo-figures: benchmarks/results/demo.json, checked by tests/test_demo.py -->"

pytestmark = pytest.mark.skipif(not RESULTS.exists() or not README.exists(), reason="needs a source checkout")


def _readme_demo_text():
    text = README.read_text()
    assert MARKER in text, "README.md lost the demo-figures marker that introduces the figures make demo prints"
    # The figures follow the marker, up to the end of the bullet.
    after = text.split(MARKER, 1)[1]
    return " ".join(re.split(r"\n\s*\n|\n\* ", after, maxsplit=1)[0].split())


def test_demo_results_match_the_demo_defaults():
    # Changing the demo's defaults without re-running it (make demo) fails here.
    results = json.loads(RESULTS.read_text())
    defaults = demo._parser().parse_args([])
    assert (results["epochs"], results["per_class"], results["label_seeds"]) == (
        defaults.epochs,
        defaults.per_class,
        defaults.label_seeds,
    ), "benchmarks/results/demo.json is from other settings than make demo's defaults: re-run make demo"


def test_readme_quotes_the_demo_figures():
    results = json.loads(RESULTS.read_text())
    quoted = _readme_demo_text()
    for row in results["rows"]:
        figure = f"{row['method']} {row['mean']:.3f} ± {row['std']:.3f}"
        assert figure in quoted, (
            f"README.md does not quote {figure!r} as make demo printed it (benchmarks/results/demo.json); "
            f"the README says: {quoted!r}"
        )


def test_demo_writes_what_readme_quotes(tmp_path, monkeypatch):
    # The writer itself (no training): the rows printed are the rows written.
    rows = [("raw pixels + LR", 0.8814, 0.0161, 0.0), ("ContrastiveEmbedder (100 epochs) + LR", 0.95555, 0.0123, 51.6)]
    args = demo._parser().parse_args(["--results-dir", str(tmp_path)])
    demo._write_results(args, rows)
    written = json.loads((tmp_path / "demo.json").read_text())
    assert [(r["method"], r["mean"], r["std"]) for r in written["rows"]] == [
        ("raw pixels + LR", 0.881, 0.016),
        ("ContrastiveEmbedder (100 epochs) + LR", 0.956, 0.012),
    ]
    assert "0.956 ± 0.012" in (tmp_path / "demo.md").read_text()
    # A non-default run from a checkout does not overwrite the quoted results.
    assert demo._results_dir(demo._parser().parse_args(["--epochs", "1"])) is None
