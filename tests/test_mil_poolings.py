"""Transformer (TransMIL-style) and DSMIL poolings of MILMultitaskClassifier.

Each pooling is shown to learn a seeded synthetic MIL rule that mean pooling
does not, so the tests fail if the pooling degrades to a mean.
"""

import numpy as np
import pytest
import torch

from sk_ssl import MILMultitaskClassifier
from sk_ssl.encoders import SelfAttentionPooling

FAST = dict(n_components=16, hidden_dims=(32,), attention_dim=16, batch_size=16, learning_rate=3e-3, random_state=0,
            device="cpu")  # fmt: skip


def _and_bags(seed, n_bags):
    """Positive iff the bag holds an "A" instance (feature 0 shifted) *and* a "B" one (feature 1).

    Bags of 10-40 Gaussian instances; half are positive, the rest hold A only,
    B only or neither. Any weighted mean of per-instance scores (mean or
    attention pooling followed by a linear head) cannot express "A and B" for
    bags of such different sizes: a bag with A alone in 10 instances would
    need a lower score than a bag with both in 40.
    """
    rng = np.random.RandomState(seed)
    bags, y = [], []
    for _ in range(n_bags):
        size = rng.randint(10, 41)
        bag = rng.normal(size=(size, 6))
        kind = rng.choice(4, p=[1 / 6, 1 / 6, 1 / 6, 1 / 2])  # neither, A, B, both
        rows = rng.choice(size, 2, replace=False)
        if kind in (1, 3):
            bag[rows[0], 0] += 5
        if kind in (2, 3):
            bag[rows[1], 1] += 5
        bags.append(bag)
        y.append(int(kind == 3))
    return bags, np.array(y)


def _needle_bags(seed, n_bags):
    """Positive iff one instance among 20-150 has feature 0 shifted by 4: a needle that a mean dilutes."""
    rng = np.random.RandomState(seed)
    bags, y, needles = [], [], []
    for _ in range(n_bags):
        size = rng.randint(20, 151)
        bag = rng.normal(size=(size, 6))
        positive = rng.rand() < 0.5
        needle = rng.randint(size) if positive else -1
        if positive:
            bag[needle, 0] += 4
        bags.append(bag)
        y.append(int(positive))
        needles.append(needle)
    return bags, np.array(y), np.array(needles)


def test_transformer_pooling_learns_a_combination_rule_mean_pooling_cannot():
    bags, y = _and_bags(0, 300)
    test_bags, test_y = _and_bags(1, 200)
    scores = {
        pooling: MILMultitaskClassifier(pooling=pooling, max_epochs=30, **FAST).fit(bags, y).score(test_bags, test_y)
        for pooling in ("transformer", "mean")
    }
    assert scores["transformer"] >= 0.9, scores
    assert scores["mean"] <= 0.8, scores


def test_dsmil_pooling_finds_the_needle_mean_pooling_dilutes():
    bags, y, _ = _needle_bags(0, 300)
    test_bags, test_y, needles = _needle_bags(1, 200)
    dsmil = MILMultitaskClassifier(pooling="dsmil", max_epochs=20, **FAST).fit(bags, y)
    mean = MILMultitaskClassifier(pooling="mean", max_epochs=20, **FAST).fit(bags, y)
    assert dsmil.score(test_bags, test_y) >= 0.8
    assert mean.score(test_bags, test_y) <= 0.7
    # The identity head: DSMIL's pooling returns the task's logit itself.
    assert isinstance(dsmil.module_.heads[0], torch.nn.Identity)
    weights = dsmil.instance_weights(test_bags)
    assert all(np.isclose(w.sum(), 1.0, atol=1e-5) for w in weights)


@pytest.mark.parametrize("pooling", ["transformer", "dsmil"])
def test_new_poolings_work_multitask(pooling):
    # Padding is covered with the other poolings by test_mil.py::test_poolings_ignore_padding_values.
    # Through the estimator: two binary tasks and a three-class one, with per-task weights.
    bags, y = _and_bags(2, 40)
    Y = np.column_stack([y, 1 - y, np.arange(40) % 3])
    clf = MILMultitaskClassifier(pooling=pooling, max_epochs=2, **FAST).fit(bags, Y)
    assert [p.shape for p in clf.predict_proba(bags[:3])] == [(3, 2), (3, 2), (3, 3)]
    assert clf.instance_weights(bags[:2])[1].shape == (bags[1].shape[0], 3)


def test_transformer_heads_must_divide_the_width():
    with pytest.raises(ValueError, match="must divide"):
        SelfAttentionPooling(6, n_heads=4)


@pytest.mark.parametrize("pooling", ["transformer", "dsmil"])
def test_new_poolings_save_load_and_pickle_with_sparse_bags(pooling, tmp_path):
    import pickle

    import scipy.sparse as sp

    from sk_ssl import load

    bags, y = _and_bags(3, 40)
    sparse_bags = [sp.csr_matrix(np.where(np.abs(b) > 1.0, b, 0.0)) for b in bags]
    clf = MILMultitaskClassifier(pooling=pooling, max_epochs=2, **FAST).fit(sparse_bags, y)
    expected = clf.decision_function(sparse_bags)
    clf.save(tmp_path / "model.skssl")
    np.testing.assert_allclose(load(tmp_path / "model.skssl").decision_function(sparse_bags), expected, rtol=1e-5)
    np.testing.assert_allclose(pickle.loads(pickle.dumps(clf)).decision_function(sparse_bags), expected, rtol=1e-5)
