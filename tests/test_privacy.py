"""No training row inside a fitted model, and a model size that does not grow with n_samples.

The corruption of SCARF (``TabularCorruption``) and VIME (``MarginalMasking``)
used to keep the training rows as a donor pool; they now keep fixed-size
per-column summaries. These tests fit every tabular estimator on real rows
(the numeric columns of UCI Adult) and search every byte the model can be
written as (its pickle, its ``save`` file and that file's members, its
tensors) for any training row, in raw and standardized units, as float32 and
float64.
"""

import io
import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from sk_ssl._testing import _tested_estimator

ADULT = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "tabular" / "adult" / "adult-train.csv"
NUMERIC = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
FAST = dict(max_epochs=1, batch_size=128)


def _fast(name, **params):
    """A fast configuration of sk_ssl._testing: one epoch over batches of 128, 4 components (fine-tuners: none)."""
    width = {} if name.startswith("FineTune") else {"n_components": 4}
    return _tested_estimator(name, **{**FAST, **width, **params})


@pytest.fixture(scope="module")
def adult():
    """The six numeric columns of UCI Adult (float64) and the income label, 20,000 rows."""
    if not ADULT.exists():
        pytest.skip(f"{ADULT} not found (the shared data folder beside the checkout)")
    import pandas as pd

    cols = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
            "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week", "native_country",
            "income"]  # fmt: skip
    df = pd.read_csv(ADULT, header=None, names=cols, sep=r",\s*", engine="python", na_values="?", nrows=20_000)
    return df[NUMERIC].to_numpy(np.float64), (df["income"] == ">50K").to_numpy(int)


def _standardizations(est):
    """Every (mean, scale) pair of the fitted network(s), with the columns each applies to."""
    found = []
    for module in _modules(est):
        for sub in module.modules():
            mean, scale = getattr(sub, "mean", None), getattr(sub, "scale", None)
            if isinstance(mean, torch.Tensor) and isinstance(scale, torch.Tensor) and mean.dim() == 2:
                found.append((mean.detach().cpu().numpy()[0], scale.detach().cpu().numpy()[0]))
    return found


def _modules(est):
    modules = [est.module_]
    for name in ("pretrainer_", "instance_encoder_"):
        inner = getattr(est, name, None)
        if inner is not None:
            modules.append(inner.module_)
    return modules


def _encodings(X, est, columns_per_view=None):
    """Byte strings of every row of X: raw and standardized, float32 and float64."""
    rows = [X] + [X[:, cols] for cols in columns_per_view or []]
    for mean, scale in _standardizations(est):
        if len(mean) == X.shape[1]:
            rows.append((X.astype(np.float32) - mean) / scale)  # what the model computes, float32
            rows.append((X - mean.astype(np.float64)) / scale.astype(np.float64))
        elif columns_per_view is not None:  # a view's standardization: its columns only
            for cols in columns_per_view:
                if len(cols) == len(mean):
                    rows.append((X[:, cols].astype(np.float32) - mean) / scale)
    encoded = []
    for block in rows:
        for dtype in (np.float32, np.float64):
            block_d = np.ascontiguousarray(block, dtype=dtype)
            encoded.extend(row.tobytes() for row in block_d)
    return encoded


def _blobs(est, tmp_path):
    """Everything the model can be written as: pickle, save file (raw and its members) and its tensors."""
    blobs = {"pickle": pickle.dumps(est)}
    path = tmp_path / "model.skssl"
    est.save(path)
    blobs["save file"] = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.compress_type != zipfile.ZIP_STORED:  # stored members are searched in the file's bytes
                blobs[f"save member {info.filename}"] = archive.read(info)
            if info.filename.endswith(".json"):
                blobs[f"arrays in {info.filename}"] = b"".join(_json_arrays(json.loads(archive.read(info))))
    for i, module in enumerate(_modules(est)):
        # Every tensor is in the pickle and the save file as stored; a 2-D
        # buffer (data the model keeps, not trained weights) also in row-major
        # order of both its shape and its transpose, in case it holds rows
        # column-major (strides) or as its columns.
        for name, tensor in module.named_buffers():
            if tensor.dim() == 2:
                array = tensor.detach().cpu().numpy()
                blobs[f"buffer {i}:{name}"] = np.ascontiguousarray(array).tobytes()
                blobs[f"buffer {i}:{name}.T"] = np.ascontiguousarray(array.T).tobytes()
    return blobs


