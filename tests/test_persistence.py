"""Persistence of every public estimator: pickle, joblib and the safe ``save``/``load`` format."""

import io
import pathlib
import json
import pickle
import zipfile

import joblib
import numpy as np
import pytest
import torch
from skorch.callbacks import EpochScoring

import sk_ssl
from sk_ssl import (
    ContrastiveEmbedder,
    FineTuneClassifier,
    FineTuneRegressor,
    MaskedAutoencoder,
    MILMultitaskClassifier,
    MultiViewEmbedder,
)
from sk_ssl._base import _loading_device
from sk_ssl._testing import _tested_estimator
from sk_ssl.augment import ImageAugmentation
from sk_ssl.encoders import MLPEncoder

SMALL = dict(max_epochs=2, batch_size=16, random_state=0, device="cpu")


def _tabular(rng, n=40, d=6):
    X = rng.normal(size=(n, d)).astype(np.float32)
    return X, X[:, 0] + 0.5 * X[:, 1]


def _case_contrastive(rng):
    X, _ = _tabular(rng)
    return _tested_estimator("ContrastiveEmbedder", n_components=4, **SMALL), (X,), {"transform": (X,)}


def _case_contrastive_images(rng):
    X = rng.uniform(size=(40, 1, 6, 6)).astype(np.float32)  # CNN: BatchNorm buffers
    return _tested_estimator("ContrastiveEmbedder", n_components=4, **SMALL), (X,), {"transform": (X,)}


def _case_masked(rng):
    X, _ = _tabular(rng)
    X[::5, 2] = np.nan  # NaN statistics and a marginal pool shorter than X
    return (
        _tested_estimator("MaskedAutoencoder", n_components=4, include_input=True, **SMALL),
        (X,),
        {"transform": (X,), "reconstruct": (X,)},
    )


def _case_masked_images(rng):
    X = rng.uniform(size=(40, 16)).astype(np.float32)
    est = _tested_estimator("MaskedAutoencoder-images", n_components=4, image_shape=(1, 4, 4), **SMALL)
    return est, (X,), {"transform": (X,)}


def _case_multiview(rng):
    X, _ = _tabular(rng)
    X[:5, 3:] = np.nan  # a missing view
    views = [("left", slice(0, 3)), ("right", [3, 4, 5])]
    est = _tested_estimator("MultiViewEmbedder-attention", views=views, n_components=4, **SMALL)
    return est, (X,), {"transform": (X,), "transform_views": (X,), "view_weights": (X,)}


def _case_mil(rng):
    bags = [rng.normal(size=(rng.randint(1, 5), 6)) for _ in range(16)]
    y = np.column_stack([np.arange(16) % 2, np.where(np.arange(16) % 3 == 0, -1, np.arange(16) % 3)])
    est = _tested_estimator(
        "MILMultitaskClassifier", n_components=4, hidden_dims=(8,), pooling="gated_attention", **SMALL
    )
    return est, (bags, y), {"predict_proba": (bags,), "predict": (bags,), "instance_weights": (bags,)}


def _case_finetune_classifier(rng):
    X, t = _tabular(rng)
    y = np.where(t > 0, 7, 3)
    y[20:] = -1  # unlabelled
    pretrainer = _tested_estimator("ContrastiveEmbedder", n_components=4, **SMALL)
    est = _tested_estimator("FineTuneClassifier", pretrainer=pretrainer, **SMALL)
    return est, (X, y), {"predict_proba": (X,), "predict": (X,)}


def _case_finetune_regressor(rng):
    X, y = _tabular(rng)
    y = y.astype(np.float64)
    y[25:] = np.nan
    pretrainer = _tested_estimator("MaskedAutoencoder", n_components=4, **SMALL)
    est = _tested_estimator("FineTuneRegressor", pretrainer=pretrainer, freeze_encoder=True, **SMALL)
    return est, (X, y), {"predict": (X,)}


def _case_finetune_scratch(rng):
    X, t = _tabular(rng)
    y = (t > 0).astype(int)
    est = FineTuneClassifier(pretrainer=MaskedAutoencoder(n_components=4, **SMALL), pretrain=False, **SMALL)
    return est, (X, y), {"predict_proba": (X,)}


def _case_pretext(rng):
    X, _ = _tabular(rng)
    return _tested_estimator("PretextEmbedder", n_components=4, **SMALL), (X,), {"transform": (X,)}


