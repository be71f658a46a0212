"""The hybrid objective: a contrastive and a masked objective on one encoder (ContrastiveEmbedder)."""

import pickle

import numpy as np
import pytest
import torch

import sk_ssl
from sk_ssl import ContrastiveEmbedder
from sk_ssl.losses import InfoNCELoss, MaskedL1Loss, MaskReconstructionLoss, NTXentLoss
from sk_ssl.objectives.hybrid import HybridLoss, HybridModel

FAST = dict(max_epochs=2, batch_size=64, n_components=16, random_state=0, device="cpu")
PAIRS = {"tabular": (("scarf", "vime"), None), "image": (("simclr", "simmim"), (1, 8, 8))}


@pytest.fixture(scope="module")
def small_digits(digits):
    X, y = digits
    return X[:256], y[:256]


@pytest.mark.parametrize("data", ["tabular", "image"])
def test_hybrid_loss_is_the_weighted_sum_of_the_two_losses_on_the_same_batch(small_digits, data):
    X, _ = small_digits
    pair, image_shape = PAIRS[data]
    emb = ContrastiveEmbedder(objective=pair, loss_weights=(0.7, 1.3), image_shape=image_shape, **FAST).fit(X)
    assert emb.objective_ == pair and emb.loss_weights_ == (0.7, 1.3)
    model, criterion = emb.module_, emb._continued_criterion()
    x = torch.as_tensor(X[:64], dtype=torch.float32)
    torch.manual_seed(1)
    total = criterion(model(x))
    torch.manual_seed(1)  # the same draws: first part, then second part, as in the hybrid's forward
    out_a, out_b = model.first(x), model.second(x)
    if data == "tabular":
        loss_a = InfoNCELoss(emb.temperature_)(out_a)
        loss_b = MaskReconstructionLoss(2.0)(out_b)
    else:
        loss_a = NTXentLoss(emb.temperature_)(out_a)
        loss_b = MaskedL1Loss()(out_b)
    torch.testing.assert_close(total, 0.7 * loss_a + 1.3 * loss_b)
    assert loss_a > 0 and loss_b > 0


@pytest.mark.parametrize("data", ["tabular", "image"])
def test_weights_one_zero_reproduce_the_first_objective_alone(small_digits, data):
    X, _ = small_digits
    pair, image_shape = PAIRS[data]
    hybrid = ContrastiveEmbedder(objective=pair, loss_weights=(1, 0), image_shape=image_shape, **FAST).fit(X)
    alone = ContrastiveEmbedder(objective=pair[0], image_shape=image_shape, **FAST).fit(X)
    assert hybrid.history_[:, "train_loss"] == alone.history_[:, "train_loss"]
    np.testing.assert_array_equal(hybrid.transform(X), alone.transform(X))
    both = ContrastiveEmbedder(objective=pair, image_shape=image_shape, **FAST).fit(X)
    assert both.loss_weights_ == ("balanced", 1.0, 1.0)  # "auto"
    assert not np.array_equal(both.transform(X), alone.transform(X))  # the masked loss does train the encoder


def test_byol_as_the_contrastive_part_keeps_its_target_network(small_digits):
    X, _ = small_digits
    emb = ContrastiveEmbedder(objective=("byol", "simmim"), image_shape=(1, 8, 8), **{**FAST, "max_epochs": 1}).fit(X)
    first = emb.module_.first
    assert emb.module_.second.encoder.encoder is first.encoder
    shapes = [p.shape for p in first.encoder.parameters()]
    assert [p.shape for p in first.target_encoder.parameters()] == shapes  # a copy of the shared encoder


def test_the_two_parts_share_one_encoder_and_one_standardization(small_digits):
    X, _ = small_digits
    emb = ContrastiveEmbedder(objective=("scarf", "vime"), **FAST).fit(X)
    model = emb.module_
    assert isinstance(model, HybridModel) and model.first.encoder is model.second.encoder
    image = ContrastiveEmbedder(objective=("simclr", "simmim"), image_shape=(1, 8, 8), **FAST).fit(X).module_
    assert image.second.encoder.encoder is image.first.encoder  # the masked part reads its pixel channels
    emb.partial_fit(X[:100] * 2.0)  # running statistics move; both parts see the new ones
    assert model.second.mean is model.first.mean and model.second.scale is model.first.scale
    copy = pickle.loads(pickle.dumps(emb))
    assert copy.module_.second.mean is copy.module_.first.mean


