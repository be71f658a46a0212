"""FineTune*(pretrain="target_aware"): pretraining with a supervised head on the labelled rows."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from sk_ssl import ContrastiveEmbedder, FineTuneClassifier, FineTuneRegressor, MaskedAutoencoder, load
from sk_ssl.models import ContrastiveModel
from sk_ssl.objectives._contract import ObjectiveLoss
from sk_ssl.objectives.target_aware import TargetAwareLoss

PRE = dict(max_epochs=5, n_components=16, batch_size=64, random_state=0, device="cpu")
FT = dict(max_epochs=2, early_stopping=False, random_state=0, device="cpu")


def _data(n=600, n_labelled=60, seed=0):
    """12 features; the label is a linear function of two of them, 60 rows labelled (-1 elsewhere)."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 12)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    labelled = rng.choice(n, n_labelled, replace=False)
    y_semi = np.full(n, -1)
    y_semi[labelled] = y[labelled]
    return X, y, y_semi, labelled


def _fit(pretrain, X, y_semi, pretrainer=None, **params):
    pretrainer = pretrainer if pretrainer is not None else ContrastiveEmbedder(**PRE)
    return FineTuneClassifier(pretrainer=pretrainer, pretrain=pretrain, **{**FT, **params}).fit(X, y_semi)


def test_the_supervised_term_shapes_the_pretrained_encoder():
    # SCARF alone spreads the embedding over all 12 random features; with the
    # labelled rows' cross-entropy added, a linear probe on the frozen
    # pretrained embedding finds the label far better.
    X, y, y_semi, labelled = _data()
    test = np.setdiff1d(np.arange(len(y)), labelled)
    accuracy = {}
    for pretrain in (True, "target_aware"):
        Z = _fit(pretrain, X, y_semi, max_epochs=1).pretrainer_.transform(X)
        probe = LogisticRegression(max_iter=2000).fit(Z[labelled], y[labelled])
        accuracy[pretrain] = probe.score(Z[test], y[test])
    assert accuracy["target_aware"] > accuracy[True] + 0.08, accuracy


def test_same_seed_same_model_and_resolved_choice():
    X, _, y_semi, _ = _data(n=300, n_labelled=40)
    a, b = _fit("target_aware", X, y_semi), _fit("target_aware", X, y_semi)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    plain = _fit(True, X, y_semi)
    assert (a.pretraining_, plain.pretraining_) == ("target_aware", "self_supervised")
    assert not np.allclose(a.pretrainer_.transform(X), plain.pretrainer_.transform(X))
    # The history of the target-aware pretraining holds both terms.
    assert a.pretrainer_.history_[-1, "train_loss"] > plain.pretrainer_.history_[-1, "train_loss"]


def test_unlabelled_rows_never_reach_the_supervised_loss():
    torch.manual_seed(0)
    ssl = ObjectiveLoss("stub", ("z",), _MeanLoss())
    loss = TargetAwareLoss(ssl, "classification")
    z = torch.randn(6, 3)
    logits = torch.randn(6, 4, requires_grad=True)
    y = torch.tensor([2.0, -1, 0, -1, -1, 3])
    value = loss({"z": z, "target_logits": logits}, y)
    value.backward()
    unlabelled = (y < 0).numpy()
    assert torch.all(logits.grad[unlabelled] == 0)
    assert torch.any(logits.grad[~unlabelled] != 0)
    # Other logits on the unlabelled rows: the same loss.
    other = logits.detach().clone()
    other[unlabelled] = 100.0
    loss2 = TargetAwareLoss(ssl, "classification")
    assert torch.isclose(loss2({"z": z, "target_logits": other}, y), value.detach())
    # A batch without any labelled row: the self-supervised loss alone.
    none = loss({"z": z, "target_logits": logits}, torch.full((6,), -1.0))
    assert torch.isclose(none, z.mean())


class _MeanLoss(torch.nn.Module):
    def forward(self, outputs, y_true=None):
        return outputs["z"].mean()


