"""The ViT encoder, MAE (token dropping, loss on masked patches) and SimMIM on a ViT (token-level mask)."""

import math
import pickle

import numpy as np
import pytest
import torch

import sk_ssl
from sk_ssl import ContrastiveEmbedder, MaskedAutoencoder
from sk_ssl.encoders import ViTEncoder, make_encoder
from sk_ssl.objectives.mae import MAELoss, MAEModel
from sk_ssl.objectives.simmim import ViTMaskedModel

FAST = dict(image_shape=(1, 8, 8), max_epochs=1, batch_size=64, n_components=16, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def small_digits(digits):
    X, y = digits
    return X[:300], y[:300]


def _sequence_lengths(vit):
    """Record the length of every sequence entering ``vit``'s transformer."""
    lengths = []
    vit.transformer.register_forward_pre_hook(lambda module, args: lengths.append(args[0].shape[1]))
    return lengths


# ---------------------------------------------------------------- encoder
@pytest.mark.parametrize("shape, patch", [((1, 8, 8), 2), ((3, 32, 32), 4), ((1, 28, 28), 4), ((3, 224, 224), 16),
                                          ((1, 1, 7), 1)])  # fmt: skip
def test_vit_shapes_and_auto_patch_size(shape, patch):
    vit = ViTEncoder(shape, 24, dim=16, depth=1, n_heads=2)
    assert vit.patch_size == patch and vit.n_patches == (shape[1] // patch) * (shape[2] // patch)
    x = torch.randn(3, *shape)
    assert vit(x).shape == (3, 24)
    patches = vit.patchify(x)
    assert patches.shape == (3, vit.n_patches, patch * patch * shape[0])
    torch.testing.assert_close(vit.unpatchify(patches), x)
    # Patch i holds the pixels of grid cell i (row-major): check the last one directly.
    p = patch
    torch.testing.assert_close(patches[:, -1], x[:, :, -p:, -p:].permute(0, 2, 3, 1).reshape(3, -1))


def test_vit_pooling_is_cls_or_mean_of_patch_tokens():
    torch.manual_seed(0)
    cls = ViTEncoder((1, 8, 8), 16, dim=16, depth=1, n_heads=2, pool="cls")
    mean = ViTEncoder((1, 8, 8), 16, dim=16, depth=1, n_heads=2, pool="mean")
    mean.load_state_dict(cls.state_dict())
    x = torch.randn(4, 1, 8, 8)
    hidden = cls.encode_tokens(cls.patch_tokens(x))
    assert hidden.shape == (4, 1 + 16, 16)
    torch.testing.assert_close(cls(x), hidden[:, 0])  # out_features == dim: no projection
    torch.testing.assert_close(mean(x), hidden[:, 1:].mean(1))


def test_vit_errors_name_the_fix():
    with pytest.raises(ValueError, match=r"patch_size=3 does not divide the 8 x 8 image.*\[1, 2, 4, 8\]"):
        ViTEncoder((1, 8, 8), 16, patch_size=3)
    with pytest.raises(ValueError, match="n_heads=3 must divide"):
        ViTEncoder((1, 8, 8), 16, dim=16, n_heads=3)
    with pytest.raises(ValueError, match="position='learned'"):
        ViTEncoder((1, 8, 8), 16, dim=18, n_heads=2)
    with pytest.raises(ValueError, match="needs images"):
        make_encoder("vit", (64,), 16)


def test_named_vit_sizes():
    tiny = make_encoder("vit_tiny", (3, 32, 32), 192)
    assert (tiny.dim, len(tiny.transformer.blocks), tiny.transformer.blocks[0].attn.n_heads) == (192, 12, 3)
    assert make_encoder("vit_mean", (3, 32, 32), 64).pool == "mean"
    assert make_encoder("vit", (3, 32, 32), 64, patch_size=8).n_patches == 16  # kwargs reach the class


def test_contrastive_embedder_trains_a_vit(small_digits):
    X, _ = small_digits
    emb = ContrastiveEmbedder(encoder="vit_mean", **FAST).fit(X[:128])
    assert isinstance(emb.module_.encoder, ViTEncoder) and emb.transform(X[:10]).shape == (10, 16)


# ---------------------------------------------------------------- MAE
def test_mae_resolves_vit_and_ratio_and_drops_tokens(small_digits):
    X, _ = small_digits
    mae = MaskedAutoencoder(objective="mae", **FAST).fit(X)
    assert (mae.objective_, mae.mask_ratio_) == ("mae", 0.75)
    model = mae.module_
    assert isinstance(model, MAEModel) and isinstance(model.encoder, ViTEncoder)
    lengths = _sequence_lengths(model.encoder)
    model.train()(torch.as_tensor(X[:5], dtype=torch.float32))
    assert lengths == [1 + math.ceil((1 - 0.75) * 16)]  # CLS + 4 visible of 16 patches
    lengths.clear()
    mae.transform(X[:5])  # transform: the whole image, no masking
    assert lengths == [1 + 16]
    half = MaskedAutoencoder(objective="mae", mask_ratio=0.3, **FAST).fit(X)
    lengths = _sequence_lengths(half.module_.encoder)
    half.module_(torch.as_tensor(X[:5], dtype=torch.float32))
    assert lengths == [1 + math.ceil(0.7 * 16)]


def test_mae_loss_counts_only_masked_patches(small_digits):
    X, _ = small_digits
    model = MaskedAutoencoder(objective="mae", **FAST).fit(X).module_
    torch.manual_seed(0)
    with torch.no_grad():
        out = model(torch.as_tensor(X[:32], dtype=torch.float32))
    loss = MAELoss()
    base = loss(out)
    visible = ~out["patch_mask"]
    assert visible.sum(1).eq(4).all() and out["patch_mask"].sum(1).eq(12).all()
    perturbed = dict(out, prediction=out["prediction"] + 100.0 * visible[..., None])
    torch.testing.assert_close(loss(perturbed), base)  # visible patches do not count
    masked = dict(out, prediction=out["prediction"] + 1.0 * out["patch_mask"][..., None])
    assert loss(masked) > base + 0.5
    # Targets are normalized within each patch (MAE's norm_pix_loss).
    target = out["target"][out["target"].abs().sum(-1) > 0]
    torch.testing.assert_close(target.mean(-1), torch.zeros(len(target)), atol=1e-4, rtol=0)


def test_mae_needs_a_vit_and_two_patches(small_digits):
    X, _ = small_digits
    with pytest.raises(ValueError, match="objective='mae' drops patch tokens.*encoder='cnn'"):
        MaskedAutoencoder(objective="mae", **{**FAST, "image_shape": (1, 8, 8)}, encoder="cnn").fit(X)
    with pytest.raises(ValueError, match=r"1 feature\(s\)"):
        MaskedAutoencoder(objective="mae", **{**FAST, "image_shape": (1, 1, -1)}).fit(X[:, :1])
    with pytest.raises(ValueError, match="is defined for image input"):
        MaskedAutoencoder(objective="mae", **{**FAST, "image_shape": None}).fit(X)
    mae = MaskedAutoencoder(objective="mae", **FAST).fit(X)
    with pytest.raises(ValueError, match="inverse_transform and reconstruct are not available"):
        mae.inverse_transform(mae.transform(X[:3]))


def test_mae_transform_accepts_missing_pixels(small_digits):
    X, _ = small_digits
    mae = MaskedAutoencoder(objective="mae", **FAST).fit(X)
    X_holes = X[:20].copy()
    X_holes[:, 10] = np.nan
    assert np.isfinite(mae.transform(X_holes)).all()


# ---------------------------------------------------------------- SimMIM on a ViT
def test_simmim_on_a_vit_masks_whole_tokens(small_digits):
    X, _ = small_digits
    est = MaskedAutoencoder(objective="simmim", encoder="vit", **FAST).fit(X)
    model = est.module_
    assert isinstance(model, ViTMaskedModel) and est.mask_ratio_ == 0.6
    lengths = _sequence_lengths(model.encoder)
    torch.manual_seed(0)
    with torch.no_grad():
        out = model(torch.as_tensor(X[:8], dtype=torch.float32))
    assert lengths == [1 + 16]  # every token kept, unlike MAE
    # The mask is constant on each 2 x 2 patch and hides round(0.6 * 16) = 10 of 16 patches.
    patches = model.encoder.patchify(out["loss_mask"].float())
    assert ((patches == 0) | (patches == 1)).all() and (patches.amin(-1) == patches.amax(-1)).all()
    assert patches[..., 0].sum(1).eq(10).all()
    # The input of a masked patch is the mask token: the encoder does not see its pixels.
    x = torch.as_tensor(X[:1], dtype=torch.float32)
    mask = torch.zeros(1, 16, dtype=torch.bool)
    mask[0, 5] = True
    changed = x.clone().view(1, 1, 8, 8)
    changed[..., 2:4, 2:4] += 50  # patch 5 (row 1, column 1 of the 4 x 4 grid)
    images = [model.standardize(v.view(1, 1, 8, 8)) for v in (x, changed)]
    with torch.no_grad():
        a, b = (model._hidden_states(i, mask) for i in images)
    torch.testing.assert_close(a, b)


def test_simmim_vit_block_size_must_be_whole_patches(small_digits):
    X, _ = small_digits
    with pytest.raises(ValueError, match="block_size=3 must be a multiple of the ViT's patch size 2"):
        MaskedAutoencoder(objective="simmim", encoder="vit", block_size=3, **FAST).fit(X)
    est = MaskedAutoencoder(objective="simmim", encoder="vit", block_size=4, **FAST).fit(X)
    assert est.module_.masking.block_size == 4


@pytest.mark.parametrize("params", [dict(objective="mae"), dict(objective="simmim", encoder="vit")], ids=["mae", "simmim"])
def test_vit_objectives_learn_on_digits(digits, params):
    X, _ = digits
    est = MaskedAutoencoder(**{**FAST, "max_epochs": 4}, **params).fit(X[:400])
    losses = [h["train_loss"] for h in est.history_]
    assert losses[-1] < 0.9 * losses[0], losses


# ---------------------------------------------------------------- persistence
@pytest.mark.parametrize(
    "params", [dict(objective="mae"), dict(objective="simmim", encoder="vit_mean")], ids=["mae", "simmim"]
)
def test_vit_estimators_pickle_save_and_load(small_digits, params, tmp_path):
    X, _ = small_digits
    est = MaskedAutoencoder(**FAST, **params).fit(X)
    Z = est.transform(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(est)).transform(X), Z)
    est.save(tmp_path / "vit.skssl")
    loaded = sk_ssl.load(tmp_path / "vit.skssl")
    np.testing.assert_array_equal(loaded.transform(X), Z)
    loaded.set_params(warm_start=True, max_epochs=1).fit(X)
    assert loaded.n_iter_ == 2
    exported = est.export_encoder()
    with torch.no_grad():
        np.testing.assert_allclose(exported.encode(torch.as_tensor(X, dtype=torch.float32)).numpy(), Z, atol=1e-5)
