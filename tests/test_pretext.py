"""PretextEmbedder: rotation, jigsaw, colorization, mask estimation and block permutation (the "pretext" family)."""

import pickle

import numpy as np
import pytest
import torch

import sk_ssl
from sk_ssl import PretextEmbedder
from sk_ssl.objectives.block_permutation import BlockPermutationModel, column_blocks, permute_blocks
from sk_ssl.objectives.jigsaw import JigsawModel, permutation_set, shuffle_tiles

FAST = dict(max_epochs=2, batch_size=64, n_components=16, random_state=0, device="cpu")


def _rgb(n=64, seed=0):
    return np.random.RandomState(seed).rand(n, 3, 8, 8).astype(np.float32)


def test_rotation_head_is_well_above_chance_on_held_out_digits(digits):
    X, _ = digits
    emb = PretextEmbedder(objective="rotation", image_shape=(1, 8, 8), max_epochs=2, batch_size=32,
                          n_components=16, random_state=0, device="cpu").fit(X[:300])  # fmt: skip
    model = emb.module_.eval()
    with torch.no_grad():
        out = model(torch.as_tensor(X[1000:1400], dtype=torch.float32))
    accuracy = (out["logits"].argmax(1) == out["labels"]).float().mean().item()
    assert out["logits"].shape == (1600, 4)
    assert accuracy > 0.5, accuracy  # chance is 0.25 (0.64 at this seed)
    assert emb.history_[-1]["train_loss"] < emb.history_[0]["train_loss"]


def test_jigsaw_tiles_are_where_the_labels_say():
    n_tiles, grid = 4, 2
    x = torch.arange(n_tiles, dtype=torch.float32).view(1, 1, 2, 2)  # tile i holds the value i
    x = x.repeat_interleave(3, dim=2).repeat_interleave(3, dim=3)  # 6 x 6 image of 3 x 3 tiles
    x = torch.cat([x, torch.full((1, 1, 1, 6), -1.0)], dim=2)  # plus a row outside the grid: left in place
    x = torch.cat([x, torch.full((1, 1, 7, 1), -1.0)], dim=3).repeat(5, 1, 1, 1)
    permutations = torch.as_tensor(permutation_set(n_tiles, 24))[[0, 3, 7, 11, 23]]
    out = shuffle_tiles(x, grid, permutations)
    for n in range(5):
        for i in range(n_tiles):
            r, c = divmod(i, grid)
            tile = out[n, 0, 3 * r : 3 * r + 3, 3 * c : 3 * c + 3]
            assert torch.all(tile == permutations[n, i]), (n, i)
    assert torch.all(out[:, :, 6] == -1) and torch.all(out[:, :, :, 6] == -1)


def test_jigsaw_permutation_set_is_distinct_spread_and_starts_with_the_identity():
    all_24 = permutation_set(4, 24)
    assert len({tuple(p) for p in all_24}) == 24 and list(all_24[0]) == [0, 1, 2, 3]
    chosen = permutation_set(9, 30)
    assert chosen.shape == (30, 9) and len({tuple(p) for p in chosen}) == 30
    distances = (chosen[:, None] != chosen[None]).sum(-1) + 9 * np.eye(30, dtype=int)
    random = np.stack([np.random.RandomState(1).permutation(9) for _ in range(30)])
    random_distances = (random[:, None] != random[None]).sum(-1) + 9 * np.eye(30, dtype=int)
    assert distances.min() > random_distances.min()  # the greedy choice spreads them out


def test_jigsaw_model_feeds_the_encoder_the_permutation_of_its_label(digits):
    X, _ = digits
    emb = PretextEmbedder(objective="jigsaw", image_shape=(1, 8, 8), **FAST).fit(X[:200])
    model = emb.module_
    assert isinstance(model, JigsawModel) and (emb.grid_size_, emb.n_permutations_) == (2, 24)
    seen = []
    model.encoder.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    x = torch.as_tensor(X[:50], dtype=torch.float32)
    out = model(x)
    standardized = model.standardize(model.as_input(x))
    expected = shuffle_tiles(standardized, 2, model.permutations[out["labels"]])
    torch.testing.assert_close(seen[0], expected)
    assert not torch.equal(seen[0], standardized)


