"""CIFAR-10 for the image benchmarks: a cached loader and the two standard evaluations.

* :func:`load_cifar10` decodes the JPEG zips of ``../shared/data/images/cifar10``
  once into uint8 ``.npy`` files in a cache folder outside the repository
  (``$SK_SSL_CACHE``, else ``~/.cache/sk_ssl``) and memory-maps them after that.
  Images come as ``(n, 32, 32, 3)`` uint8 (H, W, C, as Pillow gives them);
  labels are the class folders in sorted order (0 = airplane ... 9 = truck).
* :func:`knn_accuracy`: the usual SSL kNN monitor (Wu et al., 2018; the
  protocol of lightly, solo-learn and dkobak/simclr-cifar10): cosine
  similarity to a labelled bank, k = 200 neighbours, votes weighted by
  ``exp(similarity / 0.1)``.
* :func:`linear_probe`: ``LogisticRegression`` on standardized embeddings,
  fitted on a seeded class-balanced fraction of the training labels
  (1.0, 0.1, 0.01 in the table).

Each function is independent of the method that made the embeddings, so every
CIFAR-10 benchmark (bench_cifar10.py, the ViT/MAE one) reports the same numbers.
"""

import io
import os
import zipfile
from pathlib import Path

import numpy as np

from _data import DATA_DIR, _require

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
CACHE = Path(os.environ.get("SK_SSL_CACHE", Path.home() / ".cache" / "sk_ssl"))


def _decode(zip_path):
    from PIL import Image

    with zipfile.ZipFile(_require(zip_path)) as archive:
        names = sorted(n for n in archive.namelist() if n.endswith(".jpg"))
        images = np.empty((len(names), 32, 32, 3), dtype=np.uint8)
        labels = np.empty(len(names), dtype=np.int64)
        for i, name in enumerate(names):
            images[i] = np.asarray(Image.open(io.BytesIO(archive.read(name))).convert("RGB"))
            labels[i] = CLASSES.index(name.split("/")[-2])
    return images, labels


def load_cifar10(split="train", cache=None):
    """The CIFAR-10 ``split`` ("train": 50,000 images, "test": 10,000) as uint8 ``(n, 32, 32, 3)`` and labels.

    The first call decodes the zip (about 10 s for the training set) and writes
    ``cifar10_<split>_{images,labels}.npy`` into ``cache`` (default
    ``$SK_SSL_CACHE`` or ``~/.cache/sk_ssl``); later calls memory-map them.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    cache = Path(cache) if cache is not None else CACHE
    images_path, labels_path = cache / f"cifar10_{split}_images.npy", cache / f"cifar10_{split}_labels.npy"
    if not (images_path.exists() and labels_path.exists()):
        images, labels = _decode(DATA_DIR / "images" / "cifar10" / f"cifar10_{split}_jpeg.zip")
        cache.mkdir(parents=True, exist_ok=True)
        for path, array in ((images_path, images), (labels_path, labels)):
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, array)
            os.replace(tmp, path)  # a killed run never leaves a half-written cache
    return np.load(images_path, mmap_mode="r"), np.load(labels_path)


def subset(labels, n, seed=0):
    """Indices of a seeded, class-balanced subset of ``n`` samples (all when ``n`` is None or too large)."""
    if n is None or n >= len(labels):
        return np.arange(len(labels))
    rng = np.random.RandomState(seed)
    classes = np.unique(labels)
    per_class = n // len(classes)
    chosen = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in classes]
    return np.sort(np.concatenate(chosen))


def knn_accuracy(bank, bank_labels, queries, query_labels, k=200, temperature=0.1, batch_size=1024):
    """Top-1 accuracy of the weighted kNN classifier (cosine, ``k`` neighbours, weights ``exp(sim / T)``).

    ``bank`` and ``queries`` are embeddings ``(n, d)``; they are L2-normalized
    here. Computed in torch float32, ``batch_size`` queries at a time.
    """
    import torch
    import torch.nn.functional as F

    bank = F.normalize(torch.as_tensor(np.asarray(bank), dtype=torch.float32), dim=1)
    queries = F.normalize(torch.as_tensor(np.asarray(queries), dtype=torch.float32), dim=1)
    bank_labels = torch.as_tensor(np.asarray(bank_labels), dtype=torch.long)
    n_classes = int(max(bank_labels.max(), int(np.max(query_labels)))) + 1
    k = min(k, len(bank))
    predictions = []
    for start in range(0, len(queries), batch_size):
        similarity = queries[start : start + batch_size] @ bank.T
        top, index = similarity.topk(k, dim=1)
        votes = torch.zeros(len(top), n_classes).scatter_add_(1, bank_labels[index], (top / temperature).exp())
        predictions.append(votes.argmax(1))
    return float((torch.cat(predictions).numpy() == np.asarray(query_labels)).mean())


def linear_probe(train, train_labels, test, test_labels, fraction=1.0, seed=0, max_iter=1000):
    """Test accuracy of ``LogisticRegression`` on standardized embeddings, trained on ``fraction`` of the labels.

    The labelled samples are a seeded class-balanced draw (at least one per
    class); the scaler is fitted on them only.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train_labels = np.asarray(train_labels)
    n_classes = len(np.unique(train_labels))
    labelled = subset(train_labels, max(n_classes, int(round(fraction * len(train_labels)))), seed)
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
    probe.fit(np.asarray(train)[labelled], train_labels[labelled])
    return float(probe.score(np.asarray(test), np.asarray(test_labels)))


def evaluate(train, train_labels, test, test_labels, fractions=(1.0, 0.1, 0.01), k=200):
    """kNN (bank = ``train``) and linear-probe accuracies in one dict: ``knn``, ``linear_100``, ``linear_10``, ..."""
    result = {"knn": knn_accuracy(train, train_labels, test, test_labels, k=k)}
    for fraction in fractions:
        result[f"linear_{fraction * 100:g}"] = linear_probe(train, train_labels, test, test_labels, fraction)
    return result