def _case_pretext_images(rng):
    X = rng.uniform(size=(40, 1, 6, 6)).astype(np.float32)  # rotation: four rotations of each square image
    est = _tested_estimator("PretextEmbedder", objective="rotation", n_components=4, **SMALL)
    return est, (X,), {"transform": (X,)}


def _case_mae(rng):
    X = rng.uniform(size=(40, 1, 8, 8)).astype(np.float32)  # a ViT with token dropping
    return _tested_estimator("MaskedAutoencoder-mae", n_components=4, image_shape=None, **SMALL), (X,), {"transform": (X,)}


CASES = [
    _case_contrastive,
    _case_contrastive_images,
    _case_masked,
    _case_masked_images,
    _case_multiview,
    _case_mil,
    _case_finetune_classifier,
    _case_finetune_regressor,
    _case_finetune_scratch,
    _case_pretext,
    _case_pretext_images,
    _case_mae,
]
CASE_IDS = [case.__name__[len("_case_") :] for case in CASES]


def test_the_cases_cover_every_registered_estimator():
    covered = {type(case(np.random.RandomState(0))[0]).__name__ for case in CASES}
    assert covered == set(sk_ssl.all_estimators())


def _outputs(est, calls):
    return {name: getattr(est, name)(*args) for name, args in calls.items()}


def _assert_same(a, b, where="value"):
    """Exact equality of outputs and attributes, types and dtypes included."""
    if isinstance(a, sk_ssl._base._TorchEstimatorBase):
        assert type(a) is type(b), where
        assert repr(a.get_params(deep=False)) == repr(b.get_params(deep=False)), where
        return
    assert type(a) is type(b), f"{where}: {type(a)} != {type(b)}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def _fitted_attributes(est):
    return {k: v for k, v in vars(est).items() if k.endswith("_") and k not in ("module_", "history_")}


def _losses(est):
    return [(epoch["epoch"], epoch["train_loss"], epoch.get("valid_loss")) for epoch in est.history_]


def _pickle(est):
    return pickle.loads(pickle.dumps(est))


