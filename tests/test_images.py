"""Images as users hold them: channel order, grey stacks, integer pixels (sk_ssl._images)."""

import gzip
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone
from torch import nn

from sk_ssl import (
    ContrastiveEmbedder,
    FineTuneClassifier,
    MaskedAutoencoder,
    MILMultitaskClassifier,
    load,
)

FAST = dict(max_epochs=1, batch_size=32, n_components=8, random_state=0, device="cpu")
DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "images"


def _mnist(n=200):
    path = DATA / "mnist" / "train-images-idx3-ubyte.gz"
    if not path.exists():
        pytest.skip(f"{path} not found (../shared/data)")
    with gzip.open(path) as f:
        f.read(16)
        return np.frombuffer(f.read(n * 28 * 28), dtype=np.uint8).reshape(n, 28, 28)


def _photos(rng, n=64, side=32):
    """uint8 ``(n, side, side, 3)``: smooth random colour images (channels last, as Pillow gives)."""
    coarse = rng.randint(0, 256, size=(n, side // 4, side // 4, 3)).astype(np.uint8)
    return coarse.repeat(4, axis=1).repeat(4, axis=2)


def test_channels_last_uint8_is_read_as_channels_last(rng):
    # The case: (64, 32, 32, 3) uint8 was silently read as 32 channels of 32x3 pixels.
    X = _photos(rng)
    emb = ContrastiveEmbedder(encoder="cnn", **FAST).fit(X)
    assert emb.image_shape_ == (3, 32, 32)
    assert emb.channel_order_ == "last"
    assert emb.n_features_in_ == 3 * 32 * 32
    # The same images held channels first, as floats in [0, 1], give the same model and embeddings.
    X_first = np.moveaxis(X, -1, 1).astype(np.float32) / np.float32(255)
    ref = ContrastiveEmbedder(encoder="cnn", **FAST).fit(X_first)
    assert ref.channel_order_ == "first"
    np.testing.assert_array_equal(emb.transform(X), ref.transform(X_first))
    assert emb.transform(X).dtype == np.float32


def test_uint8_and_unit_floats_give_the_same_embeddings():
    images = _mnist(160)  # real digits, (n, 28, 28) uint8: a grey stack
    a = MaskedAutoencoder(**FAST).fit(images)
    b = MaskedAutoencoder(**FAST).fit(images.astype(np.float64) / 255)
    assert a.image_shape_ == b.image_shape_ == (1, 28, 28)
    np.testing.assert_allclose(a.transform(images), b.transform(images / 255.0), rtol=1e-5, atol=1e-5)
    # uint16 is scaled by its own maximum.
    wide = images.astype(np.uint16) * 257  # 255 * 257 == 65535
    np.testing.assert_allclose(a.transform(wide), a.transform(images), rtol=1e-5, atol=1e-6)


def test_grey_stack_equals_one_channel_images(digits):
    X = digits[0][:120].reshape(-1, 8, 8)
    three = ContrastiveEmbedder(**FAST).fit(X)
    four = ContrastiveEmbedder(**FAST).fit(X[:, None])
    assert three.image_shape_ == four.image_shape_ == (1, 8, 8)
    np.testing.assert_array_equal(three.transform(X), four.transform(X[:, None]))
    # Flat rows of the fitted shape are accepted too.
    np.testing.assert_array_equal(three.transform(X), three.transform(X.reshape(len(X), -1)))


def test_ambiguous_order_is_an_error_that_names_both_readings(rng):
    X = rng.rand(20, 8, 8, 8)
    with pytest.raises(ValueError, match=r"channels first.*8 channel\(s\) of 8x8.*channels last.*channel_order"):
        ContrastiveEmbedder(**FAST).fit(X)
    assert ContrastiveEmbedder(channel_order="last", **FAST).fit(X).channel_order_ == "last"
    X = rng.rand(20, 6, 10, 12)  # 6 channels: not recognised without help
    with pytest.raises(ValueError, match="cannot tell the channel axis"):
        MaskedAutoencoder(**FAST).fit(X)
    # image_shape settles it (it is (C, H, W) whatever the axis order of X).
    est = MaskedAutoencoder(image_shape=(12, 6, 10), **FAST).fit(X)
    assert (est.image_shape_, est.channel_order_) == ((12, 6, 10), "last")
    est = MaskedAutoencoder(image_shape=(6, 10, 12), **FAST).fit(X)
    assert (est.image_shape_, est.channel_order_) == ((6, 10, 12), "first")
    with pytest.raises(ValueError, match="fits neither reading"):
        MaskedAutoencoder(image_shape=(10, 6, 12), **FAST).fit(X)
    with pytest.raises(ValueError, match="Make them agree"):
        MaskedAutoencoder(image_shape=(6, 10, 12), channel_order="last", **FAST).fit(X)


def test_transform_keeps_the_fitted_order(rng):
    X = _photos(rng, n=40, side=16)
    emb = ContrastiveEmbedder(encoder="cnn", **FAST).fit(X)
    with pytest.raises(ValueError, match=r"fitted on \(3, 16, 16\).*transpose X"):
        emb.transform(np.moveaxis(X, -1, 1))
    # Clones, pickles and the safe format keep the decision.
    path = Path(pytest.importorskip("tempfile").mkdtemp()) / "emb.sk_ssl"
    emb.save(path)
    loaded = load(path)
    assert loaded.channel_order_ == "last"
    np.testing.assert_array_equal(loaded.transform(X), emb.transform(X))


def test_pixels_on_another_scale_than_in_fit_are_an_error(rng):
    X = _photos(rng, n=32, side=8)
    emb = ContrastiveEmbedder(**FAST).fit(X)  # uint8: scaled to [0, 1]
    with pytest.raises(ValueError, match=r"pixel values up to 2\d\d.*fitted on images in \[0, 1\].*divided by 255"):
        emb.transform(X.astype(np.float32))  # the same images as floats in 0..255: a silent mismatch before
    emb.transform(X.astype(np.float32) / 255)  # fine
    on_255 = ContrastiveEmbedder(**FAST).fit(X.astype(np.float64))  # floats in 0..255, taken as they are
    with pytest.raises(ValueError, match="fitted on float pixels up to 2"):
        on_255.transform(X)
    on_255.transform(X.astype(np.float64))  # fine


def test_integer_tables_are_not_rescaled(rng):
    X = rng.randint(0, 1000, size=(80, 6))
    emb = ContrastiveEmbedder(**FAST).fit(X)
    assert emb.image_shape_ is None and emb.channel_order_ is None
    ref = ContrastiveEmbedder(**FAST).fit(X.astype(np.float64))
    np.testing.assert_array_equal(emb.transform(X), ref.transform(X.astype(np.float64)))
    np.testing.assert_allclose(emb.module_.mean.numpy().ravel(), X.mean(axis=0), rtol=1e-5)


def test_signed_integer_images_outside_8_bits_are_an_error(rng):
    X = rng.randint(-5, 300, size=(20, 1, 8, 8))
    with pytest.raises(ValueError, match="signed integer type"):
        ContrastiveEmbedder(**FAST).fit(X)
    # In 0..255 they are 8-bit pixels, as uint8.
    ok = rng.randint(0, 256, size=(20, 1, 8, 8))
    a = ContrastiveEmbedder(**FAST).fit(ok)
    b = ContrastiveEmbedder(**FAST).fit(ok.astype(np.uint8))
    np.testing.assert_array_equal(a.transform(ok), b.transform(ok.astype(np.uint8)))


def test_flat_uint8_rows_with_image_shape_are_scaled_like_4d(rng):
    X = _photos(rng, n=40, side=8)
    flat = np.moveaxis(X, -1, 1).reshape(len(X), -1)  # channel-major rows, uint8
    a = ContrastiveEmbedder(image_shape=(3, 8, 8), **FAST).fit(flat)
    b = ContrastiveEmbedder(**FAST).fit(X)
    np.testing.assert_array_equal(a.transform(flat), b.transform(X))


def test_reconstruct_returns_the_input_layout(rng):
    X = rng.rand(40, 8, 8, 3)
    mae = MaskedAutoencoder(**FAST).fit(X)
    holes = X.copy()
    holes[:5, 2:4, 2:4, :] = np.nan
    filled = mae.reconstruct(holes)
    assert filled.shape == X.shape
    observed = ~np.isnan(holes)
    np.testing.assert_array_equal(filled[observed], X[observed])
    assert not np.isnan(filled).any()
    grey = MaskedAutoencoder(**FAST).fit(rng.rand(40, 8, 8))
    assert grey.reconstruct(rng.rand(3, 8, 8)).shape == (3, 8, 8)


def test_finetune_reads_channels_last_uint8(rng):
    X = _photos(rng, n=48, side=16)
    y = rng.randint(0, 2, size=len(X))
    clf = FineTuneClassifier(pretrainer=ContrastiveEmbedder(encoder="cnn", **FAST), max_epochs=1, random_state=0)
    clf.fit(X, y)
    assert (clf.image_shape_, clf.channel_order_) == ((3, 16, 16), "last")
    assert clf.pretrainer_.image_shape_ == (3, 16, 16)
    proba = clf.predict_proba(X)
    flat_rows = np.moveaxis(X, -1, 1).reshape(len(X), -1).astype(np.float32) / 255  # channel-major, in [0, 1]
    np.testing.assert_allclose(proba, clf.predict_proba(flat_rows), atol=1e-6)
    with pytest.raises(ValueError, match="transpose X"):
        clf.predict(np.moveaxis(X, -1, 1))


def test_mil_bags_of_channels_last_images(rng):
    bags = [_photos(rng, n=int(rng.randint(2, 5)), side=8) for _ in range(12)]
    y = rng.randint(0, 2, size=len(bags))
    mil = MILMultitaskClassifier(max_epochs=1, batch_size=4, n_components=8, random_state=0, device="cpu")
    mil.fit(bags, y)
    assert (mil.image_shape_, mil.channel_order_) == ((3, 8, 8), "last")
    assert mil.predict(bags).shape == (len(bags),)


# ------------------------------------------------------------ own backbone
class TinyBackbone(nn.Module):
    """A user's backbone: conv, pooling, flatten; output width 12."""

    def __init__(self, in_channels=3):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, 12, 3, padding=1), nn.BatchNorm2d(12), nn.ReLU(), nn.AdaptiveAvgPool2d(1)
        )

    def forward(self, x):
        return self.body(x).flatten(1)


