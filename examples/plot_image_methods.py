"""
Image self-supervised methods: kNN accuracy per epoch and nearest neighbours
============================================================================

:class:`~sk_ssl.ContrastiveEmbedder` trains one encoder with any of the image
methods, chosen by ``objective``: SimCLR (negatives in the batch), MoCo v2 (a
momentum encoder and a queue of negatives), BYOL (a momentum target, no
negatives) and DINO (self-distillation with centering and sharpening). Here
each trains on the 8 x 8 digits, one epoch at a time (``warm_start=True``
continues the fit), and after every epoch a cosine kNN classifier on the
embeddings measures how well images of the same class lie together, as the
CIFAR-10 benchmark does (``benchmarks/bench_cifar10.py``). Last, the nearest
training images of a few test images under the best method.

Reduced settings for the gallery: 8 epochs, 4 methods; the quick test run
uses 200 images, 2 epochs and 2 methods. The CIFAR-10 benchmark uses the
same loop on natural images.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

from sk_ssl import ContrastiveEmbedder

QUICK = os.environ.get("SK_SSL_EXAMPLE_QUICK") == "1"  # tiny settings for the test suite

X, y = load_digits(return_X_y=True)
if QUICK:
    X, y = X[:200], y[:200]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
epochs = 2 if QUICK else 8
methods = ["simclr", "dino"] if QUICK else ["simclr", "moco_v2", "byol", "dino"]


def knn_accuracy(embedder):
    knn = KNeighborsClassifier(n_neighbors=10, metric="cosine").fit(embedder.transform(X_train), y_train)
    return knn.score(embedder.transform(X_test), y_test)


curves, embedders = {}, {}
for objective in methods:
    emb = ContrastiveEmbedder(objective=objective, image_shape=(1, 8, 8), n_components=64, max_epochs=1,
                              random_state=0)  # fmt: skip
    curve = []
    for epoch in range(epochs):
        emb.set_params(warm_start=epoch > 0).fit(X_train)  # one more epoch each time
        curve.append(knn_accuracy(emb))
    curves[objective], embedders[objective] = curve, emb
    print(f"{objective}: kNN accuracy per epoch {np.round(curve, 3).tolist()}")

# %%
# kNN accuracy per epoch, and the nearest training images
# -------------------------------------------------------
best = max(curves, key=lambda name: curves[name][-1])
Z_train, Z_test = embedders[best].transform(X_train), embedders[best].transform(X_test)
Z_train /= np.linalg.norm(Z_train, axis=1, keepdims=True)
Z_test /= np.linalg.norm(Z_test, axis=1, keepdims=True)
queries = np.arange(6)
nearest = np.argsort(-Z_test[queries] @ Z_train.T, axis=1)[:, :6]

fig = plt.figure(figsize=(10, 4))
ax = fig.add_subplot(1, 2, 1)
for name, curve in curves.items():
    ax.plot(np.arange(1, epochs + 1), curve, marker="o", label=name)
ax.set(xlabel="epoch", ylabel="kNN accuracy (test split)", title="kNN accuracy per epoch")
ax.legend()
for row, query in enumerate(queries):
    tiles = [X_test[query]] + [X_train[i] for i in nearest[row]]
    for column, tile in enumerate(tiles):
        ax = fig.add_subplot(len(queries), 2 * len(tiles), row * 2 * len(tiles) + len(tiles) + column + 1)
        ax.imshow(tile.reshape(8, 8), cmap="gray_r")
        ax.set_axis_off()
fig.suptitle(f"right: a test digit and its 6 nearest training digits ({best})")
fig.tight_layout()
plt.show()