def _joblib(est):
    buffer = io.BytesIO()
    joblib.dump(est, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


def _save_load(est, tmp_path):
    path = tmp_path / "model.skssl"
    est.save(path)
    return sk_ssl.load(path)


ROUND_TRIPS = {"pickle": lambda est, tmp_path: _pickle(est), "joblib": lambda est, tmp_path: _joblib(est)}
ROUND_TRIPS["save_load"] = _save_load


@pytest.fixture(scope="module")
def fitted():
    """Each case fitted once (they are reused read-only), with its reference outputs."""
    cache = {}

    def get(case):
        if case not in cache:
            est, fit_args, calls = case(np.random.RandomState(0))
            est.fit(*fit_args)
            cache[case] = est, fit_args, calls, _outputs(est, calls)
        return cache[case]

    return get


# ------------------------------------------------------------------ round trips
@pytest.mark.parametrize("trip", list(ROUND_TRIPS))
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_fitted_round_trip_predicts_identically(case, trip, fitted, tmp_path):
    est, _, calls, expected = fitted(case)
    loaded = ROUND_TRIPS[trip](est, tmp_path)
    assert loaded is not est
    _assert_same(_outputs(loaded, calls), expected, "outputs")
    _assert_same(_fitted_attributes(loaded), _fitted_attributes(est), "fitted attributes")
    assert loaded.get_params(deep=False).keys() == est.get_params(deep=False).keys()
    assert repr(loaded) == repr(est)
    assert _losses(loaded) == _losses(est)
    assert loaded.n_iter_ == est.n_iter_
    assert not loaded.module_.training
    # the original is untouched by saving
    _assert_same(_outputs(est, calls), expected, "outputs of the original")


@pytest.mark.parametrize("trip", list(ROUND_TRIPS))
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_unfitted_round_trip_fits_identically(case, trip, tmp_path):
    est, fit_args, calls = case(np.random.RandomState(0))
    loaded = ROUND_TRIPS[trip](est, tmp_path)
    assert repr(loaded) == repr(est)
    assert not hasattr(loaded, "module_")
    _assert_same(_outputs(loaded.fit(*fit_args), calls), _outputs(est.fit(*fit_args), calls), "outputs")


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_loaded_estimator_refits(case, fitted, tmp_path):
    est, fit_args, calls, _ = fitted(case)
    loaded = _save_load(est, tmp_path)
    refit = loaded.fit(*fit_args)
    assert refit is loaded
    # Same parameters and seed: refitting the loaded estimator reproduces the original fit.
    _assert_same(_outputs(loaded, calls), _outputs(case(np.random.RandomState(0))[0].fit(*fit_args), calls), "refit")


def test_fitted_pretrainer_stays_shared_after_load(rng, tmp_path):
    """A fitted pretrainer passed in is both ``pretrainer`` and ``pretrainer_``; loading keeps that."""
    X, t = _tabular(rng)
    pretrainer = ContrastiveEmbedder(n_components=4, **SMALL).fit(X)
    clf = FineTuneClassifier(pretrainer=pretrainer, **SMALL).fit(X, (t > 0).astype(int))
    assert clf.pretrainer_ is clf.pretrainer
    for loaded in (_save_load(clf, tmp_path), _pickle(clf)):
        assert loaded.pretrainer_ is loaded.pretrainer
        np.testing.assert_array_equal(loaded.pretrainer.transform(X), pretrainer.transform(X))
        np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_mil_with_instance_encoder(rng, tmp_path):
    bags = [rng.normal(size=(3, 5)) for _ in range(12)]
    y = np.arange(12) % 2
    est = MILMultitaskClassifier(instance_encoder=ContrastiveEmbedder(n_components=4, **SMALL), **SMALL).fit(bags, y)
    loaded = _save_load(est, tmp_path)
    np.testing.assert_array_equal(loaded.predict_proba(bags), est.predict_proba(bags))
    np.testing.assert_array_equal(
        loaded.instance_encoder_.transform(np.vstack(bags)), est.instance_encoder_.transform(np.vstack(bags))
    )


def test_pandas_feature_names_round_trip(rng, tmp_path):
    pd = pytest.importorskip("pandas")
    X, _ = _tabular(rng)
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    views = [("a", ["f0", "f1", "f2"]), ("b", slice("f3", "f5"))]
    est = MultiViewEmbedder(views=views, n_components=4, **SMALL).fit(df)
    loaded = _save_load(est, tmp_path)
    _assert_same(loaded.feature_names_in_, est.feature_names_in_)
    np.testing.assert_array_equal(loaded.transform(df), est.transform(df))
    _assert_same(list(loaded.get_feature_names_out()), list(est.get_feature_names_out()))


def test_parameter_values_keep_their_types(tmp_path):
    mask = np.zeros(6, dtype=bool)
    mask[[1, 3]] = True
    views = [("a", mask, None), ("b", np.array([0, 2])), ("c", np.int64(4)), ("d", [5], (1, 1, -1))]
    est = FineTuneRegressor(pretrainer=MaskedAutoencoder(image_shape=[1, 2, -1], device=torch.device("cpu")))
    multiview = MultiViewEmbedder(views=views, device=torch.device("cpu"))
    for original in (est, multiview, MILMultitaskClassifier(hidden_dims=(16, 8), learning_rate=np.float32(0.5))):
        loaded = _save_load(original, tmp_path)
        _assert_same(loaded.get_params(deep=False), original.get_params(deep=False), type(original).__name__)


def test_damaged_attribute_gives_a_clear_error(fitted, tmp_path):
    est, *_ = fitted(_case_multiview)
    path = tmp_path / "model.skssl"
    est.save(path)

    def bad_shape(metadata):
        metadata["estimator"]["fitted"]["attributes"]["unused_features_"]["__ndarray__"]["shape"] = [7, 7]

    _rewrite_metadata(path, bad_shape)
    with pytest.raises(ValueError, match="is not a valid sk_ssl model file.*reshape"):
        sk_ssl.load(path)


# ----------------------------------------------------------- CUDA -> CPU loading
def _all_tensors_on_cpu(module):
    return all(t.device.type == "cpu" for t in [*module.parameters(), *module.buffers()])


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_pickled_state_holds_cpu_tensors_and_the_training_device(case, fitted):
    est, *_ = fitted(case)
    state = est.__getstate__()
    assert state["_module_device"] == "cpu"
    assert _all_tensors_on_cpu(state["module_"])
    assert "_module_device" not in vars(est)  # the live estimator is not touched
    weights = torch.load(io.BytesIO(_weights_bytes(est)), weights_only=True, map_location=None)
    assert all(t.device.type == "cpu" for sd in weights.values() for t in sd.values())


@pytest.mark.parametrize("case", [_case_masked_images, _case_finetune_regressor], ids=["masked_images", "frozen"])
def test_pickling_a_gpu_model_copies_it_to_the_cpu_and_leaves_the_live_one(case, fitted, monkeypatch):
    """The GPU branch of ``__getstate__``, taken here by pretending the model sits on another device."""
    est, _, calls, expected = fitted(case)
    module = est.module_
    before = {name: (t, t.clone(), t.requires_grad) for name, t in module.state_dict(keep_vars=True).items()}
    monkeypatch.setattr(sk_ssl._base, "_module_device", lambda module: torch.device("cuda:1"))
    state = est.__getstate__()
    assert state["_module_device"] == "cuda:1"
    copied = state["module_"]
    assert copied is not module and est.module_ is module
    after = module.state_dict(keep_vars=True)
    for name, (tensor, value, requires_grad) in before.items():
        assert after[name] is tensor and torch.equal(tensor, value)  # live model untouched
        assert copied.state_dict(keep_vars=True)[name] is not tensor
        assert torch.equal(copied.state_dict()[name], value)
        assert copied.state_dict(keep_vars=True)[name].requires_grad == requires_grad
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    _assert_same(_outputs(pickle.loads(pickle.dumps(est)), calls), expected, "outputs")


def _weights_bytes(est):
    buffer = io.BytesIO()
    est.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        return archive.read("weights.pt")


@pytest.mark.parametrize("device", ["auto", "cuda"])
@pytest.mark.parametrize(
    "case", [_case_contrastive, _case_mil, _case_finetune_classifier], ids=["contrastive", "mil", "finetune"]
)
def test_model_recorded_on_cuda_unpickles_on_a_cpu_only_machine(case, device, fitted, monkeypatch):
    """A state pickled from a CUDA fit (recorded device "cuda:0") loads and predicts on the CPU."""
    est, _, calls, expected = fitted(case)
    state = est.__getstate__()
    state["_module_device"] = "cuda:0"
    state["device"] = device
    data = pickle.dumps(state)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    loaded = type(est).__new__(type(est))
    loaded.__setstate__(pickle.loads(data))
    assert _all_tensors_on_cpu(loaded.module_)
    assert loaded.device == device
    _assert_same(_outputs(loaded, calls), expected, "outputs")


def test_model_recorded_on_cuda_loads_from_a_safe_file_on_a_cpu_only_machine(fitted, tmp_path, monkeypatch):
    est, _, calls, expected = fitted(_case_finetune_classifier)
    path = tmp_path / "model.skssl"
    est.set_params(device="cuda")
    try:
        est.save(path)
    finally:
        est.set_params(device="cpu")

    def on_cuda(metadata):
        metadata["estimator"]["fitted"]["device"] = "cuda:0"
        metadata["estimator"]["fitted"]["attributes"]["pretrainer_"]["fitted"]["device"] = "cuda:0"

    _rewrite_metadata(path, on_cuda)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    loaded = sk_ssl.load(path)
    assert loaded.device == "cuda"
    assert _all_tensors_on_cpu(loaded.module_) and _all_tensors_on_cpu(loaded.pretrainer_.module_)
    _assert_same(_outputs(loaded, calls), expected, "outputs")


def test_loading_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert _loading_device("cuda:0") == torch.device("cpu")
    assert _loading_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert _loading_device("cuda:0") == torch.device("cuda:0")
    assert _loading_device("cuda") == torch.device("cuda")
    assert _loading_device("cuda:3") == torch.device("cpu")  # fitted on a GPU this machine lacks


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_fit_pickles_to_cpu_and_loads_without_cuda(rng, monkeypatch, tmp_path):
    X, t = _tabular(rng)
    on_gpu = {**SMALL, "device": "cuda"}
    clf = FineTuneClassifier(pretrainer=ContrastiveEmbedder(n_components=4, **on_gpu), **on_gpu)
    clf.fit(X, (t > 0).astype(int))
    expected = clf.predict_proba(X)
    data = pickle.dumps(clf)
    assert next(clf.module_.parameters()).device.type == "cuda"  # the live model stays on the GPU
    path = tmp_path / "model.skssl"
    clf.save(path)
    assert _pickle(clf).module_.head.weight.device.type == "cuda"  # back on the GPU where there is one
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for loaded in (pickle.loads(data), sk_ssl.load(path)):
        assert _all_tensors_on_cpu(loaded.module_) and _all_tensors_on_cpu(loaded.pretrainer_.module_)
        np.testing.assert_allclose(loaded.predict_proba(X), expected, rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------- the safe format
def _rewrite_metadata(path, edit):
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    metadata = json.loads(members["sk_ssl.json"])
    edit(metadata)
    members["sk_ssl.json"] = json.dumps(metadata).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_file_holds_json_and_weights_only(fitted, tmp_path):
    est, *_ = fitted(_case_finetune_classifier)
    path = tmp_path / "model.skssl"
    est.save(path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["sk_ssl.json", "weights.pt"]
        metadata = json.loads(archive.read("sk_ssl.json"))
    assert metadata["format"] == "sk_ssl"
    assert metadata["format_version"] == 1
    assert metadata["sk_ssl_version"] == sk_ssl.__version__
    description = metadata["estimator"]
    assert description["__estimator__"] == "FineTuneClassifier"
    assert description["params"]["pretrainer"]["__estimator__"] == "ContrastiveEmbedder"
    assert description["params"]["pretrainer"]["fitted"] is None  # the parameter, unfitted; pretrainer_ is its fit
    assert description["fitted"]["attributes"]["pretrainer_"]["fitted"]["attributes"]["n_features_in_"] == 6
    classes = {"__ndarray__": {"dtype": "<i8", "shape": [2], "data": [3, 7]}}
    assert description["fitted"]["attributes"]["classes_"] == classes
    assert [r["train_loss"] for r in description["fitted"]["history"]] == [e["train_loss"] for e in est.history_]


class _Evil:
    calls = []

    def __reduce__(self):
        return (_Evil.calls.append, ("executed",))


@pytest.mark.parametrize("where", ["weights", "metadata"])
def test_loading_never_runs_code_from_the_file(fitted, tmp_path, where):
    est, *_ = fitted(_case_contrastive)
    path = tmp_path / "model.skssl"
    est.save(path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    if where == "weights":
        buffer = io.BytesIO()
        torch.save({"0": _Evil()}, buffer)
        members["weights.pt"] = buffer.getvalue()
        match = "not a valid sk_ssl model file"
    else:  # a class name outside the allow-list
        metadata = json.loads(members["sk_ssl.json"])
        metadata["estimator"]["__estimator__"] = "os.system"
        members["sk_ssl.json"] = json.dumps(metadata).encode()
        match = "'os.system', which is not one of"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    _Evil.calls.clear()
    with pytest.raises(ValueError, match=match):
        sk_ssl.load(path)
    assert _Evil.calls == []


@pytest.mark.parametrize(
    "field, value, named",
    [("sk_ssl_version", "99.0", ["99.0", sk_ssl.__version__]), ("format_version", 2, ["format version 2", "1"])],
)
def test_other_versions_are_refused_naming_both(fitted, tmp_path, field, value, named):
    est, *_ = fitted(_case_contrastive)
    path = tmp_path / "model.skssl"
    est.save(path)
    _rewrite_metadata(path, lambda metadata: metadata.update({field: value}))
    with pytest.raises(ValueError) as info:
        sk_ssl.load(path)
    for text in named:
        assert text in str(info.value)


def _damage_truncate(path):
    path.write_bytes(path.read_bytes()[:200])


def _damage_random_bytes(path):
    path.write_bytes(np.random.RandomState(0).bytes(500))


def _damage_no_metadata(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("weights.pt", b"")


def _damage_not_sk_ssl(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("sk_ssl.json", json.dumps({"format": "other"}))


def _damage_weights(path):
    with zipfile.ZipFile(path) as archive:
        metadata = archive.read("sk_ssl.json")
    buffer = io.BytesIO()
    torch.save({"0": {"encoder.layers.0.weight": torch.zeros(2, 2)}}, buffer)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("sk_ssl.json", metadata)
        archive.writestr("weights.pt", buffer.getvalue())


def _damage_unknown_param(path):
    _rewrite_metadata(path, lambda m: m["estimator"]["params"].update({"no_such_param": 1}))


@pytest.mark.parametrize(
    "damage",
    [
        _damage_truncate,
        _damage_random_bytes,
        _damage_no_metadata,
        _damage_not_sk_ssl,
        _damage_weights,
        _damage_unknown_param,
    ],
)
def test_damaged_or_foreign_files_give_a_clear_error(fitted, tmp_path, damage):
    est, *_ = fitted(_case_contrastive)
    path = tmp_path / "model.skssl"
    est.save(path)
    damage(path)
    with pytest.raises(ValueError, match="is not a valid sk_ssl model file"):
        sk_ssl.load(path)


@pytest.mark.parametrize(
    "est, named",
    [
        (ContrastiveEmbedder(callbacks=[EpochScoring("train_loss", name="again")]), "parameter 'callbacks'"),
        (ContrastiveEmbedder(encoder=MLPEncoder), "parameter 'encoder'"),
        (ContrastiveEmbedder(augmentation=ImageAugmentation()), "parameter 'augmentation'"),
        (ContrastiveEmbedder(random_state=np.random.RandomState(0)), "parameter 'random_state'"),
        (MultiViewEmbedder(views=[("a", lambda X: [0]), ("b", [1])]), "parameter 'views'"),
        (FineTuneClassifier(pretrainer=ContrastiveEmbedder(encoder=MLPEncoder)), "parameter 'encoder'"),
    ],
    ids=["callbacks", "encoder-class", "augmentation", "random-state", "callable-view", "nested"],
)
def test_code_in_parameters_is_refused_with_a_pointer_to_pickle(est, named, tmp_path):
    with pytest.raises(ValueError, match="pickle or joblib") as info:
        est.save(tmp_path / "model.skssl")
    assert named in str(info.value)


class _MyEmbedder(ContrastiveEmbedder):
    pass


def test_foreign_estimators_are_refused(tmp_path):
    from sklearn.decomposition import PCA

    with pytest.raises(ValueError, match="parameter 'pretrainer' holds PCA.*pickle or joblib"):
        FineTuneClassifier(pretrainer=PCA()).save(tmp_path / "model.skssl")
    # a subclass is not on the allow-list: loading it would need its code
    with pytest.raises(ValueError, match="_MyEmbedder, which is not one of sk_ssl's estimators.*pickle or joblib"):
        _MyEmbedder().save(tmp_path / "model.skssl")


SAVED_0_1_0 = pathlib.Path(__file__).parent / "data" / "saved_0_1_0"


def test_a_file_saved_by_0_1_0_loads_and_predicts_identically():
    """A file written by sk_ssl 0.1.0 (tests/data/saved_0_1_0/README.md) loads and predicts as it did then,
    or, once the version moves on, fails with the message that names both versions."""
    path = SAVED_0_1_0 / "mil.skssl"
    expected = np.load(SAVED_0_1_0 / "mil_expected.npz")
    if sk_ssl.__version__ != "0.1.0":
        with pytest.raises(ValueError, match=f"written by sk_ssl 0.1.0, but this is sk_ssl {sk_ssl.__version__}"):
            sk_ssl.load(path)
        return
    est = sk_ssl.load(path)
    assert isinstance(est, MILMultitaskClassifier) and est.n_features_in_ == 5
    bags = [expected["X"][i : i + 4] for i in range(0, 32, 4)]
    np.testing.assert_allclose(est.predict_proba(bags), expected["predict_proba"], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(est.predict(bags), expected["predict"])


@pytest.mark.parametrize("name, cls", [("contrastive", ContrastiveEmbedder), ("masked", MaskedAutoencoder)])
def test_an_embedder_saved_by_0_1_0_loads_transforms_identically_and_continues(name, cls):
    """Embedders saved by 0.1.0 (tests/data/saved_0_1_0/README.md) kept the training rows for their
    corruption; today's file keeps column summaries instead. The file still loads, transforms as it did then
    (MaskedAutoencoder: reconstructs too) and can continue training."""
    path = SAVED_0_1_0 / f"{name}.skssl"
    expected = np.load(SAVED_0_1_0 / f"{name}_expected.npz")
    if sk_ssl.__version__ != "0.1.0":
        with pytest.raises(ValueError, match=f"written by sk_ssl 0.1.0, but this is sk_ssl {sk_ssl.__version__}"):
            sk_ssl.load(path)
        return
    est = sk_ssl.load(path)
    X = expected["X"]
    assert type(est) is cls and est.n_features_in_ == 6
    assert est.objective_ == ("scarf" if name == "contrastive" else "vime")
    np.testing.assert_allclose(est.transform(X), expected["transform"], rtol=1e-5, atol=1e-6)
    if name == "masked":
        holes = np.where(np.eye(len(X), X.shape[1], dtype=bool), np.nan, X)
        np.testing.assert_allclose(est.reconstruct(holes), expected["reconstruct"], rtol=1e-5, atol=1e-6)
    # The corruption's column summaries were rebuilt from the saved rows: they hold the same values' range.
    corruption = est.module_.augmentation if name == "contrastive" else est.module_.masking
    values = corruption.marginals.values.numpy()
    assert np.isfinite(values).all() and values.shape[0] == 6
    est.partial_fit(X)
    assert np.isfinite(est.transform(X)).all()
