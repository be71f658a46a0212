"""
Multiple-instance learning: attention weights per task
======================================================

In multiple-instance learning a sample is a *bag* of instances and only the
bag is labelled. The MIML scene data bundled with sk_ssl
(:func:`~sk_ssl.datasets.load_miml_scene`) has 2000 images, each a bag of 9
region descriptors, and 5 labels per image (desert, mountains, sea, sunset,
trees) that are learnt together by :class:`~sk_ssl.MILMultitaskClassifier`:
one shared instance encoder, one attention pooling and one head per task.

``instance_weights`` shows, for each bag and task, how much each instance
(region) contributed to the bag's prediction. Different tasks look at
different regions of the same image.

Reduced settings for the gallery: 30 epochs on 1500 training bags. The
benchmark (``benchmarks/bench_mil.py``) reports 5-fold cross-validation with
the usual MIML metrics.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from sk_ssl import MILMultitaskClassifier
from sk_ssl.datasets import load_miml_scene

QUICK = os.environ.get("SK_SSL_EXAMPLE_QUICK") == "1"  # tiny settings for the test suite

data = load_miml_scene()
bags, Y = data.bags, data.target
if QUICK:  # a random subset: the file stores the images scene by scene
    keep = np.random.default_rng(0).permutation(len(bags))[:200]
    bags, Y = [bags[i] for i in keep], Y[keep]
tasks = data.target_names
print(f"{len(bags)} bags of {bags[0].shape[0]} instances x {bags[0].shape[1]} features; tasks: {tasks}")

bags_train, bags_test, Y_train, Y_test = train_test_split(bags, Y, test_size=0.25, random_state=0)
clf = MILMultitaskClassifier(pooling="attention", max_epochs=2 if QUICK else 30, random_state=0)
clf.fit(bags_train, Y_train)

# %%
# Per-task accuracy
# -----------------
# With several binary tasks, ``predict`` returns one column per task.
Y_pred = clf.predict(bags_test)
for j, task in enumerate(tasks):
    print(f"{task:>10}: accuracy {np.mean(Y_pred[:, j] == Y_test[:, j]):.3f}  (positive rate {Y_test[:, j].mean():.2f})")
print(f"subset accuracy (all 5 labels right): {clf.score(bags_test, Y_test):.3f}")

# %%
# Attention on a few bags
# -----------------------
# One panel per test bag: rows are the bag's instances, columns the tasks.
# Each column sums to one; the title lists the bag's true labels.
shown = [i for i in range(len(bags_test)) if Y_test[i].sum() >= 1][:4]
weights = clf.instance_weights([bags_test[i] for i in shown])
fig, axes = plt.subplots(1, len(shown), figsize=(3.2 * len(shown), 4.5), sharey=True, layout="constrained")
for ax, i, w in zip(np.atleast_1d(axes), shown, weights):
    image = ax.imshow(w, cmap="magma", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(tasks)), tasks, rotation=60)
    ax.set_title(", ".join(t for t, v in zip(tasks, Y_test[i]) if v) or "none", fontsize=9)
np.atleast_1d(axes)[0].set_ylabel("instance (image region)")
fig.colorbar(image, ax=axes, label="attention weight")
plt.show()