def _json_arrays(value):
    """float32 and float64 bytes of every array stored in the save file's metadata."""
    if isinstance(value, dict):
        if "__ndarray__" in value and np.dtype(value["__ndarray__"]["dtype"]).kind in "biuf":
            data = np.asarray(value["__ndarray__"]["data"], dtype=np.float64)
            yield data.tobytes()
            yield data.astype(np.float32).tobytes()
        for item in value.values():
            yield from _json_arrays(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_arrays(item)


def _window_hashes(blob, width):
    """A hash of every run of ``width`` consecutive 4-byte words of blob, at each of the 4 byte offsets."""
    found = []
    for offset in range(4):
        if len(blob) - offset < 4 * width:
            break
        words = np.frombuffer(blob, dtype=np.uint32, count=(len(blob) - offset) // 4, offset=offset)
        if len(words) < width:
            continue
        words = words.astype(np.uint64)
        hashes = np.zeros(len(words) - width + 1, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for k in range(width):  # polynomial hash, wrapping in uint64
                hashes = hashes * np.uint64(1_000_003) + words[k : k + len(hashes)]
        found.append(hashes)
    return np.concatenate(found) if found else np.zeros(0, dtype=np.uint64)


def _rows_found(encodings, blobs):
    """``(where, i)`` for every encoded row i found verbatim in a blob.

    Every row (float32 or float64) is a run of 4-byte words: a numpy hash of
    every run of (at most) 4 words in the blob picks the rows whose first 4
    words occur, each then confirmed by a plain substring search (which alone
    would take minutes here).
    """
    by_width = {}
    for i, row in enumerate(encodings):
        by_width.setdefault(min(4, len(row) // 4), []).append(i)
    # Each row's own hash: the windows of the rows laid end to end (offset 0) that start at a row.
    hashes = {
        width: _window_hashes(b"".join(encodings[i][: 4 * width] for i in indices), width)[: width * len(indices) : width]
        for width, indices in by_width.items()
    }
    found = []
    for where, blob in blobs.items():
        for width, indices in by_width.items():
            windows = _window_hashes(blob, width)
            found += [(where, int(i)) for i in np.asarray(indices)[np.isin(hashes[width], windows)] if encodings[i] in blob]
    return found


def test_the_search_finds_rows_that_are_stored(adult, tmp_path):
    # The detector itself can fail: rows kept in a buffer (the old donor pool)
    # are found in the pickle, in float32 as a model stores them.
    X = adult[0][:200]
    est = _fast("ContrastiveEmbedder").fit(X)
    est.module_.register_buffer("pool", torch.tensor(np.ascontiguousarray(X), dtype=torch.float32))
    assert len(_rows_found(_encodings(X, est), {"pickle": pickle.dumps(est)})) >= 200
    # Column-major (pandas' layout) and standardized rows are found too.
    pool = torch.tensor(np.asfortranarray(X), dtype=torch.float32)
    mean, scale = _standardizations(est)[0]
    est.module_.register_buffer("pool", (pool - torch.tensor(mean)) / torch.tensor(scale))
    assert len(_rows_found(_encodings(X, est), _blobs(est, tmp_path))) >= 200


def _cases(X, y):
    # Four columns in the second view: in a view of three low-cardinality
    # columns (capital gain and loss, mostly 0, and hours), the k-th smallest
    # values of each column, side by side in the summaries, can spell a real
    # row by coincidence (e.g. [0, 0, 1]) without any row being stored.
    views = [("a", [0, 1]), ("b", [2, 3, 4, 5])]
    bag_ids = np.arange(len(X)) // 10
    bag_y = np.array([y[bag_ids == b].max() for b in np.unique(bag_ids)])
    return {
        "contrastive": (_fast("ContrastiveEmbedder"), (X,), None),
        # Piecewise-linear bins: their edges are column quantiles, never rows.
        "contrastive-pwl": (_fast("ContrastiveEmbedder", numeric_embedding="pwl"), (X,), None),
        "contrastive-early-stopping": (_fast("ContrastiveEmbedder", early_stopping=True, max_epochs=2), (X,), None),
        "masked": (_fast("MaskedAutoencoder", include_input=True), (X,), None),
        "multiview": (_fast("MultiViewEmbedder", views=views, augment=True), (X,), views),
        "finetune-classifier": (
            _fast("FineTuneClassifier", pretrainer=_fast("ContrastiveEmbedder"), early_stopping=True, max_epochs=2),
            (X, y), None,
        ),
        "finetune-validation-rows": (
            _fast("FineTuneClassifier", pretrainer=_fast("ContrastiveEmbedder"), early_stopping=True, max_epochs=2),
            (X[:1500], y[:1500]), {"X_val": X[1500:], "y_val": y[1500:]},
        ),
        "finetune-target-aware": (
            _fast("FineTuneClassifier", pretrainer=_fast("ContrastiveEmbedder"), pretrain="target_aware", max_epochs=2),
            (X, np.where(np.arange(len(y)) % 3 == 0, y, -1)), None,
        ),
        "finetune-regressor-masked": (
            _fast("FineTuneRegressor", pretrainer=_fast("MaskedAutoencoder")), (X, X[:, 0]), None,
        ),
        "mil": (_fast("MILMultitaskClassifier"), (X, bag_y, bag_ids), None),
        "mil-pretrained-instances": (
            _fast("MILMultitaskClassifier", instance_encoder=_fast("MaskedAutoencoder")), (X, bag_y, bag_ids), None,
        ),
    }  # fmt: skip


@pytest.mark.parametrize(
    "case",
    ["contrastive", "contrastive-pwl", "contrastive-early-stopping", "masked", "multiview", "finetune-classifier",
     "finetune-validation-rows", "finetune-target-aware", "finetune-regressor-masked", "mil",
     "mil-pretrained-instances"],
)  # fmt: skip
def test_no_training_row_in_a_fitted_model(adult, tmp_path, case):
    X, y = adult[0][:2000], adult[1][:2000]
    est, args, extra = _cases(X, y)[case]
    views = extra if case == "multiview" else None
    if case == "masked":
        X = X.copy()
        X[::7, 1] = np.nan  # holes too: the summaries skip them
        args = (X,)
    est.fit(*args, **(extra if isinstance(extra, dict) else {}))
    observed = ~np.isnan(X).any(axis=1)
    found = _rows_found(_encodings(X[observed], est, [c for _, c in views] if views else None), _blobs(est, tmp_path))
    assert not found, f"{len(found)} training rows found, e.g. in {found[:3]}"


@pytest.mark.parametrize("name", ["ContrastiveEmbedder", "MaskedAutoencoder"])
def test_model_size_does_not_grow_with_n_samples(adult, tmp_path, name):
    X = adult[0]
    sizes = {}
    for n in (2_000, 20_000):
        est = _fast(name, batch_size=512).fit(X[:n])
        est.save(tmp_path / f"{n}.skssl")
        sizes[n] = (os.path.getsize(tmp_path / f"{n}.skssl"), len(pickle.dumps(est)))
    for kind in (0, 1):
        small, large = sizes[2_000][kind], sizes[20_000][kind]
        assert abs(large - small) <= 0.1 * small, sizes


def test_interrupted_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    import sk_ssl
    from sk_ssl import _persistence

    X = np.random.RandomState(0).normal(size=(60, 5)).astype(np.float32)
    path = tmp_path / "model.skssl"
    first = _fast("ContrastiveEmbedder").fit(X)
    first.save(path)
    os.chmod(path, 0o640)
    before = path.read_bytes()
    second = _fast("ContrastiveEmbedder", n_components=6).fit(X)

    def fail_midway(file, metadata, weights):
        with zipfile.ZipFile(file, "w") as archive:  # some bytes are written, then the save dies
            archive.writestr("sk_ssl.json", "{")
        raise KeyboardInterrupt

    monkeypatch.setattr(_persistence, "_write_archive", fail_midway)
    with pytest.raises(KeyboardInterrupt):
        second.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.skssl"]  # no temporary file left behind
    np.testing.assert_array_equal(sk_ssl.load(path).transform(X), first.transform(X))

    monkeypatch.undo()
    second.save(path)  # a completed save replaces it, keeping its permissions
    assert sk_ssl.load(path).transform(X).shape == (60, 6)
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.skssl"]


def test_save_to_a_file_object_and_a_new_path(tmp_path):
    import sk_ssl

    X = np.random.RandomState(0).normal(size=(60, 5)).astype(np.float32)
    est = _fast("ContrastiveEmbedder").fit(X)
    buffer = io.BytesIO()
    est.save(buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(sk_ssl.load(buffer).transform(X), est.transform(X))
    est.save(str(tmp_path / "new.skssl"))
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(tmp_path / "new.skssl").st_mode & 0o777 == 0o666 & ~umask