def test_pretraining_sees_the_labels_and_minus_one_elsewhere(monkeypatch):
    # End to end: the targets that reach the supervised loss are the fine-tuner's class codes on the
    # labelled rows and -1 on every other row.
    X, _, y_semi, _ = _data(n=300, n_labelled=40)
    seen = []
    original = TargetAwareLoss.supervised

    def spy(self, logits, y_true):
        seen.append(y_true.detach().cpu().numpy().copy())
        return original(self, logits, y_true)

    monkeypatch.setattr(TargetAwareLoss, "supervised", spy)
    _fit("target_aware", X, y_semi)
    targets = np.concatenate(seen)
    assert set(np.unique(targets)) == {-1.0, 0.0, 1.0}
    # 5 epochs over 256 of the 300 rows (batches of 64, the short one dropped): at most 40 labelled per epoch.
    assert 0 < (targets >= 0).sum() <= 5 * 40
    assert len(targets) == 5 * 256


def test_the_fitted_pretrainer_keeps_its_plain_objective_model(tmp_path):
    X, _, y_semi, _ = _data(n=300, n_labelled=40)
    clf = _fit("target_aware", X, y_semi)
    pre = clf.pretrainer_
    assert type(pre.module_) is ContrastiveModel  # the supervised head is dropped
    assert not hasattr(pre, "_pretraining_targets")
    assert isinstance(pre._train_criterion.loss, torch.nn.Module)
    assert not isinstance(pre._train_criterion.loss, TargetAwareLoss)
    clf.save(tmp_path / "clf.skssl")
    np.testing.assert_allclose(load(tmp_path / "clf.skssl").predict_proba(X), clf.predict_proba(X), atol=1e-6)


def test_embedders_ignore_y_as_before():
    # A Pipeline passes y to the embedder's fit: the result is the unsupervised one, unchanged.
    X, y, _, _ = _data(n=200)
    a = ContrastiveEmbedder(**{**PRE, "max_epochs": 2}).fit(X, y).transform(X)
    b = ContrastiveEmbedder(**{**PRE, "max_epochs": 2}).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)


def test_a_fitted_pretrainer_is_an_error_naming_the_fix():
    X, _, y_semi, _ = _data(n=200)
    fitted = ContrastiveEmbedder(**{**PRE, "max_epochs": 1}).fit(X)
    with pytest.raises(ValueError, match=r"already fitted.*unfitted pretrainer.*pretrain=True"):
        _fit("target_aware", X, y_semi, pretrainer=fitted)
    with pytest.raises(ValueError, match="pretrain"):
        _fit("supervised", X, y_semi)


def test_masked_and_hybrid_pretrainers_and_the_regressor():
    X, y, y_semi, labelled = _data(n=300, n_labelled=40)
    masked = _fit("target_aware", X, y_semi, pretrainer=MaskedAutoencoder(**{**PRE, "max_epochs": 2}))
    hybrid = _fit("target_aware", X, y_semi, pretrainer=ContrastiveEmbedder(objective=("scarf", "vime"),
                                                                             **{**PRE, "max_epochs": 2}))  # fmt: skip
    assert masked.pretraining_ == hybrid.pretraining_ == "target_aware"
    y_reg = X[:, 0] + 0.5 * X[:, 1]
    y_reg_semi = np.full(len(y_reg), np.nan)
    y_reg_semi[labelled] = y_reg[labelled]
    plain = FineTuneRegressor(pretrainer=ContrastiveEmbedder(**PRE), **FT).fit(X, y_reg_semi)
    reg = FineTuneRegressor(pretrainer=ContrastiveEmbedder(**PRE), pretrain="target_aware", **FT).fit(X, y_reg_semi)
    assert reg.pretraining_ == "target_aware"
    assert np.isfinite(reg.predict(X)).all()
    assert not np.allclose(reg.pretrainer_.transform(X), plain.pretrainer_.transform(X))
