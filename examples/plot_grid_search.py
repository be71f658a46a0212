"""
Grid search over a pipeline with an embedder
============================================

An sk_ssl embedder is an ordinary scikit-learn transformer, so it goes into a
:class:`~sklearn.pipeline.Pipeline` and its parameters are tuned with
:class:`~sklearn.model_selection.GridSearchCV` like any other step
(``<step>__<parameter>``). The embedder is refitted on each training fold, so
the cross-validation score is honest.

Here :class:`~sk_ssl.ContrastiveEmbedder` (SCARF, the digits rows read as a
table) is tuned jointly with the classifier's regularisation. Reduced settings
for the gallery: 15 epochs per fit, a 2 x 2 grid, 3 folds on 900 digits. For a
real search use 50-200 epochs, and consider ``n_jobs`` only when each fit
keeps to one thread (``OMP_NUM_THREADS=1``).
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sk_ssl import ContrastiveEmbedder

QUICK = os.environ.get("SK_SSL_EXAMPLE_QUICK") == "1"  # tiny settings for the test suite

X, y = load_digits(return_X_y=True)
X, y = (X[:150], y[:150]) if QUICK else (X[:900], y[:900])

pipe = Pipeline(
    [
        ("ssl", ContrastiveEmbedder(n_components=64, max_epochs=1 if QUICK else 15, random_state=0)),
        ("clf", LogisticRegression(max_iter=2000)),
    ]
)
grid = {"ssl__corruption_rate": [0.3, 0.6], "clf__C": [0.1, 1.0]}
search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
print("best parameters:", search.best_params_)
print(f"best cross-validated accuracy: {search.best_score_:.3f}")

# %%
# All results
# -----------
# ``cv_results_`` holds one row per candidate, as for any estimator.
results = pd.DataFrame(search.cv_results_)
print(results[["param_ssl__corruption_rate", "param_clf__C", "mean_test_score", "std_test_score", "mean_fit_time"]])

# %%
# The score over the grid
# -----------------------
scores = results.pivot(index="param_ssl__corruption_rate", columns="param_clf__C", values="mean_test_score")
fig, ax = plt.subplots(figsize=(4.5, 3.5))
image = ax.imshow(scores.to_numpy(), cmap="viridis")
ax.set_xticks(range(scores.shape[1]), [str(c) for c in scores.columns])
ax.set_yticks(range(scores.shape[0]), [str(r) for r in scores.index])
ax.set_xlabel("LogisticRegression C")
ax.set_ylabel("SCARF corruption_rate")
for (i, j), value in np.ndenumerate(scores.to_numpy()):
    ax.text(j, i, f"{value:.3f}", ha="center", va="center", color="white")
fig.colorbar(image, label="mean CV accuracy")
plt.show()

# %%
# The refitted pipeline is ready to use; its embedder is a fitted estimator
# with the usual attributes.
best = search.best_estimator_
print(best.named_steps["ssl"].n_features_in_, "input features,", best.named_steps["ssl"].n_iter_, "epochs")