def test_colorization_encoder_sees_no_colour():
    X = _rgb(80)
    emb = PretextEmbedder(objective="colorization", **FAST).fit(X)
    # Same luminance, different colours: move weight between channels along the luma-neutral direction.
    recoloured = X.copy()
    recoloured[:, 0] += 0.1 / 0.299
    recoloured[:, 1] -= 0.1 / 0.587
    model = emb.module_
    with torch.no_grad():
        grey = model.grey(model.as_input(torch.as_tensor(X.reshape(80, -1))))
    assert grey.shape == (80, 1, 8, 8)
    np.testing.assert_allclose(emb.transform(recoloured), emb.transform(X), rtol=1e-4, atol=1e-4)
    brighter = X + 0.2
    assert np.abs(emb.transform(brighter) - emb.transform(X)).max() > 1e-3  # luminance does reach it
    out = model(torch.as_tensor(X.reshape(80, -1)))
    assert out["reconstruction"].shape == out["target"].shape == (80, 3, 8, 8)


def test_colorization_of_grey_images_is_a_clear_error(digits):
    X, _ = digits
    with pytest.raises(ValueError, match=r"needs RGB images \(3 channels\); these have 1.*objective='rotation'"):
        PretextEmbedder(objective="colorization", image_shape=(1, 8, 8), **FAST).fit(X[:50])


def test_rotation_of_non_square_images_is_a_clear_error(digits):
    X, _ = digits
    with pytest.raises(ValueError, match=r"square images; these are 4 x 16.*objective='jigsaw'"):
        PretextEmbedder(image_shape=(1, 4, 16), **FAST).fit(X[:50])
    emb = PretextEmbedder(objective="jigsaw", image_shape=(1, 4, 16), **FAST).fit(X[:50])
    assert emb.objective_ == "jigsaw"


@pytest.mark.parametrize("objective, image_shape", [("mask_estimation", (1, 8, 8)), ("rotation", None)])
def test_task_for_the_other_kind_of_data_is_a_clear_error(digits, objective, image_shape):
    X, _ = digits
    with pytest.raises(ValueError, match=f"objective='{objective}'.*objective='auto'"):
        PretextEmbedder(objective=objective, image_shape=image_shape, **FAST).fit(X[:50])


def test_mask_estimation_finds_corrupted_cells_better_than_chance():
    # Rows on a 2-D plane in 10-D: a redrawn cell leaves the plane, which only a model of the columns' relations sees.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(1200, 2)) @ rng.normal(size=(2, 10)) + 0.05 * rng.normal(size=(1200, 10))
    emb = PretextEmbedder(max_epochs=30, batch_size=64, n_components=32, random_state=0, device="cpu").fit(X[:800])
    assert (emb.objective_, emb.corruption_rate_) == ("mask_estimation", 0.3)
    torch.manual_seed(0)
    with torch.no_grad():
        out = emb.module_.eval()(torch.as_tensor(X[800:], dtype=torch.float32))
    accuracy = ((out["mask_logits"] > 0) == out["mask"]).float().mean().item()
    assert accuracy > 0.75, accuracy  # "nothing was corrupted" scores 0.7
    assert emb.history_[-1]["train_loss"] < 0.5  # a constant guess of 0.3 scores 0.61


