"""
Embedding a folder of JPEG files
================================

Image collections usually live as files. sk_ssl estimators take a list of
paths as ``X``: the files are decoded with Pillow (``pip install
"sk_ssl[images]"``) a batch at a time in background workers, so the
collection never has to fit in memory, and the fitted model is the same as
for the same images held as a uint8 array.

To stay self-contained this example first *writes* such a folder: the 8x8
digits bundled with scikit-learn, upscaled to 16x16 grey JPEGs named
``<label>_<index>.jpg``. Then, as with your own photos, it lists the folder,
fits a :class:`~sk_ssl.ContrastiveEmbedder` on the files without labels, and
trains a logistic regression on the embeddings of 10 labelled images per
class, next to one on the raw pixels.

Reduced settings for the gallery: 30 epochs and one label draw (the quick test
mode uses 2 epochs on 300 images). With more epochs and seeds, see
``benchmarks/bench_contrastive.py`` for digits and
``benchmarks/bench_image_files.py`` for files vs arrays.
"""

# %%
# A folder of JPEG files
# ----------------------
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from sk_ssl import ContrastiveEmbedder

QUICK = os.environ.get("SK_SSL_EXAMPLE_QUICK") == "1"  # tiny settings for the test suite

digits = load_digits()
n_images = 300 if QUICK else len(digits.images)
folder = Path(tempfile.mkdtemp(prefix="digits_jpeg_"))
for i, (image, label) in enumerate(zip(digits.images[:n_images], digits.target[:n_images])):
    pixels = (image * 255 / 16).astype(np.uint8)  # 0..16 -> 0..255
    Image.fromarray(pixels).resize((16, 16), Image.BILINEAR).save(folder / f"{label}_{i:04d}.jpg", quality=90)

# From here on, this is what you would do with your own folder.
paths = sorted(folder.glob("*.jpg"))
labels = np.array([int(p.name.split("_")[0]) for p in paths])
print(f"{len(paths)} files like {paths[0].name}, {Image.open(paths[0]).size} pixels, mode {Image.open(paths[0]).mode}")

# %%
# Self-supervised fit on the files
# --------------------------------
# No ``image_shape`` is needed: the first file decides (16x16, grey, so one
# channel) and every other file must match it. ``image_shape=(C, H, W)`` would
# resize every file to H x W instead (C=3 reads them as RGB).
paths_train, paths_test, y_train, y_test = train_test_split(
    np.array(paths, dtype=object), labels, test_size=0.25, stratify=labels, random_state=0
)
embedder = ContrastiveEmbedder(max_epochs=2 if QUICK else 30, batch_size=128, random_state=0)
embedder.fit(paths_train)
print("image_shape_:", embedder.image_shape_, "n_features_in_:", embedder.n_features_in_)
Z_train, Z_test = embedder.transform(paths_train), embedder.transform(paths_test)

# %%
# Few labels: embeddings vs raw pixels
# ------------------------------------
# The raw-pixel baseline decodes the same files into an array, the way Pillow
# gives them: ``(n, 16, 16)`` uint8.
def decode(files):
    return np.stack([np.asarray(Image.open(p)) for p in files]).reshape(len(files), -1) / 255.0


rng = np.random.RandomState(0)
per_class = 2 if QUICK else 10
labelled = np.concatenate([rng.choice(np.flatnonzero(y_train == c), per_class, replace=False) for c in range(10)])
scores = {}
for name, (train, test) in {
    "raw pixels": (decode(paths_train), decode(paths_test)),
    "ContrastiveEmbedder\n(from the files)": (Z_train, Z_test),
}.items():
    probe = LogisticRegression(max_iter=2000).fit(train[labelled], y_train[labelled])
    scores[name] = probe.score(test, y_test)
    print(f"{name.splitlines()[0]}: accuracy {scores[name]:.3f} with {per_class} labels per class")

# %%
# Some files and the accuracies
# -----------------------------
fig, axes = plt.subplot_mosaic([["a", "b", "c", "d", "acc", "acc"], ["e", "f", "g", "h", "acc", "acc"]],
                               figsize=(9, 3.2), layout="constrained")  # fmt: skip
for key, path in zip("abcdefgh", paths_test[:8]):
    axes[key].imshow(Image.open(path), cmap="gray")
    axes[key].set_title(Path(path).name, fontsize=7)
    axes[key].axis("off")
axes["acc"].bar(list(scores), list(scores.values()), color=["0.6", "tab:blue"])
axes["acc"].set_ylim(0, 1)
axes["acc"].set_ylabel(f"test accuracy, {per_class} labels/class")
plt.show()
