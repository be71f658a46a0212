"""sk_ssl.datasets: the bundled MIL sets, and the MIML label alignment of the benchmarks' loader."""

import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import label_ranking_average_precision_score
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.multiclass import OneVsRestClassifier

from sk_ssl.datasets import MIL_DATASETS, load_mil

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize("name", MIL_DATASETS)
def test_bags_and_targets_agree(name):
    data = load_mil(name)
    assert len(data.bags) == len(data.target) == data.bag_ids.max() + 1
    np.testing.assert_array_equal(np.concatenate(data.bags), data.instances)
    assert np.all(np.isin(data.target, (0, 1)))
    assert len(data.target_names) == (data.target.shape[1] if data.target.ndim == 2 else 2)


def test_miml_scene_labels_follow_the_original_block_layout():
    # Zhou & Zhang's file holds 400 images of each scene in turn (desert, mountains, sea, sunset, trees), so
    # every bag of block k carries label k. With the labels in the shared copy's order (out of step with the
    # bags) 0-10 % of a block carried its label.
    Y = load_mil("miml_scene").target
    for k in range(5):
        assert Y[400 * k : 400 * (k + 1), k].all()


def _mean_pooled_ranking_precision(bags, Y):
    means = np.array([bag.mean(0) for bag in bags])
    means = (means - means.mean(0)) / (means.std(0) + 1e-12)
    scores = cross_val_predict(OneVsRestClassifier(LogisticRegression(max_iter=500)), means, Y,
                               cv=KFold(3, shuffle=True, random_state=0), method="predict_proba")  # fmt: skip
    return label_ranking_average_precision_score(Y, scores)


def test_miml_scene_labels_are_learnable_from_the_bags():
    bags, Y = load_mil("miml_scene", return_X_y=True)
    aligned = _mean_pooled_ranking_precision(bags, Y)
    shuffled = _mean_pooled_ranking_precision(bags, Y[np.random.default_rng(0).permutation(len(Y))])
    assert aligned > shuffled + 0.1, (aligned, shuffled)


@pytest.fixture
def bench_data(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import _data

    if not (_data.DATA_DIR / "mil" / "miml_text.npz").exists():
        pytest.skip("../shared/data not found (set SK_SSL_DATA)")
    return _data


def test_benchmark_loader_realigns_miml_scene_like_the_bundled_copy(bench_data):
    bags, Y = bench_data.load_mil_npz("miml_scene")
    bundled_bags, bundled_Y = load_mil("miml_scene", return_X_y=True)
    np.testing.assert_array_equal(Y, bundled_Y)
    np.testing.assert_array_equal(np.concatenate(bags), np.concatenate(bundled_bags))


def test_benchmark_loader_makes_miml_text_learnable(bench_data):
    bags, Y = bench_data.load_mil_npz("miml_text")
    stored = np.load(bench_data.DATA_DIR / "mil" / "miml_text.npz")["y"]
    aligned, as_stored = _mean_pooled_ranking_precision(bags, Y), _mean_pooled_ranking_precision(bags, stored)
    # As stored, the labels are no more learnable than the label prior (about 0.62); re-aligned, far more.
    assert aligned > as_stored + 0.15, (aligned, as_stored)


def test_benchmark_loader_refuses_a_copy_it_does_not_know(bench_data, tmp_path, monkeypatch):
    npz = np.load(bench_data.DATA_DIR / "mil" / "miml_text.npz")
    (tmp_path / "mil").mkdir()
    np.savez(tmp_path / "mil" / "miml_text.npz", **{**npz, "y": npz["y"][bench_data.miml_label_order(len(npz["y"]))]})
    monkeypatch.setattr(bench_data, "DATA_DIR", tmp_path)
    with pytest.raises(ValueError, match="corrected upstream"):
        bench_data.load_mil_npz("miml_text")
