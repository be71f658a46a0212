"""MaskedAutoencoder as an imputer vs scikit-learn's imputers.

Protocol: adult (numeric columns), phoneme, letter, covertype (numeric
columns), each subsampled to ``--rows`` rows per seed; 20 % of cells removed
completely at random; 5 seeds. Every method fills the same holes of the same
rows (transductively: fit and fill on the data with holes). Score: RMSE on the
removed cells in standardized units (column std of the complete subsample),
plus wall time. Rows left entirely empty (rare: phoneme has 5 columns) are not
used to fit MaskedAutoencoder (it rejects them) but are filled and scored.

    python benchmarks/bench_imputation.py [--quick]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _report  # noqa: E402
from _data import load_tabular  # noqa: E402

from sk_ssl import MaskedAutoencoder  # noqa: E402

DATASETS = ["adult", "phoneme", "letter", "covertype"]
METHODS = ["SimpleImputer(mean)", "KNNImputer", "IterativeImputer", "MaskedAutoencoder"]


def _impute(method, X_holes, seed, epochs):
    if method == "SimpleImputer(mean)":
        return SimpleImputer().fit_transform(X_holes)
    if method == "KNNImputer":
        return KNNImputer().fit_transform(X_holes)
    if method == "IterativeImputer":
        return IterativeImputer(max_iter=10, random_state=seed).fit_transform(X_holes)
    fit_rows = ~np.isnan(X_holes).all(axis=1)
    mae = MaskedAutoencoder(max_epochs=epochs, random_state=seed, device="cpu").fit(X_holes[fit_rows])
    return mae.reconstruct(X_holes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=40)
    args = parser.parse_args()
    if args.quick:
        args.rows, args.seeds, args.epochs = 300, 1, 2
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    results = {}
    for name in DATASETS:
        X_all, _, _ = load_tabular(name, numeric_only=True)
        X_all = X_all[~np.isnan(X_all).any(axis=1)]
        results[name] = {m: {"rmse": [], "seconds": []} for m in METHODS}
        for seed in range(args.seeds):
            rng = np.random.RandomState(seed)
            X = X_all[rng.choice(len(X_all), min(args.rows, len(X_all)), replace=False)]
            holes = rng.rand(*X.shape) < 0.2
            X_holes = np.where(holes, np.nan, X)
            std = X.std(axis=0)
            std[std == 0] = 1.0
            for method in METHODS:
                start = time.perf_counter()
                filled = _impute(method, X_holes, seed, args.epochs)
                seconds = time.perf_counter() - start
                rmse = float(np.sqrt(np.mean((((filled - X) / std)[holes]) ** 2)))
                results[name][method]["rmse"].append(rmse)
                results[name][method]["seconds"].append(seconds)
                print(f"{name} seed {seed} {method}: RMSE {rmse:.4f} ({seconds:.1f} s)", flush=True)

    header = ["dataset (n x d)"] + [f"{m} RMSE" for m in METHODS] + ["best", "MAE s", "KNN s", "Iterative s"]
    rows, wins = [], 0
    for name in DATASETS:
        means = {m: np.mean(results[name][m]["rmse"]) for m in METHODS}
        best = min(means, key=means.get)
        wins += best == "MaskedAutoencoder"
        n_cols = load_tabular(name, numeric_only=True)[0].shape[1]
        cells = [f"**{_report.mean_std(results[name][m]['rmse'])}**" if m == best else
                 _report.mean_std(results[name][m]["rmse"]) for m in METHODS]  # fmt: skip
        seconds = [f"{np.mean(results[name][m]['seconds']):.1f}" for m in ("MaskedAutoencoder", "KNNImputer",
                                                                            "IterativeImputer")]  # fmt: skip
        rows.append([f"{name} ({args.rows} x {n_cols})", *cells, best, *seconds])
    markdown = (
        f"## Imputation: RMSE on removed cells (standardized units), lower is better\n\n"
        f"Protocol: {args.rows} rows subsampled per seed (CPU budget), 20 % of cells removed completely at random, "
        f"{args.seeds} seeds (mean ± std); every method fills the same holes. MaskedAutoencoder: defaults, "
        f"max_epochs={args.epochs}, reconstruct(n_iter=3). KNNImputer(k=5), IterativeImputer(BayesianRidge, "
        f"max_iter=10). MaskedAutoencoder best on {wins} of {len(DATASETS)} datasets (target: 3 of 4).\n\n"
        + _report.markdown_table(header, rows)
    )
    _report.write("imputation" + ("_quick" if args.quick else ""), {"args": vars(args), "results": results}, markdown)


if __name__ == "__main__":
    main()
