"""benchmarks/bench_tabular_raw.py: the summary from records with unequal seed counts, and the ts3l peer table.

No model is fitted: the records are made up, with AUCs chosen so that each
verdict is known in advance.
"""

import json
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def bench(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import _report
    import bench_tabular_raw

    monkeypatch.setattr(_report, "RESULTS", tmp_path)  # never write into the checkout
    return bench_tabular_raw


def record(bench, name, seed, ssl_auc, lr_auc=0.7, hgb_auc=0.75):
    """One task record: every sk_ssl row scores ``ssl_auc``, except FIXED, 0.01 lower."""
    results = {}
    for fraction in bench.FRACTIONS:
        res = {m: {"auc": ssl_auc, "accuracy": 0.5} for m in bench.SSL}
        res[bench.FIXED] = {"auc": ssl_auc - 0.01, "accuracy": 0.5}
        res["LR (one-hot)"] = {"auc": lr_auc, "accuracy": 0.5}
        res["HistGradientBoosting (native cat.)"] = {"auc": hgb_auc, "accuracy": 0.5}
        res["MLP from scratch (one-hot)"] = {"auc": 0.6, "accuracy": 0.5}
        res["n_labels"] = 10
        results[str(fraction)] = res
    pretrain = {k: {"seconds": 1.0, "final loss": 2.0} for k in bench.EMBEDDINGS}
    return {"dataset": name, "seed": seed, "rows": 100, "epochs": 2, "pretrain": pretrain, "results": results}


def test_summary_counts_seeds_per_set_and_targets(bench):
    # "a": 3 seeds, sk_ssl 0.80 (>= LR 0.70 and >= HGB 0.75); "b": 1 seed, sk_ssl 0.72 (>= LR, < HGB).
    records = {("a", s): record(bench, "a", s, 0.8) for s in range(3)}
    records[("b", 0)] = record(bench, "b", 0, 0.72)
    table, verdicts, summary, n_seeds = bench.summarize(records, ["a", "b"], list(range(10)))
    assert n_seeds == {"a": 3, "b": 1}
    assert ["a", "(3 seeds)"] == table[len(bench.FRACTIONS) * len(bench.METHODS)][:2]
    assert [v[1] for v in verdicts] == [3] * 3 + [1] * 3
    assert len(summary["a"]["0.1"]["LR (one-hot)"]["auc"]) == 3
    targets = bench.target_counts(summary)
    assert targets["best_every_fraction_ge_lr"] == 2 and targets["best_10pct_ge_hgb"] == 1
    # FIXED is 0.01 below the best row: 0.79 / 0.71, still >= LR everywhere, >= HGB only on "a".
    assert targets["fixed_cells_ge_lr"] == 6 and targets["cells"] == 6 and targets["fixed_10pct_ge_hgb"] == 1


def test_peer_table_pairs_the_seeds_both_ran(bench, tmp_path):
    records = {("a", s): record(bench, "a", s, 0.8 + 0.01 * s) for s in range(3)}
    path = tmp_path / "peer.jsonl"
    assert bench.peer_table(records, ["a"], 100, 2, path=path) == ([], {})
    peer = [{"dataset": "a", "seed": s, "rows": 100, "epochs": 2, "fraction": 0.1, "auc": 0.5, "accuracy": 0.5,
             "seconds": 1.0} for s in (1, 2, 7)]  # fmt: skip
    peer.append({**peer[0], "seed": 0, "epochs": 20})  # other settings: ignored
    peer.append({**peer[0], "recipe": "lr 1e-3, 50 epochs", "auc": 0.9})  # a second recipe, on seed 1 only
    path.write_text("".join(json.dumps(r) + "\n" for r in peer))
    rows, out = bench.peer_table(records, ["a"], 100, 2, path=path)
    assert out["a"]["0.1"]["seeds"] == [1, 2]  # seed 0: no peer record at these settings; seed 7: no sk_ssl record
    assert out["a"]["0.1"]["auc"][f"{bench.PEER} (defaults)"] == 0.5  # records without a recipe: the defaults
    assert out["a"]["0.1"]["auc"][f"{bench.PEER} (lr 1e-3, 50 epochs)"] == 0.9
    assert out["a"]["0.1"]["auc"]["LR (one-hot)"] == pytest.approx(0.7)
    assert out["a"]["0.1"]["auc"][out["a"]["0.1"]["best sk_ssl"]] == pytest.approx(0.815)  # mean of seeds 1, 2
    assert len(rows) == 1 and rows[0][:3] == ["a", "10 %", 2]
    assert rows[0][-2:] == ["0.500", "**0.900 (1 seeds)**"]
    assert rows[0][6] == "0.815"  # the like-for-like sk_ssl row (SCARF[none] fine-tuned), mean of seeds 1, 2
