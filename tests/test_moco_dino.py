"""MoCo v2/v3, DINO, the image augmentation knobs and multi-crop."""

import math

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

import sk_ssl
from sk_ssl import ContrastiveEmbedder
from sk_ssl.augment import ImageAugmentation, MultiCrop
from sk_ssl.objectives.dino import OUT_DIM, DINOModel, dino_loss
from sk_ssl.objectives.moco import QUEUE_SIZE, MoCoModel, moco_loss

FAST = dict(max_epochs=2, batch_size=64, n_components=16, random_state=0, device="cpu")
NEW = ["moco_v2", "moco_v3", "dino"]


@pytest.fixture(scope="module")
def small_digits(digits):
    X, y = digits
    return X[:300], y[:300]


def _few_label_probe(embedder, X_train, y_train, X_test, y_test):
    rng = np.random.RandomState(0)
    labelled = np.concatenate([rng.choice(np.flatnonzero(y_train == c), 10, replace=False) for c in range(10)])
    clf = LogisticRegression(max_iter=3000).fit(embedder.transform(X_train[labelled]), y_train[labelled])
    return clf.score(embedder.transform(X_test), y_test)


@pytest.mark.parametrize(
    "objective, image_shape, epochs",
    [("moco_v2", (1, 8, 8), 6), ("moco_v3", (1, 8, 8), 6), ("dino", (1, 8, 8), 6), ("moco_v2", None, 20),
     ("dino", None, 20)],
    ids=["moco_v2-image", "moco_v3-image", "dino-image", "moco_v2-tabular", "dino-tabular"],
)
def test_new_objectives_learn_better_than_random_init(digits, objective, image_shape, epochs):
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(X, y, train_size=800, test_size=400, stratify=y, random_state=0)
    params = dict(objective=objective, image_shape=image_shape, n_components=64, random_state=0, device="cpu")
    untrained = ContrastiveEmbedder(max_epochs=1, learning_rate=1e-12, **params).fit(X_train)
    trained = ContrastiveEmbedder(max_epochs=epochs, **params).fit(X_train)
    acc_random = _few_label_probe(untrained, X_train, y_train, X_test, y_test)
    acc_trained = _few_label_probe(trained, X_train, y_train, X_test, y_test)
    assert acc_trained > acc_random + 0.05, (acc_trained, acc_random)
    expected = {"moco_v2": 0.2, "moco_v3": 0.2, "dino": 0.1}[objective]
    assert (trained.objective_, trained.temperature_) == (objective, expected)
    if objective != "moco_v2":  # v2's loss first rises while the random queue fills with real keys
        assert trained.history_[-1]["train_loss"] < trained.history_[0]["train_loss"]


def test_moco_v2_queue_takes_each_steps_keys_through_the_engine_hook(small_digits):
    X, _ = small_digits
    emb = ContrastiveEmbedder(objective="moco_v2", **{**FAST, "max_epochs": 1}).fit(X)
    model = emb.module_
    assert isinstance(model, MoCoModel) and model.queue.shape == (QUEUE_SIZE, 128)
    steps = len(X) // FAST["batch_size"]
    assert int(model.queue_pointer) == steps * 2 * FAST["batch_size"]  # both views' keys of every step
    torch.testing.assert_close(model.queue.norm(dim=1), torch.ones(QUEUE_SIZE))
    # The queue holds embeddings of past batches, not state: it is not saved.
    assert not any(key.startswith("queue") for key in model.state_dict())
    model.train()
    out = model(torch.as_tensor(X[:64], dtype=torch.float32))
    model.after_step()
    pointer = steps * 2 * FAST["batch_size"]
    keys = torch.nn.functional.normalize(torch.cat([out["key_a"], out["key_b"]]), dim=1)
    torch.testing.assert_close(model.queue[pointer : pointer + 128], keys)
    # v3 has no queue: its negatives are the batch's keys.
    v3 = ContrastiveEmbedder(objective="moco_v3", **{**FAST, "max_epochs": 1}).fit(X).module_
    assert not hasattr(v3, "queue") and not isinstance(v3.predictor, torch.nn.Identity)


def test_moco_loss_prefers_the_matching_key():
    torch.manual_seed(0)
    query = torch.randn(32, 16)
    queue = torch.nn.functional.normalize(torch.randn(256, 16), dim=1)
    matching, shuffled = moco_loss(query, query, 0.2, queue), moco_loss(query, query.roll(1, 0), 0.2, queue)
    assert matching < math.log(257) - 2 and shuffled > matching + 3  # log(257): chance among 256 negatives
    assert moco_loss(query, query, 0.2) < moco_loss(query, query.roll(1, 0), 0.2)


