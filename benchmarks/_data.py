"""Loaders for the public datasets in ``../shared/data`` (benchmarks only).

The package never downloads data; benchmarks read these files. Each tabular
loader returns ``X`` (float64, categorical columns one-hot encoded), ``y``
(integer class codes, or float for regression) and a dict of metadata.
Attribution: UCI datasets (CC BY 4.0): Adult (Kohavi 1996), Statlog German
credit (Hofmann), Letter recognition (Slate), Covertype (Blackard & Dean, Kaggle
subset); ELENA phoneme; California housing (Pace & Barry, StatLib).
"""

import os
from pathlib import Path

import numpy as np

DATA_DIR = Path(os.environ.get("SK_SSL_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")).resolve()
TABULAR = ["adult", "credit_g", "phoneme", "covertype", "letter"]


def _require(path):
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found. Benchmarks read ../shared/data beside the checkout; "
            "set SK_SSL_DATA to its location."
        )
    return path


def _codes(values):
    classes, y = np.unique(np.asarray(values), return_inverse=True)
    return y, classes


def load_tabular(name, numeric_only=False):
    """Load one tabular benchmark set.

    Parameters
    ----------
    name : {"adult", "credit_g", "phoneme", "covertype", "letter", "california"}
    numeric_only : bool, default=False
        Keep only the numeric columns (no one-hot block); used by imputation.

    Returns
    -------
    X : ndarray of float64
    y : ndarray (int class codes; float for "california")
    info : dict with "name", "feature_names", "classes", "n_numeric"
    """
    import pandas as pd

    root = DATA_DIR / "tabular"
    if name == "phoneme":
        data = np.loadtxt(_require(root / "phoneme" / "phoneme.csv"), delimiter=",")
        X, (y, classes) = data[:, :-1], _codes(data[:, -1].astype(int))
        names = [f"f{i}" for i in range(X.shape[1])]
        return X, y, dict(name=name, feature_names=names, classes=classes, n_numeric=X.shape[1])
    if name == "letter":
        df = pd.read_csv(_require(root / "letter" / "letter-recognition.data"))
        y, classes = _codes(df.iloc[:, 0])
        X = df.iloc[:, 1:].to_numpy(float)
        return X, y, dict(name=name, feature_names=list(df.columns[1:]), classes=classes, n_numeric=X.shape[1])
    if name == "covertype":
        df = pd.read_csv(_require(root / "covertype_kaggle" / "train.csv")).drop(columns="Id")
        y, classes = _codes(df.pop("Cover_Type"))
        if numeric_only:
            df = df.iloc[:, :10]
        return df.to_numpy(float), y, dict(name=name, feature_names=list(df.columns), classes=classes, n_numeric=10)
    if name == "california":
        data = np.loadtxt(_require(root / "california_housing" / "cal_housing.data"), delimiter=",", skiprows=1)
        return data[:, :-1], data[:, -1], dict(name=name, feature_names=None, classes=None, n_numeric=8)
    if name == "adult":
        df, y, classes = _adult_frame()
        return _numeric_plus_onehot(df, y, classes, name, numeric_only)
    if name == "credit_g":
        df, y, classes = _credit_g_frame()
        return _numeric_plus_onehot(df, y, classes, name, numeric_only)
    raise ValueError(f"Unknown dataset {name!r}")


def _adult_frame():
    """UCI Adult, train + test: ``(df, y, classes)``, ``?`` read as NaN."""
    import pandas as pd

    root = DATA_DIR / "tabular" / "adult"
    cols = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
            "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week", "native_country",
            "income"]  # fmt: skip
    frames = [
        pd.read_csv(_require(root / f), header=None, names=cols, sep=r",\s*", engine="python", na_values="?",
                    comment="|")  # fmt: skip
        for f in ("adult-train.csv", "adult-test.csv")
    ]
    df = pd.concat(frames, ignore_index=True).dropna(subset=["income"])
    y, classes = _codes(df.pop("income").str.rstrip("."))
    return df, y, classes


def _credit_g_frame():
    """Statlog German credit: ``(df, y, classes)`` with its nominal columns as str."""
    import pandas as pd
    from scipy.io import arff

    raw, _ = arff.loadarff(_require(DATA_DIR / "tabular" / "credit_g" / "credit-g.arff"))
    df = pd.DataFrame(raw)
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].str.decode("utf-8")
    y, classes = _codes(df.pop("class"))
    return df, y, classes