def test_own_backbone_trains_a_copy_and_is_used_by_transform(rng, tmp_path):
    X = _photos(rng, n=48, side=16)
    backbone = TinyBackbone()
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    emb = ContrastiveEmbedder(encoder=backbone, n_components=12, max_epochs=2, batch_size=16, random_state=0)
    emb.fit(X)
    # The user's instance is untouched (weights and BatchNorm statistics); the fitted copy has moved on.
    for key, value in backbone.state_dict().items():
        torch.testing.assert_close(value, before[key])
    assert emb.module_.encoder is not backbone
    moved = [k for k, v in emb.module_.encoder.state_dict().items() if not torch.equal(v.cpu(), before[k])]
    assert moved
    Z = emb.transform(X)
    assert Z.shape == (48, 12) and np.isfinite(Z).all()
    # Clone and pickle work; the safe format refuses with a clear error.
    assert isinstance(clone(emb).encoder, TinyBackbone)
    again = pickle.loads(pickle.dumps(emb))
    np.testing.assert_array_equal(again.transform(X), Z)
    with pytest.raises(ValueError, match="your own torch module.*pickle"):
        emb.save(tmp_path / "own.sk_ssl")


def test_own_backbone_width_and_input_are_checked(rng):
    X = _photos(rng, n=16, side=8)
    with pytest.raises(ValueError, match=r"to \(2, 12\).*Pass n_components=12"):
        ContrastiveEmbedder(encoder=TinyBackbone(), **FAST).fit(X)
    with pytest.raises(ValueError, match=r"failed on a batch of shape \(2, 3, 8, 8\)"):
        ContrastiveEmbedder(encoder=TinyBackbone(in_channels=1), n_components=12, max_epochs=1).fit(X)
    # MaskedAutoencoder's image encoder sees 2 * C channels (pixels and mask indicators).
    mae = MaskedAutoencoder(encoder=TinyBackbone(in_channels=6), n_components=12, max_epochs=1, random_state=0)
    assert mae.fit(X).transform(X).shape == (16, 12)


