"""
Training curves and early stopping
==================================

Every sk_ssl estimator records one row per epoch in ``history_`` (a skorch
``History``): ``train_loss``, ``dur`` and, with ``early_stopping=True``,
``valid_loss`` on a held-out ``validation_fraction`` of the data. Early
stopping ends training when the validation loss has not improved for
``n_iter_no_change`` epochs and restores the weights of the best epoch;
``n_iter_`` is the number of epochs run.

Here :class:`~sk_ssl.MaskedAutoencoder` is trained on the digits rows twice,
once for a fixed number of epochs and once with early stopping. Reduced
settings for the gallery: at most 60 epochs and a patience of 5; with the
defaults (``max_epochs=100``, ``n_iter_no_change=10``) the curves are longer
but look the same.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from sk_ssl import MaskedAutoencoder

QUICK = os.environ.get("SK_SSL_EXAMPLE_QUICK") == "1"  # tiny settings for the test suite

X, _ = load_digits(return_X_y=True)
if QUICK:
    X = X[:200]
max_epochs = 3 if QUICK else 60

fixed = MaskedAutoencoder(max_epochs=max_epochs, random_state=0).fit(X)
stopped = MaskedAutoencoder(
    max_epochs=max_epochs, early_stopping=True, validation_fraction=0.15, n_iter_no_change=1 if QUICK else 5,
    random_state=0,
).fit(X)

print(f"fixed budget: {fixed.n_iter_} epochs, {sum(fixed.history_[:, 'dur']):.1f} s")
print(f"early stopping: {stopped.n_iter_} epochs, {sum(stopped.history_[:, 'dur']):.1f} s")

# %%
# Reading the history
# -------------------
# ``history_[:, "train_loss"]`` slices one key over all epochs; each row is a
# dict (``history_[-1]`` is the last epoch).
train = np.asarray(stopped.history_[:, "train_loss"])
valid = np.asarray(stopped.history_[:, "valid_loss"])
best_epoch = int(np.argmin(valid)) + 1
print(f"best validation loss {valid.min():.4f} at epoch {best_epoch}; these weights were restored")
print("last epoch:", {k: v for k, v in stopped.history_[-1].items() if k in ("epoch", "train_loss", "valid_loss")})

# %%
# Plot
# ----
fig, ax = plt.subplots(figsize=(6, 4))
epochs = np.arange(1, fixed.n_iter_ + 1)
ax.plot(epochs, fixed.history_[:, "train_loss"], color="0.6", label="train loss, fixed budget")
epochs = np.arange(1, stopped.n_iter_ + 1)
ax.plot(epochs, train, label="train loss, early stopping")
ax.plot(epochs, valid, label="validation loss")
ax.axvline(best_epoch, color="k", linestyle=":", label=f"best epoch ({best_epoch}), restored")
ax.set_xlabel("epoch")
ax.set_ylabel("VIME loss")
ax.legend()
plt.show()