def _numeric_plus_onehot(df, y, classes, name, numeric_only):
    import pandas as pd

    numeric = df.select_dtypes("number")
    parts = [numeric]
    if not numeric_only:
        categorical = df.drop(columns=numeric.columns).fillna("missing")
        parts.append(pd.get_dummies(categorical, dtype=float))
    out = pd.concat(parts, axis=1)
    return out.to_numpy(float), y, dict(
        name=name, feature_names=list(out.columns), classes=classes, n_numeric=numeric.shape[1]
    )


def load_mnist(split="train"):
    """MNIST from the IDX files: ``(images uint8 (n, 28, 28), labels)``."""
    import gzip

    prefix = "train" if split == "train" else "t10k"
    root = DATA_DIR / "images" / "mnist"
    with gzip.open(_require(root / f"{prefix}-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(_require(root / f"{prefix}-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(int)
    return images, labels


MFEAT_VIEWS = ["fou", "fac", "kar", "pix", "zer", "mor"]


def load_mfeat():
    """UCI Multiple Features (Duin, CC BY 4.0): 2000 digits, six views.

    Returns
    -------
    X : ndarray of float64, shape (2000, 649)
        The six views side by side, in the order of ``MFEAT_VIEWS``.
    y : ndarray of int, shape (2000,)
        Digit 0..9 (the files are stored in class order, 200 per class).
    views : list of (name, slice)
        Each view's columns in X, ready for ``MultiViewEmbedder(views=...)``.
    """
    root = DATA_DIR / "multiview" / "mfeat"
    blocks = [np.loadtxt(_require(root / f"mfeat-{name}")) for name in MFEAT_VIEWS]
    views, start = [], 0
    for name, block in zip(MFEAT_VIEWS, blocks):
        views.append((name, slice(start, start + block.shape[1])))
        start += block.shape[1]
    return np.hstack(blocks), np.repeat(np.arange(10), 200), views


RAW_TABULAR = ["bank", "adult", "credit_g", "covertype", "phoneme", "letter", "magic"]


def label_fraction(y, fraction, seed):
    """A stratified subset of ``fraction`` of the rows (at least 2 per class): the labelled rows of a seed."""
    if fraction >= 1:
        return np.arange(len(y))
    rng = np.random.RandomState(seed)
    idx = []
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        idx.append(rng.choice(rows, max(2, int(round(fraction * len(rows)))), replace=False))
    return np.concatenate(idx)


def raw_split(name, seed, rows):
    """``(X_tr, X_te, y_tr, y_te, n_classes)`` of the raw-DataFrame benchmarks for one (set, seed).

    At most ``rows`` rows drawn with the seed, then a 70/30 split stratified by class.
    """
    from sklearn.model_selection import train_test_split

    df, y, classes = load_frame(name)
    rng = np.random.RandomState(seed)
    keep = np.sort(rng.permutation(len(df))[:rows]) if len(df) > rows else np.arange(len(df))
    X_tr, X_te, y_tr, y_te = train_test_split(df.iloc[keep], y[keep], test_size=0.3, stratify=y[keep],
                                              random_state=seed)  # fmt: skip
    return X_tr, X_te, y_tr, y_te, len(classes)


def load_frame(name):
    """A tabular set as users hold it: a pandas DataFrame with its categorical columns as ``category``.

    Missing values stay NaN (adult's ``?``); bank's ``duration`` (known only
    after the call, it leaks the target) is dropped. Returns ``(df, y, classes)``.
    """
    import io
    import zipfile

    import pandas as pd

    root = DATA_DIR / "tabular"
    if name == "bank":
        with zipfile.ZipFile(_require(root / "bank_marketing" / "bank.zip")) as archive:
            df = pd.read_csv(io.BytesIO(archive.read("bank-full.csv")), sep=";")
        df = df.drop(columns="duration")
        y, classes = _codes(df.pop("y"))
    elif name == "adult":
        df, y, classes = _adult_frame()
    elif name == "credit_g":
        df, y, classes = _credit_g_frame()
    elif name == "magic":
        cols = ["fLength", "fWidth", "fSize", "fConc", "fConc1", "fAsym", "fM3Long", "fM3Trans", "fAlpha", "fDist",
                "class"]  # fmt: skip
        df = pd.read_csv(_require(root / "magic_gamma" / "magic04.data"), header=None, names=cols)
        y, classes = _codes(df.pop("class"))
    elif name in ("covertype", "phoneme", "letter"):  # numeric only (covertype's soil/area columns are 0/1)
        X, y, info = load_tabular(name)
        df, classes = pd.DataFrame(X, columns=info["feature_names"]), info["classes"]
    else:
        raise ValueError(f"Unknown dataset {name!r}; use one of {RAW_TABULAR}")
    for col in df.columns:
        if not pd.api.types.is_numeric_dtype(df[col]):
            df[col] = df[col].astype("category")
    return df.reset_index(drop=True), y, classes


def load_reuters_modapte90():
    """Reuters-21578 ModApte-90: ``(train_docs, Y_train, test_docs, Y_test, categories)``.

    7,770 training and 3,019 test documents (title + body), multi-label over
    the 90 categories with at least one training and one test document;
    labels outside the 90 are dropped (see ``text/README.md``).
    """
    import gzip
    import json

    path = _require(DATA_DIR / "text" / "reuters21578" / "reuters21578.jsonl.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        docs = [d for d in map(json.loads, f) if d["modapte90"]]
    train = [d for d in docs if d["split"] == "train"]
    test = [d for d in docs if d["split"] == "test"]
    cats = sorted({label for d in train for label in d["labels"]} & {label for d in test for label in d["labels"]})

    def matrix(part):
        return np.array([[int(c in d["labels"]) for c in cats] for d in part])

    return [d["text"] for d in train], matrix(train), [d["text"] for d in test], matrix(test), cats


def load_bbc():
    """BBC News (Greene & Cunningham 2006): ``(docs, y, topics)``, 2,225 documents, 5 topics."""
    root = _require(DATA_DIR / "text" / "bbc")

    def decode(raw):  # UTF-8, except one stray latin-1 byte in sport/199.txt
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("latin-1")

    paths = sorted(root.glob("*/*.txt"))
    y, topics = _codes([p.parent.name for p in paths])
    return [decode(p.read_bytes()) for p in paths], y, list(topics)


# The shared copies of the two MIML sets store the bag labels in a different order from the bags: the label of the
# k-th bag is row ``lex[k]`` of ``y``, where ``lex`` orders the bag numbers 1..n as *strings* ("1", "10", "100",
# "1000", "1001", ...). Evidence (``bench_text_mil.py --suite miml_check``): with the labels as stored, MIML
# text is no more learnable than shuffled labels (univariate permutation p = 0.49), while re-aligned its bag means give
# average precision 0.9+; MIML scene re-aligned shows the original file's layout, 400 images per scene in
# blocks (desert, mountains, sea, sunset, trees), each block carrying its label in all 400 bags. The fingerprints
# below are those of the misaligned labels, so a corrected upstream copy raises instead of being scrambled again.
_MIML_MISALIGNED_LABELS = {"miml_text": "58c126bb5b473b87", "miml_scene": "138d7768bc5d958d"}


def miml_label_order(n_bags):
    """Row of the stored MIML label matrix that belongs to each bag: ``y_aligned = y[miml_label_order(n)]``."""
    return np.argsort([str(i + 1) for i in range(n_bags)], kind="stable")


def load_mil_npz(name):
    """``(bags, Y)`` of ``../shared/data/mil/<name>.npz``; the MIML sets' labels re-aligned with their bags.

    Bags are a list of ``(n_instances_i, n_features)`` arrays, in file order; ``Y`` is ``(n_bags,)`` or
    ``(n_bags, n_labels)``. See ``_MIML_MISALIGNED_LABELS`` for the MIML re-alignment and its evidence.
    """
    import hashlib

    npz = np.load(_require(DATA_DIR / "mil" / f"{name}.npz"))
    X, bag_ids, Y = npz["X"], npz["bag_ids"], npz["y"]
    starts = np.flatnonzero(np.r_[True, bag_ids[1:] != bag_ids[:-1]])
    bags = np.split(X, starts[1:])
    if name in _MIML_MISALIGNED_LABELS:
        fingerprint = hashlib.sha256(np.ascontiguousarray(Y, dtype=np.int64).tobytes()).hexdigest()[:16]
        if fingerprint != _MIML_MISALIGNED_LABELS[name]:
            raise ValueError(
                f"{name}.npz is not the copy whose labels this loader re-aligns (label fingerprint {fingerprint}). "
                "If it was corrected upstream, remove its entry from _MIML_MISALIGNED_LABELS in benchmarks/_data.py."
            )
        Y = Y[miml_label_order(len(Y))]
    return bags, Y
