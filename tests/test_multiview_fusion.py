"""MultiViewEmbedder's cross-modal reconstruction objective and its weighted and transformer fusions."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone

import sk_ssl
from sk_ssl import MultiViewEmbedder
from sk_ssl._fusion import TransformerFusion
from sk_ssl.encoders import MLPEncoder, SmallCNNEncoder
from sk_ssl.objectives import _REGISTRY
from sk_ssl.objectives.cross_modal import CrossModalLoss

FAST = dict(max_epochs=2, batch_size=64, n_components=8, random_state=0, device="cpu")
TWO = [("top", slice(0, 32)), ("bottom", slice(32, 64))]
THREE = [("a", slice(0, 20)), ("b", slice(20, 44)), ("c", slice(44, 64))]
FUSIONS = ["concat", "mean", "attention", "weighted", "transformer"]


@pytest.fixture(scope="module")
def small_digits(digits):
    X, y = digits
    return X[:300], y[:300]


def _shared_and_noise_views(n, seed=0):
    """Views a and b (10 columns each) mix a shared 2-d latent non-linearly; view "noise" is pure noise."""
    rng = np.random.RandomState(seed)
    z = rng.randn(n, 2)
    views = [np.tanh(np.hstack([z, rng.randn(n, 2)]) @ rng.randn(4, 10)) + 0.1 * rng.randn(n, 10) for _ in range(2)]
    return np.hstack([*views, rng.randn(n, 10)])


SHARED_NOISE = [("a", slice(0, 10)), ("b", slice(10, 20)), ("noise", slice(20, 30))]


# ------------------------------------------------------------ reconstruction
def _reconstructions(emb, X):
    """(joint, leave-one-out) reconstructions of every view, standardized, from the fitted model in eval mode."""
    module = emb.module_.eval()
    with torch.no_grad():
        joint, loo, _ = module.reconstruct(*module.encode_views(torch.as_tensor(X, dtype=torch.float32)))
    return joint.numpy(), loo.numpy()


@pytest.mark.parametrize("fusion", FUSIONS)
def test_leave_one_out_reconstruction_never_reads_the_target_view(small_digits, fusion):
    X, _ = small_digits
    emb = MultiViewEmbedder(views=THREE, objective="reconstruction", fusion=fusion, **FAST).fit(X)
    joint, loo = _reconstructions(emb, X)
    bounds = np.cumsum([0, 20, 24, 20])
    for k, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:])):
        perturbed = X.copy()
        perturbed[:, start:stop] = np.random.RandomState(k).uniform(0, 16, (len(X), stop - start))
        joint_p, loo_p = _reconstructions(emb, perturbed)
        # View k's reconstruction from the other views ignores view k entirely ...
        np.testing.assert_allclose(loo_p[:, start:stop], loo[:, start:stop], rtol=1e-5, atol=1e-5)
        # ... while its reconstruction from all views, and the other views' leave-one-out ones, read it.
        assert np.abs(joint_p[:, start:stop] - joint[:, start:stop]).max() > 1e-3
        assert np.abs(np.delete(loo_p - loo, np.s_[start:stop], axis=1)).max() > 1e-3


def test_reconstruction_loss_decreases_and_beats_the_untrained_model():
    X = _shared_and_noise_views(600)
    params = dict(views=SHARED_NOISE, objective="reconstruction", fusion="mean", n_components=8, batch_size=64,
                  random_state=0, device="cpu")  # fmt: skip
    trained = MultiViewEmbedder(max_epochs=15, **params).fit(X)
    untrained = MultiViewEmbedder(max_epochs=1, learning_rate=1e-12, **params).fit(X)
    losses = [row["train_loss"] for row in trained.history_]
    assert losses[-1] < losses[0] - 0.15, losses
    assert trained.objective_ == "reconstruction" and trained.loss_weights_ == (1.0,)

    def errors(emb):  # per-view held-in MSE, (joint, leave-one-out)
        joint, loo = _reconstructions(emb, X)
        target = np.hstack([(X[:, c] - v.mean.flatten().numpy()) / v.scale.flatten().numpy()
                            for (_, c), v in zip(SHARED_NOISE, emb.module_.views)])  # fmt: skip
        return [np.mean((r - target).reshape(len(X), 3, 10) ** 2, axis=(0, 2)) for r in (joint, loo)]

    (joint, loo), (joint0, loo0) = errors(trained), errors(untrained)
    assert (joint < joint0).all()
    # Views a and b predict each other (the shared latent); noise cannot be predicted from the others.
    assert loo[0] < 0.8 * loo0[0] and loo[1] < 0.8 * loo0[1]
    assert loo[2] > 0.9, loo


def test_reconstruction_loss_is_balanced_per_view_and_skips_missing_rows():
    widths = [2, 6]
    target = torch.zeros(4, 8)
    joint, loo = target.clone(), target.clone()
    joint[:, :2] = 1.0  # error 1 on every cell of the narrow view
    loo[:, 2:] = 2.0  # error 4 on every cell of the wide view
    present = torch.ones(2, 4, dtype=torch.bool)
    outputs = dict(target=target, joint=joint, leave_one_out=loo, present=present, loo_present=present.clone())
    loss = CrossModalLoss(widths)
    joint_err, loo_err = loss.per_view(outputs)
    torch.testing.assert_close(joint_err, torch.tensor([1.0, 0.0]))  # a mean over the view's features
    torch.testing.assert_close(loo_err, torch.tensor([0.0, 4.0]))
    torch.testing.assert_close(loss(outputs), torch.tensor(0.5 * (0.5 + 2.0)))
    # Rows without the view (or, for leave-one-out, without another view) add nothing, whatever their values.
    outputs["joint"][:2, :2] = 1e3
    outputs["present"][0, :2] = False
    outputs["leave_one_out"][3, 2:] = -1e3
    outputs["loo_present"][1, 3] = False
    torch.testing.assert_close(loss(outputs), torch.tensor(0.5 * (0.5 + 2.0)))


def test_reconstruction_with_missing_views(small_digits):
    X, _ = small_digits
    X = X.copy()
    X[:40, :32] = np.nan
    X[40:70, 32:] = np.nan
    emb = MultiViewEmbedder(views=TWO, objective="reconstruction", fusion="transformer", **FAST).fit(X)
    assert all(np.isfinite(row["train_loss"]) for row in emb.history_)
    Z = emb.transform(X)
    assert np.isfinite(Z).all()
    outputs = emb.module_.train()(torch.as_tensor(X[:80], dtype=torch.float32))
    # Rows 0-39 lack "top": no target for it, and "bottom" has no other view to be predicted from.
    assert not outputs["present"][0, :40].any() and not outputs["loo_present"][:, :40].any()
    assert outputs["loo_present"][:, 70:].all()


def test_combined_objective_and_its_weights(small_digits):
    X, _ = small_digits
    both = ("cross_view", "reconstruction")
    emb = MultiViewEmbedder(views=TWO, objective=both, loss_weights=(1.0, 0.5), fusion="weighted", **FAST).fit(X)
    assert emb.objective_ == both and emb.loss_weights_ == (1.0, 0.5)
    outputs = emb.module_.train()(torch.as_tensor(X, dtype=torch.float32))
    assert {"views", "fused", "target", "joint", "leave_one_out"} <= set(outputs)
    cross, recon = _REGISTRY["cross_view"].loss(emb.temperature), CrossModalLoss([32, 32])
    combined = emb._build(X)[1]
    torch.testing.assert_close(combined(outputs), cross(outputs) + 0.5 * recon(outputs))


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(objective=("cross_view", "cross_view")), r"a combined objective names each of \['cross_view', 're"),
        (dict(objective=("reconstruction",)), "a combined objective names each"),
        (dict(objective="reconstruction", loss_weights=(1.0, 1.0)), "weighs the losses of a combined objective"),
        (dict(objective=("cross_view", "reconstruction"), loss_weights=(1.0,)), "must hold 2 finite, non-negative"),
        (dict(objective=("cross_view", "reconstruction"), loss_weights=(0, 0)), "not all zero"),
        (dict(objective="pretext"), "The 'objective' parameter"),
        (dict(fusion="sum"), "The 'fusion' parameter"),
    ],
)
def test_bad_objective_and_weights_are_clear_errors(small_digits, params, match):
    X, _ = small_digits
    with pytest.raises(ValueError, match=match):
        MultiViewEmbedder(views=TWO, **{**FAST, **params}).fit(X)


# ----------------------------------------------------------- weighted fusion
def test_weighted_fusion_weights_sum_to_one_and_make_the_fused_embedding(small_digits):
    X, _ = small_digits
    emb = MultiViewEmbedder(views=THREE, fusion="weighted", **FAST).fit(X)
    w = emb.view_weights_
    assert w.shape == (3,) and np.isclose(w.sum(), 1.0) and (w > 0).all()
    np.testing.assert_allclose(emb.view_weights(X), np.tile(w, (len(X), 1)), rtol=1e-5)
    views = emb.transform_views(X)
    expected = sum(w[i] * views[name] for i, name in enumerate(emb.view_names_))
    np.testing.assert_allclose(emb.transform(X), expected, rtol=1e-4, atol=1e-5)
    # A row missing view "a" renormalises the weights over b and c.
    missing = X[:5].copy()
    missing[:, :20] = np.nan
    np.testing.assert_allclose(emb.view_weights(missing)[0], [0, w[1] / (w[1] + w[2]), w[2] / (w[1] + w[2])],
                               rtol=1e-5)  # fmt: skip
    assert list(emb.get_feature_names_out()) == [f"multiviewembedder{i}" for i in range(8)]
    with pytest.raises(AttributeError, match="fusion='weighted'.*view_weights\\(X\\)"):
        MultiViewEmbedder(views=THREE, fusion="mean", **FAST).fit(X).view_weights_
    assert not hasattr(MultiViewEmbedder(views=THREE, fusion="weighted"), "view_weights_")  # unfitted


@pytest.mark.parametrize("objective", ["cross_view", "reconstruction"])
def test_weighted_fusion_moves_weight_off_a_noise_view(objective):
    X = _shared_and_noise_views(600)
    emb = MultiViewEmbedder(views=SHARED_NOISE, objective=objective, fusion="weighted", n_components=8,
                            max_epochs=12, batch_size=64, random_state=0, device="cpu").fit(X)  # fmt: skip
    a, b, noise = emb.view_weights_
    assert noise < 0.29 and min(a, b) > noise + 0.05, emb.view_weights_


# -------------------------------------------------------- transformer fusion
def test_transformer_fusion_ignores_view_order_but_not_view_identity():
    torch.manual_seed(0)
    V, N, D = 4, 6, 8
    fusion = TransformerFusion(V, D).eval()
    h = torch.randn(V, N, D)
    present = torch.ones(V, N, dtype=torch.bool)
    present[1, :3] = False
    out = fusion(h, present)
    perm = torch.tensor([2, 0, 3, 1])
    # The same (embedding, view type) pairs in another order: the same output.
    torch.testing.assert_close(fusion(h[perm], present[perm], view_type=fusion.view_type[perm]), out)
    # The embeddings reordered but the view types kept: another output (the types say which view is which).
    assert (fusion(h[perm], present[perm]) - out).abs().max() > 1e-3
    # A missing view's embedding does not matter.
    changed = h.clone()
    changed[1, :3] = 100 * torch.randn(3, D)
    torch.testing.assert_close(fusion(changed, present), out)
    # Cross-view mixing: the fused output is not the mean of per-token functions alone.
    other = h.clone()
    other[0] = torch.randn(N, D)
    shift = fusion(other, present) - out
    assert shift.abs().max() > 1e-3


def test_image_and_table_views_with_the_new_fusions_and_objectives(small_digits):
    X, _ = small_digits
    views = [("img", slice(0, 32), (1, 4, 8)), ("tab", slice(32, 64))]
    for fusion, objective in [("transformer", ("cross_view", "reconstruction")), ("weighted", "reconstruction")]:
        emb = MultiViewEmbedder(views=views, fusion=fusion, objective=objective, **FAST).fit(X)
        assert isinstance(emb.module_.views[0].encoder, SmallCNNEncoder)
        assert isinstance(emb.module_.views[1].encoder, MLPEncoder)
        assert emb.module_.decoders[0](torch.zeros(2, 8)).shape == (2, 1, 4, 8)  # the image is decoded as one
        assert emb.transform(X).shape == (300, 8)
        assert all(np.isfinite(row["train_loss"]) for row in emb.history_)


# --------------------------------------------------------------- persistence
@pytest.mark.parametrize(
    "fusion, objective", [("transformer", ("cross_view", "reconstruction")), ("weighted", "reconstruction")]
)
def test_save_load_pickle_clone_and_warm_start(small_digits, tmp_path, fusion, objective):
    X, _ = small_digits
    emb = MultiViewEmbedder(views=TWO, fusion=fusion, objective=objective, loss_weights="auto", **FAST).fit(X)
    Z = emb.transform(X)
    emb.save(tmp_path / "mv.skssl")
    loaded = sk_ssl.load(tmp_path / "mv.skssl")
    np.testing.assert_allclose(loaded.transform(X), Z, rtol=1e-5, atol=1e-6)
    assert loaded.objective_ == emb.objective_ and loaded.get_params() == emb.get_params()
    restored = pickle.loads(pickle.dumps(emb))
    np.testing.assert_array_equal(restored.transform(X), Z)
    if fusion == "weighted":
        np.testing.assert_allclose(loaded.view_weights_, emb.view_weights_, rtol=1e-6)
    assert clone(emb).fit(X).transform(X).shape == Z.shape
    loaded.set_params(warm_start=True, max_epochs=1).fit(X)  # continues with the objective's criterion
    assert loaded.n_iter_ == 3 and np.isfinite(loaded.history_[-1]["train_loss"])