# ------------------------------------------------------------------ files
CIFAR = DATA / "cifar10" / "cifar10_test_jpeg.zip"


@pytest.fixture(scope="module")
def jpeg_folder(tmp_path_factory):
    """48 real CIFAR-10 test JPEGs (32x32 RGB, a few of each class) extracted to a temporary folder."""
    if not CIFAR.exists():
        pytest.skip(f"{CIFAR} not found (../shared/data)")
    pytest.importorskip("PIL", reason="image files need Pillow: pip install 'sk_ssl[images]'")
    import zipfile

    folder = tmp_path_factory.mktemp("cifar_jpegs")
    with zipfile.ZipFile(CIFAR) as archive:
        names = sorted(n for n in archive.namelist() if n.endswith(".jpg"))[::200][:48]
        paths = []
        for i, name in enumerate(names):
            path = folder / f"{i:03d}_{name.split('/')[1]}.jpg"
            path.write_bytes(archive.read(name))
            paths.append(path)
    return paths


def _decoded(paths, mode="RGB"):
    Image = pytest.importorskip("PIL.Image")
    return np.stack([np.asarray(Image.open(p).convert(mode)) for p in paths])


FILES = dict(encoder="cnn", max_epochs=2, batch_size=16, n_components=8, random_state=0, device="cpu")


