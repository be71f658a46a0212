"""Objectives: the named-output contract, selection by parameter, and VICReg / Barlow Twins / BYOL."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

import sk_ssl
import sk_ssl.exceptions
from sk_ssl import ContrastiveEmbedder, MaskedAutoencoder
from sk_ssl.objectives import _REGISTRY
from sk_ssl.objectives._contract import ObjectiveLoss, check_outputs
from sk_ssl.objectives.barlow_twins import barlow_twins_loss
from sk_ssl.objectives.byol import BYOLModel
from sk_ssl.objectives.vicreg import vicreg_loss

FAST = dict(max_epochs=3, batch_size=64, n_components=16, random_state=0, device="cpu")
NEW = ["vicreg", "barlow_twins", "byol"]


@pytest.fixture(scope="module")
def small_digits(digits):
    X, y = digits
    return X[:300], y[:300]


def test_every_objective_documents_its_outputs_and_data():
    for name, objective in _REGISTRY.items():
        assert objective.name == name and objective.outputs
        assert objective.family in {"two_view", "masked", "cross_view", "supervised", "pretext"}
        assert set(objective.data) <= {"tabular", "image"}


def test_contract_error_names_the_objective_and_the_missing_outputs():
    loss = ObjectiveLoss("vicreg", ("view_a", "view_b"), torch.nn.Identity())
    with pytest.raises(ValueError, match=r"'vicreg' objective.*missing \['view_b'\]"):
        loss({"view_a": torch.zeros(2, 3)})
    with pytest.raises(TypeError, match="'vicreg' objective's model must return a dict"):
        loss((torch.zeros(2, 3), torch.zeros(2, 3)))
    logits = torch.zeros(2, 3)
    assert check_outputs("classification", ("logits",), logits) is logits


@pytest.mark.parametrize("image_shape", [None, (1, 8, 8)], ids=["tabular", "image"])
def test_auto_resolves_as_in_0_1_and_is_kept(small_digits, image_shape):
    X, _ = small_digits
    emb = ContrastiveEmbedder(image_shape=image_shape, **FAST).fit(X)
    assert (emb.objective_, emb.temperature_) == (("scarf", 1.0) if image_shape is None else ("simclr", 0.5))
    explicit = ContrastiveEmbedder(image_shape=image_shape, objective=emb.objective_, **FAST).fit(X)
    np.testing.assert_array_equal(explicit.transform(X), emb.transform(X))
    mae = MaskedAutoencoder(image_shape=image_shape, **FAST).fit(X)
    assert (mae.objective_, mae.mask_ratio_) == (("vime", 0.3) if image_shape is None else ("simmim", 0.6))


@pytest.mark.parametrize(
    "estimator, objective, image_shape",
    [(ContrastiveEmbedder, "scarf", (1, 8, 8)), (ContrastiveEmbedder, "simclr", None),
     (MaskedAutoencoder, "vime", (1, 8, 8)), (MaskedAutoencoder, "simmim", None)],
)  # fmt: skip
def test_objective_for_the_other_kind_of_data_is_a_clear_error(small_digits, estimator, objective, image_shape):
    X, _ = small_digits
    with pytest.raises(ValueError, match=f"objective='{objective}'.*objective='auto'"):
        estimator(objective=objective, image_shape=image_shape, **FAST).fit(X)


def test_new_losses_are_zero_at_their_optimum_and_positive_at_collapse():
    torch.manual_seed(0)
    z = torch.randn(256, 8)
    collapsed = torch.ones(256, 8)
    assert vicreg_loss(collapsed, collapsed) > vicreg_loss(z, z) + 10
    white = torch.linalg.qr(torch.randn(256, 8))[0] * 16  # orthogonal, unit-variance columns
    assert barlow_twins_loss(white, white) < 1e-2 < barlow_twins_loss(white, torch.randn(256, 8))
    assert vicreg_loss(z[:1], z[:1]) == 0  # one sample: no statistics, no NaN


def _few_label_probe(embedder, X_train, y_train, X_test, y_test):
    rng = np.random.RandomState(0)
    labelled = np.concatenate([rng.choice(np.flatnonzero(y_train == c), 10, replace=False) for c in range(10)])
    clf = LogisticRegression(max_iter=3000).fit(embedder.transform(X_train[labelled]), y_train[labelled])
    return clf.score(embedder.transform(X_test), y_test)


@pytest.mark.parametrize("objective", NEW)
@pytest.mark.parametrize("image_shape, epochs", [(None, 30), ((1, 8, 8), 6)], ids=["tabular", "image"])
def test_new_objectives_learn_better_than_random_init(digits, objective, image_shape, epochs):
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(X, y, train_size=800, test_size=400, stratify=y, random_state=0)
    params = dict(objective=objective, image_shape=image_shape, n_components=64, random_state=0, device="cpu")
    untrained = ContrastiveEmbedder(max_epochs=1, learning_rate=1e-12, **params).fit(X_train)
    trained = ContrastiveEmbedder(max_epochs=epochs, **params).fit(X_train)
    acc_random = _few_label_probe(untrained, X_train, y_train, X_test, y_test)
    acc_trained = _few_label_probe(trained, X_train, y_train, X_test, y_test)
    assert acc_trained > acc_random + 0.03, (acc_trained, acc_random)
    assert trained.history_[-1]["train_loss"] < trained.history_[0]["train_loss"]
    assert trained.objective_ == objective and trained.temperature_ is None


def test_byol_target_follows_the_online_network_through_the_engine_hook(small_digits):
    X, _ = small_digits
    emb = ContrastiveEmbedder(objective="byol", **{**FAST, "max_epochs": 1})
    emb.fit(X)
    model = emb.module_
    assert isinstance(model, BYOLModel)
    online = torch.cat([p.flatten() for p in model.encoder.parameters()])
    target = torch.cat([p.flatten() for p in model.target_encoder.parameters()])
    assert not torch.equal(online, target)  # an average, not a copy
    assert all(not p.requires_grad for p in model.target_encoder.parameters())
    before = target.clone()
    model.after_step()
    after = torch.cat([p.flatten() for p in model.target_encoder.parameters()])
    # One more step moves the target 1 - momentum of the way to the online weights.
    torch.testing.assert_close(after, before + (1 - model.momentum) * (online - before))


@pytest.mark.parametrize("objective", NEW)
def test_new_objectives_round_trip_through_the_safe_format(small_digits, objective, tmp_path):
    X, _ = small_digits
    emb = ContrastiveEmbedder(objective=objective, **FAST).fit(X)
    emb.save(tmp_path / "model.skssl")
    loaded = sk_ssl.load(tmp_path / "model.skssl")
    assert (loaded.objective, loaded.objective_) == (objective, objective)
    np.testing.assert_array_equal(loaded.transform(X), emb.transform(X))
    loaded.set_params(warm_start=True, max_epochs=1).fit(X)  # continues with the rebuilt criterion
    assert loaded.n_iter_ == FAST["max_epochs"] + 1


@pytest.mark.parametrize("objective", ["auto", "byol"])
def test_export_encoder_embeds_like_transform_without_objective_parts(small_digits, objective):
    X, _ = small_digits
    emb = ContrastiveEmbedder(objective=objective, **FAST).fit(X)
    encoder = emb.export_encoder()
    assert encoder is not emb.module_ and not encoder.training
    assert {name for name, _ in encoder.named_children()} == {"encoder"}  # heads, views, target dropped
    with torch.no_grad():
        Z = encoder.encode(torch.as_tensor(X, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(Z, emb.transform(X.astype(np.float32)), rtol=1e-5, atol=1e-6)
    assert emb.module_.projection_head is not None  # the estimator is unchanged


def test_export_encoder_of_multiview_is_a_clear_error(small_digits):
    X, _ = small_digits
    est = sk_ssl.MultiViewEmbedder(views=[("a", slice(0, 32)), ("b", slice(32, 64))], **FAST).fit(X)
    with pytest.raises(ValueError, match="no single encoder"):
        est.export_encoder()


@pytest.mark.parametrize("objective, hint", [("scarf", True), ("vicreg", False)])
def test_divergence_error_carries_the_objectives_own_advice(small_digits, objective, hint):
    X, _ = small_digits
    with pytest.raises(sk_ssl.exceptions.TrainingDivergedError, match="diverged.*learning_rate") as info:
        ContrastiveEmbedder(objective=objective, **{**FAST, "learning_rate": 1e30}).fit(X * 1e30)
    assert ("higher temperature" in str(info.value)) is hint


def test_engine_calls_after_step_once_per_optimizer_step(small_digits):
    """The hook contract, independent of BYOL: one call per step, after the weights changed."""
    from sk_ssl.models import ContrastiveModel

    calls = []

    class Counting(ContrastiveModel):
        def after_step(self):
            calls.append(next(self.encoder.parameters()).detach().clone())

    X, _ = small_digits
    emb = ContrastiveEmbedder(**{**FAST, "max_epochs": 2})
    build = emb._build

    def build_counting(X, y=None):
        model, criterion = build(X, y)
        model.__class__ = Counting
        return model, criterion

    emb._build = build_counting
    emb.fit(X)
    steps = 2 * (len(X) // FAST["batch_size"])  # drop_last: full batches only
    assert len(calls) == steps
    assert not torch.equal(calls[0], calls[1])  # called after each step, not once per epoch


def test_byol_through_an_accelerator_matches_the_plain_engine(small_digits):
    """The hook reaches the model behind the accelerator's wrapping: same fit as without one."""
    accelerate = pytest.importorskip("accelerate")
    X, _ = small_digits
    params = dict(objective="byol", **{**FAST, "max_epochs": 1})
    plain = ContrastiveEmbedder(**params).fit(X)
    params.pop("device")
    accelerated = ContrastiveEmbedder(accelerator=accelerate.Accelerator(cpu=True), **params).fit(X)
    np.testing.assert_array_equal(accelerated.transform(X), plain.transform(X))


@pytest.mark.parametrize("objective", NEW)
def test_new_objectives_take_categorical_dataframe_columns(objective, tmp_path):
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    df = pd.DataFrame({"a": rng.normal(size=120), "c": pd.Categorical(rng.choice(list("xyz"), 120))})
    emb = ContrastiveEmbedder(objective=objective, **FAST).fit(df)
    assert emb.categorical_features_.tolist() == [False, True]
    emb.save(tmp_path / "model.skssl")
    np.testing.assert_array_equal(sk_ssl.load(tmp_path / "model.skssl").transform(df), emb.transform(df))