@pytest.mark.parametrize(
    "objective, data",
    [("rotation", "digits"), ("jigsaw", "digits"), ("colorization", "rgb"), ("mask_estimation", "table"),
     ("block_permutation", "table")],
)
def test_round_trips_through_pickle_and_the_safe_format(digits, objective, data, tmp_path):
    X = {"digits": digits[0][:128], "table": digits[0][:128], "rgb": _rgb(128)}[data]
    image_shape = (1, 8, 8) if data == "digits" else None
    emb = PretextEmbedder(objective=objective, image_shape=image_shape, **FAST).fit(X)
    expected = emb.transform(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(emb)).transform(X), expected)
    emb.save(tmp_path / "model.skssl")
    loaded = sk_ssl.load(tmp_path / "model.skssl")
    assert loaded.objective_ == objective and loaded.get_params() == emb.get_params()
    np.testing.assert_array_equal(loaded.transform(X), expected)
    loaded.set_params(warm_start=True, max_epochs=1).fit(X)  # continues with the rebuilt criterion
    assert loaded.n_iter_ == FAST["max_epochs"] + 1
    encoder = emb.export_encoder()
    with torch.no_grad():
        Z = encoder.encode(torch.as_tensor(X.reshape(len(X), -1), dtype=torch.float32)).numpy()
    np.testing.assert_allclose(Z, emb.transform(X.astype(np.float32)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("pretrainer", ["pretext", "hybrid"])
def test_fine_tuners_take_a_pretext_or_hybrid_pretrainer(digits, pretrainer):
    from sk_ssl import ContrastiveEmbedder, FineTuneClassifier

    X, y = digits
    pre = (PretextEmbedder(**{**FAST, "max_epochs": 1}) if pretrainer == "pretext"
           else ContrastiveEmbedder(objective=("scarf", "vime"), **{**FAST, "max_epochs": 1}))  # fmt: skip
    clf = FineTuneClassifier(pretrainer=pre, max_epochs=10, learning_rate=1e-2, encoder_lr_factor=1.0,
                             random_state=0, device="cpu").fit(X[:300], y[:300])  # fmt: skip
    assert clf.score(X[300:500], y[300:500]) > 0.6  # 0.76-0.78 here; chance 0.1


def test_block_permutation_swaps_exactly_the_labelled_block_with_another_row():
    block_of = torch.as_tensor(column_blocks(7, 3))
    assert block_of.tolist() == [0, 0, 0, 1, 1, 2, 2]  # contiguous, near-equal blocks
    x = torch.arange(5 * 7, dtype=torch.float32).reshape(5, 7)
    labels, order = torch.tensor([0, 1, 2, 1, 0]), torch.tensor([3, 2, 4, 0, 1])
    out = permute_blocks(x, block_of, labels, order)
    for i in range(5):
        inside = block_of == labels[i]
        torch.testing.assert_close(out[i, inside], x[order[i], inside])
        torch.testing.assert_close(out[i, ~inside], x[i, ~inside])
    torch.manual_seed(0)  # the model's draw: every row takes its block from another row
    model = BlockPermutationModel(torch.nn.Identity(), (7,), torch.zeros(7), torch.ones(7), torch.nn.Identity(),
                                  column_blocks(7, 3))  # fmt: skip
    out = model(x)
    changed = (out["logits"] != x).any(dim=1)
    assert changed.all() and out["labels"].tolist() != [0] * 5
    for i in range(5):
        assert torch.equal((out["logits"][i] != x[i]), block_of == out["labels"][i])


def test_block_permutation_finds_the_swapped_block_better_than_chance():
    # Rows on a 2-D plane in 12-D: a swapped block leaves the plane, and which block did is visible to a model
    # of the columns' relations only (each column's marginal is unchanged).
    rng = np.random.RandomState(0)
    X = rng.normal(size=(1200, 2)) @ rng.normal(size=(2, 12)) + 0.05 * rng.normal(size=(1200, 12))
    emb = PretextEmbedder(objective="block_permutation", max_epochs=20, batch_size=64, n_components=32,
                          random_state=0, device="cpu").fit(X[:800])  # fmt: skip
    assert (emb.objective_, emb.n_blocks_, emb.corruption_rate_) == ("block_permutation", 4, None)
    torch.manual_seed(0)
    with torch.no_grad():
        out = emb.module_.eval()(torch.as_tensor(X[800:], dtype=torch.float32))
    accuracy = (out["logits"].argmax(1) == out["labels"]).float().mean().item()
    assert accuracy > 0.6, accuracy  # chance: 0.25
    assert emb.history_[-1]["train_loss"] < 1.0  # a uniform guess scores log(4) = 1.39


@pytest.mark.parametrize("n_blocks, n_features", [(5, 4), ("auto", 1)])
def test_block_permutation_with_too_few_columns_is_a_clear_error(n_blocks, n_features):
    X = np.random.RandomState(0).normal(size=(50, n_features))
    with pytest.raises(ValueError, match="Pass a smaller n_blocks, or use objective='mask_estimation'"):
        PretextEmbedder(objective="block_permutation", n_blocks=n_blocks, **FAST).fit(X)
