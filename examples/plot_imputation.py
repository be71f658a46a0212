"""
Imputation: MaskedAutoencoder vs scikit-learn imputers
======================================================

:class:`~sk_ssl.MaskedAutoencoder` trains on rows with holes (NaN cells are
treated as masked) and ``reconstruct`` fills every NaN with the model's
prediction while returning the observed cells unchanged. Here 20 % of the
cells of two tables bundled with scikit-learn are removed completely at random
and filled by

* :class:`~sklearn.impute.SimpleImputer` (column mean),
* :class:`~sklearn.impute.KNNImputer` (5 neighbours),
* :class:`~sklearn.impute.IterativeImputer` (one regression per column),
* :class:`~sk_ssl.MaskedAutoencoder` (VIME, ``reconstruct(n_iter=3)``).

The error is the RMSE on the removed cells, in units of each column's
standard deviation (1.0 is what the mean achieves on average). Which imputer
wins depends on the data: nearest neighbours are hard to beat on tables with
many near-duplicate rows (digits), and the benchmark
(``benchmarks/bench_imputation.py``, 5 seeds, four larger tables) shows the
masked autoencoder best on one of four. Reduced settings for the gallery: 60
epochs, one seed.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

from sk_ssl import MaskedAutoencoder

QUICK = os.environ.get("SK_SSL_EXAMPLE_QUICK") == "1"  # tiny settings for the test suite

datasets = {"breast cancer (569 x 30)": load_breast_cancer().data, "digits (1797 x 64)": load_digits().data}
imputers = {
    "SimpleImputer": lambda: SimpleImputer(),
    "KNNImputer": lambda: KNNImputer(n_neighbors=5),
    "IterativeImputer": lambda: IterativeImputer(max_iter=3 if QUICK else 10, random_state=0),
    "MaskedAutoencoder": lambda: MaskedAutoencoder(max_epochs=1 if QUICK else 60, random_state=0),
}

rmse = {}
for data_name, X in datasets.items():
    if QUICK:
        X = X[:150]
    X = X[:, X.std(axis=0) > 0]  # constant columns have nothing to impute
    rng = np.random.RandomState(0)
    holes = rng.rand(*X.shape) < 0.2
    holes[holes.all(axis=1), 0] = False  # keep at least one observed cell per row
    X_holes = np.where(holes, np.nan, X)
    scale = X.std(axis=0)
    for name, make in imputers.items():
        imputer = make()
        if name == "MaskedAutoencoder":
            filled = imputer.fit(X_holes).reconstruct(X_holes)
        else:
            filled = imputer.fit_transform(X_holes)
        error = ((filled - X) / scale)[holes]
        rmse[data_name, name] = float(np.sqrt(np.mean(error**2)))
        print(f"{data_name:>25} {name:>18}: RMSE {rmse[data_name, name]:.3f}")

# %%
# Plot
# ----
fig, ax = plt.subplots(figsize=(7, 3.8))
width = 0.2
for k, name in enumerate(imputers):
    values = [rmse[data_name, name] for data_name in datasets]
    ax.bar(np.arange(len(datasets)) + (k - 1.5) * width, values, width, label=name)
ax.set_xticks(range(len(datasets)), list(datasets))
ax.set_ylabel("RMSE on removed cells (column std units)")
ax.legend(fontsize=8)
plt.show()