@pytest.mark.parametrize("data", ["tabular", "image"])
def test_hybrid_round_trips_through_the_safe_format(small_digits, data, tmp_path):
    X, _ = small_digits
    pair, image_shape = PAIRS[data]
    emb = ContrastiveEmbedder(objective=pair, loss_weights=(1.0, 0.5), image_shape=image_shape, **FAST).fit(X)
    emb.save(tmp_path / "model.skssl")
    loaded = sk_ssl.load(tmp_path / "model.skssl")
    assert loaded.objective == pair and loaded.loss_weights_ == (1.0, 0.5)
    np.testing.assert_array_equal(loaded.transform(X), emb.transform(X))
    loaded.set_params(warm_start=True, max_epochs=1).fit(X)
    assert loaded.n_iter_ == FAST["max_epochs"] + 1
    assert loaded.module_.second.mean is loaded.module_.first.mean
    encoder = emb.export_encoder()
    with torch.no_grad():
        Z = encoder.encode(torch.as_tensor(X, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(Z, emb.transform(X.astype(np.float32)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(objective=("simmim", "simclr"), image_shape=(1, 8, 8)), r"first \(contrastive\) objective must be"),
        (dict(objective=("scarf",)), "a pair of names"),
        (dict(objective=("scarf", "vime"), loss_weights=(0, 0)), "not both 0"),
        (dict(objective=("scarf", "vime"), loss_weights=(1.0, -1.0)), "finite weights >= 0"),
        (dict(objective=("scarf", "vime"), loss_weights=(1.0,)), "two finite weights"),
        (dict(objective="scarf", loss_weights=(1.0, 1.0)), "is a single one"),
        (dict(objective=("simclr", "simmim")), r"objective='simclr'\) is defined for image input"),
    ],
)
def test_invalid_hybrids_are_clear_errors(small_digits, params, match):
    X, _ = small_digits
    with pytest.raises(ValueError, match=match):
        ContrastiveEmbedder(**params, **FAST).fit(X)


def test_hybrid_refuses_categorical_columns_naming_the_fix():
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    df = pd.DataFrame({"a": rng.normal(size=100), "c": pd.Categorical(rng.choice(list("xyz"), 100))})
    with pytest.raises(ValueError, match="One-hot encode them first"):
        ContrastiveEmbedder(objective=("scarf", "vime"), **FAST).fit(df)


class _Constant(torch.nn.Module):
    """A part's criterion that returns its ``value`` output (for the balancing arithmetic)."""

    def forward(self, outputs, y_true=None):
        return outputs["value"]


def test_balanced_loss_rescales_the_masked_loss_by_the_running_ratio():
    loss = HybridLoss([_Constant(), _Constant()], ("a", "b"), (1.0, 2.0), balanced=True, momentum=0.5)
    loss.train()
    out = lambda a, b: {"a.value": torch.tensor(a), "b.value": torch.tensor(b)}  # noqa: E731
    torch.testing.assert_close(loss(out(4.0, 0.5)), torch.tensor(4.0 + 2.0 * (4.0 / 0.5) * 0.5))  # first step
    torch.testing.assert_close(loss.running, torch.tensor([4.0, 0.5]))
    loss(out(6.0, 1.5))  # running: 0.5 * old + 0.5 * new
    torch.testing.assert_close(loss.running, torch.tensor([5.0, 1.0]))
    loss.eval()  # evaluation reads the running ratio and leaves it alone
    torch.testing.assert_close(loss(out(1.0, 1.0)), torch.tensor(1.0 + 2.0 * 5.0 * 1.0))
    torch.testing.assert_close(loss.running, torch.tensor([5.0, 1.0]))
    unbalanced = HybridLoss([_Constant(), _Constant()], ("a", "b"), (1.0, 2.0))
    torch.testing.assert_close(unbalanced(out(4.0, 0.5)), torch.tensor(5.0))


@pytest.mark.parametrize("data", ["tabular", "image"])
def test_balanced_hybrid_trains_both_parts_at_equal_magnitude(small_digits, data):
    X, _ = small_digits
    pair, image_shape = PAIRS[data]
    emb = ContrastiveEmbedder(objective=pair, loss_weights="balanced", image_shape=image_shape, **FAST).fit(X)
    assert emb.loss_weights_ == ("balanced", 1.0, 1.0)
    criterion = emb._continued_criterion()
    running = criterion.loss.running
    assert running[0] > running[1] > 0  # the contrastive loss is the larger one: the masked part is scaled up
    criterion.eval()
    x = torch.as_tensor(X[:64], dtype=torch.float32)
    torch.manual_seed(1)
    total = criterion(emb.module_(x))
    torch.manual_seed(1)
    loss_a, loss_b = criterion.loss.part_losses(emb.module_(x))
    torch.testing.assert_close(total, loss_a + running[0] / running[1] * loss_b)
    raw = ContrastiveEmbedder(objective=pair, loss_weights=(1, 1), image_shape=image_shape, **FAST).fit(X)
    assert not np.allclose(raw.transform(X[:50]), emb.transform(X[:50]))
    alone = ContrastiveEmbedder(objective=pair, loss_weights=("balanced", 1, 0), image_shape=image_shape, **FAST)
    first = ContrastiveEmbedder(objective=pair[0], image_shape=image_shape, **FAST).fit(X)
    np.testing.assert_array_equal(alone.fit(X).transform(X[:50]), first.transform(X[:50]))


def test_balanced_weights_round_trip_through_the_safe_format(small_digits, tmp_path):
    X, _ = small_digits
    emb = ContrastiveEmbedder(objective=("scarf", "vime"), loss_weights=("balanced", 1.0, 4.0), **FAST).fit(X)
    emb.save(tmp_path / "model.skssl")
    loaded = sk_ssl.load(tmp_path / "model.skssl")
    assert loaded.loss_weights_ == ("balanced", 1.0, 4.0)
    np.testing.assert_array_equal(loaded.transform(X), emb.transform(X))
    loaded.set_params(warm_start=True, max_epochs=1).fit(X)  # continues, balancing again from its first step
    assert loaded.n_iter_ == FAST["max_epochs"] + 1 and loaded._continued_criterion().loss.running[1] > 0


@pytest.mark.parametrize(
    "weights", [("balanced", 1.0), ("balanced", 1.0, -1.0), ("balanced", 0, 0), ("unbalanced", 1.0, 1.0)]
)
def test_invalid_balanced_weights_are_clear_errors(small_digits, weights):
    X, _ = small_digits
    with pytest.raises(ValueError, match=r"optionally after 'balanced'"):
        ContrastiveEmbedder(objective=("scarf", "vime"), loss_weights=weights, **FAST).fit(X)


def test_mae_as_the_masked_part_shares_the_vit(small_digits, tmp_path):
    from sk_ssl.losses import NTXentLoss
    from sk_ssl.objectives.mae import MAELoss

    X = small_digits[0][:128]
    vit = dict(FAST, encoder="vit", image_shape=(1, 8, 8), max_epochs=1)
    emb = ContrastiveEmbedder(objective=("simclr", "mae"), loss_weights=(1.0, 2.0), **vit).fit(X)
    model = emb.module_
    assert model.second.encoder is model.first.encoder and emb.mask_ratio_ == 0.75
    x = torch.as_tensor(X[:64], dtype=torch.float32)
    criterion = emb._continued_criterion()
    torch.manual_seed(1)
    total = criterion(model(x))
    torch.manual_seed(1)
    out_a, out_b = model.first(x), model.second(x)
    torch.testing.assert_close(total, NTXentLoss(emb.temperature_)(out_a) + 2.0 * MAELoss()(out_b))
    alone = ContrastiveEmbedder(objective="simclr", **vit).fit(X)
    first_only = ContrastiveEmbedder(objective=("simclr", "mae"), loss_weights=(1, 0), **vit).fit(X)
    np.testing.assert_array_equal(first_only.transform(X[:50]), alone.transform(X[:50]))
    assert not np.allclose(emb.transform(X[:50]), alone.transform(X[:50]))  # MAE's loss trains the shared ViT
    emb.save(tmp_path / "model.skssl")
    np.testing.assert_array_equal(sk_ssl.load(tmp_path / "model.skssl").transform(X), emb.transform(X))
    with pytest.raises(ValueError, match="must be a Vision Transformer; it is a SmallCNNEncoder. Pass encoder='vit'"):
        ContrastiveEmbedder(objective=("simclr", "mae"), image_shape=(1, 8, 8), **FAST).fit(X)