def test_files_train_like_the_same_images_as_a_uint8_array(jpeg_folder):
    pd = pytest.importorskip("pandas")
    array = _decoded(jpeg_folder)  # (48, 32, 32, 3) uint8, as Pillow gives
    from_files = ContrastiveEmbedder(**FILES).fit(jpeg_folder)
    assert (from_files.image_shape_, from_files.channel_order_) == ((3, 32, 32), None)
    assert from_files.n_features_in_ == 3 * 32 * 32
    from_array = ContrastiveEmbedder(**FILES).fit(array)
    Z = from_array.transform(array)
    # Same statistics, same batches, same augmentations: the same model.
    np.testing.assert_allclose(from_files.transform([str(p) for p in jpeg_folder]), Z, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(from_files.transform(pd.Series(jpeg_folder)), Z, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(from_files.transform(np.asarray(jpeg_folder, dtype=object)), Z, rtol=1e-5, atol=1e-6)
    # A model fitted on files also embeds arrays, in either channel order.
    np.testing.assert_allclose(from_files.transform(array), Z, rtol=1e-5, atol=1e-6)
    # partial_fit takes files too.
    assert from_files.partial_fit(jpeg_folder[:20]).n_iter_ == 3


def test_files_with_early_stopping_and_include_input(jpeg_folder):
    # The hold-out is a subset of the files: decoded through the same read-ahead path.
    est = ContrastiveEmbedder(early_stopping=True, validation_fraction=0.25, include_input=True, **FILES)
    Z = est.fit(jpeg_folder).transform(jpeg_folder)
    assert "valid_loss" in est.history_[-1]
    assert Z.shape == (48, 8 + 3 * 32 * 32)
    np.testing.assert_allclose(Z[:, 8:], est.transform(_decoded(jpeg_folder))[:, 8:], rtol=1e-5, atol=1e-5)


def test_multiview_rejects_files_clearly(jpeg_folder):
    from sk_ssl import MultiViewEmbedder

    with pytest.raises(ValueError, match="does not read image files"):
        MultiViewEmbedder(views=[("a", [0]), ("b", [1])]).fit(jpeg_folder)


def test_grey_files_and_resizing(jpeg_folder, tmp_path):
    Image = pytest.importorskip("PIL.Image")
    paths = []
    for i, src in enumerate(jpeg_folder[:20]):
        image = Image.open(src).convert("L")
        if i % 2:
            image = image.resize((24, 24))
        paths.append(tmp_path / f"{i}.png")
        image.save(paths[-1])
    with pytest.raises(ValueError, match=r"1\.png' is 24x24 pixels but the first image is 32x32.*image_shape"):
        MaskedAutoencoder(**FILES).fit(paths)
    est = MaskedAutoencoder(image_shape=(1, 16, 16), **FILES).fit(paths)
    assert est.image_shape_ == (1, 16, 16)
    assert est.transform(paths).shape == (20, 8)
    # image_shape=(3, H, W) reads grey files as RGB.
    assert ContrastiveEmbedder(image_shape=(3, 16, 16), **FILES).fit(paths).image_shape_ == (3, 16, 16)


def test_damaged_file_is_named_and_nothing_is_fitted(jpeg_folder, tmp_path):
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(Path(jpeg_folder[5]).read_bytes()[:300])
    not_an_image = tmp_path / "notes.jpg"
    not_an_image.write_text("not a picture")
    for bad in (truncated, not_an_image):
        est = ContrastiveEmbedder(**FILES)
        with pytest.raises(ValueError, match=f"Cannot read image file '.*{bad.name}'"):
            est.fit([*jpeg_folder[:20], bad, *jpeg_folder[20:30]])
        assert not hasattr(est, "module_")
    fitted = ContrastiveEmbedder(**FILES).fit(jpeg_folder[:20])
    weights = {k: v.clone() for k, v in fitted.module_.state_dict().items()}
    with pytest.raises(ValueError, match="truncated.jpg"):
        fitted.partial_fit([*jpeg_folder[:10], truncated])
    for key, value in fitted.module_.state_dict().items():
        torch.testing.assert_close(value, weights[key])  # the continued fit stopped before any step
    with pytest.raises(ValueError, match="does not exist"):
        fitted.transform([tmp_path / "missing.jpg"])
    with pytest.raises(ValueError, match="entry 1 is a int"):
        fitted.transform([str(jpeg_folder[0]), 3])


def test_finetune_fits_and_predicts_from_files(jpeg_folder):
    y = np.array([int(p.name.split("_")[1][0] in "aeiou") for p in jpeg_folder])  # some binary label of the class
    y_semi = y.copy()
    y_semi[::3] = -1
    clf = FineTuneClassifier(pretrainer=ContrastiveEmbedder(**FILES), max_epochs=2, batch_size=8, random_state=0)
    clf.fit(jpeg_folder, y_semi, X_val=jpeg_folder[:6], y_val=y[:6])
    assert clf.image_shape_ == (3, 32, 32)
    pred = clf.predict(jpeg_folder)
    assert pred.shape == (48,) and set(pred) <= {0, 1}
    np.testing.assert_allclose(clf.predict_proba(jpeg_folder), clf.predict_proba(_decoded(jpeg_folder)), atol=1e-6)


def test_missing_pillow_names_the_extra(jpeg_folder, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"sk_ssl\[images\]"):
        ContrastiveEmbedder(**FILES).fit(jpeg_folder)


def test_files_warm_start_pickle_save_and_cross_validation(jpeg_folder, tmp_path):
    pd = pytest.importorskip("pandas")
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline

    est = ContrastiveEmbedder(warm_start=True, **FILES).fit(jpeg_folder[:24])
    assert est.fit(jpeg_folder[:24]).n_iter_ == 4
    Z = est.transform(jpeg_folder)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(est)).transform(jpeg_folder), Z)
    est.save(tmp_path / "files.sk_ssl")
    np.testing.assert_array_equal(load(tmp_path / "files.sk_ssl").transform(jpeg_folder), Z)
    y = np.arange(len(jpeg_folder)) % 2
    pipe = make_pipeline(ContrastiveEmbedder(**FILES), LogisticRegression())
    assert cross_val_score(pipe, pd.Series([str(p) for p in jpeg_folder]), y, cv=2).shape == (2,)