def test_dino_centering_sharpening_and_teacher_through_the_engine_hook(small_digits):
    X, _ = small_digits
    emb = ContrastiveEmbedder(objective="dino", image_shape=(1, 8, 8), **{**FAST, "max_epochs": 1}).fit(X)
    model = emb.module_
    assert isinstance(model, DINOModel) and model.center.shape == (1, OUT_DIM)
    assert "center" in model.state_dict()  # a statistic: saved with the weights
    assert model.center.abs().sum() > 0  # moved by the steps' after_step
    model.train()
    out = model(torch.as_tensor(X[:64], dtype=torch.float32))
    assert out["student"].shape == (2, 64, OUT_DIM) and out["teacher"].shape == (2, 64, OUT_DIM)
    before = model.center.clone()
    model.after_step()
    batch_center = out["teacher"].reshape(-1, OUT_DIM).mean(0, keepdim=True)
    torch.testing.assert_close(model.center, before + (1 - model.center_momentum) * (batch_center - before))


def test_dino_loss_is_log_k_at_uniform_collapse_and_lower_when_student_matches():
    torch.manual_seed(0)
    k = 64
    teacher = torch.randn(2, 16, k)
    uniform = dino_loss(torch.zeros(2, 16, k), torch.zeros(2, 16, k), torch.zeros(1, k))
    assert math.isclose(float(uniform), math.log(k), rel_tol=1e-5)
    swapped = teacher.flip(0)  # each student view sees the other global view's teacher
    matching = dino_loss(swapped * 0.4, teacher, torch.zeros(1, k))
    assert matching < dino_loss(torch.randn(2, 16, k), teacher, torch.zeros(1, k))


@pytest.mark.parametrize("objective", NEW)
def test_new_objectives_round_trip_through_the_safe_format(small_digits, objective, tmp_path):
    X, _ = small_digits
    emb = ContrastiveEmbedder(objective=objective, image_shape=(1, 8, 8), **FAST).fit(X)
    emb.save(tmp_path / "model.skssl")
    loaded = sk_ssl.load(tmp_path / "model.skssl")
    assert (loaded.objective_, loaded.temperature_) == (objective, emb.temperature_)
    np.testing.assert_array_equal(loaded.transform(X), emb.transform(X))
    loaded.set_params(warm_start=True, max_epochs=1).fit(X)  # continues with the rebuilt criterion
    assert loaded.n_iter_ == FAST["max_epochs"] + 1


def test_augmentation_knobs():
    torch.manual_seed(0)
    x = torch.rand(32, 3, 16, 16) * 255
    solarized = ImageAugmentation(crop_scale=(1, 1), crop_ratio=(1, 1), jitter_prob=0, grayscale_prob=0,
                                  solarize_prob=1.0)._solarize(x)  # fmt: skip
    low, high = x.amin((1, 2, 3), keepdim=True), x.amax((1, 2, 3), keepdim=True)
    above = x >= (low + high) / 2
    torch.testing.assert_close(solarized[above], (low + high - x).expand_as(x)[above])
    torch.testing.assert_close(solarized[~above], x[~above])
    assert ImageAugmentation(size=(8, 6))(x).shape == (32, 3, 8, 6)
    gray = x.mean(1, keepdim=True).expand_as(x)
    saturated = ImageAugmentation(jitter_prob=1.0, brightness=0, contrast=0, saturation=0.9)._jitter(gray)
    torch.testing.assert_close(saturated, gray)  # saturation leaves grey images grey ...
    coloured = ImageAugmentation(jitter_prob=1.0, brightness=0, contrast=0, saturation=0.9)._jitter(x)
    assert not torch.allclose(coloured, x)  # ... and changes colour ones
    augment = ImageAugmentation()
    torch.testing.assert_close(augment._gray(coloured), augment._gray(x))  # luminance kept


def test_default_views_draw_no_numbers_for_the_knobs_that_are_off():
    x = torch.rand(8, 3, 16, 16)
    torch.manual_seed(0)
    plain = ImageAugmentation()(x)
    after = torch.rand(1)
    torch.manual_seed(0)
    knobs_off = ImageAugmentation(saturation=0.0, solarize_prob=0.0, size=None)(x)
    torch.testing.assert_close(knobs_off, plain)
    assert torch.equal(torch.rand(1), after)


def test_multi_crop_views_and_fits(small_digits):
    X, _ = small_digits
    crops = MultiCrop(
        [ImageAugmentation(blur_prob=1.0), ImageAugmentation(blur_prob=0.1, solarize_prob=0.2)],
        local_view=ImageAugmentation(crop_scale=(0.2, 0.5), size=(4, 4)),
        n_local=3,
    )
    views = crops(torch.rand(5, 1, 8, 8))
    assert [tuple(v.shape) for v in views] == [(5, 1, 8, 8)] * 2 + [(5, 1, 4, 4)] * 3
    dino = ContrastiveEmbedder(objective="dino", image_shape=(1, 8, 8), augmentation=crops, **FAST).fit(X)
    dino.module_.train()
    assert dino.module_(torch.as_tensor(X[:16], dtype=torch.float32))["student"].shape == (5, 16, OUT_DIM)
    assert dino.transform(X).shape == (len(X), FAST["n_components"])
    # Other objectives train on the two (asymmetric) global views.
    byol = ContrastiveEmbedder(objective="byol", image_shape=(1, 8, 8), augmentation=crops, **FAST).fit(X)
    assert np.isfinite(byol.history_[-1]["train_loss"])
    with pytest.raises(ValueError, match="needs a local_view"):
        MultiCrop(ImageAugmentation(), n_local=2)
