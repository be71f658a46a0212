"""MaskedAutoencoder as an imputer vs scikit-learn's imputers.

Protocol: adult (numeric columns), phoneme, letter, covertype (numeric
columns), each subsampled to ``--rows`` rows per seed; 20 % of cells removed
completely at random; 5 seeds. Every method fills the same holes of the same
rows (transductively: fit and fill on the data with holes). Score: RMSE on the
removed cells in standardized units (column std of the complete subsample),
plus wall time. Rows left entirely empty (rare: phoneme has 5 columns) are not
used to fit MaskedAutoencoder (it rejects them) but are filled and scored.

    python benchmarks/bench_imputation.py [--quick]

``--categorical`` runs the mixed-table protocol instead (raw DataFrames of
adult and bank, categorical and numeric holes): 20 % of the observed
categorical cells and 20 % of the observed numeric cells removed completely
at random in ``--rows`` rows per seed; categorical score: share of removed
categories filled right; numeric score: RMSE in standardized units.
MaskedAutoencoder reads the frame as it is (cross-entropy heads for the
categories); SimpleImputer fills the most frequent category and the mean;
IterativeImputer (BayesianRidge) runs on ordinal codes of the categories,
rounded to the nearest code, since it has no categorical mode.

    python benchmarks/bench_imputation.py --categorical [--quick]
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

CATEGORICAL_DATASETS = ["adult", "bank"]
CATEGORICAL_METHODS = ["SimpleImputer(most_frequent, mean)", "IterativeImputer(ordinal codes)", "MaskedAutoencoder"]


def _impute_frame(method, holed, seed, epochs):
    """``holed`` (a DataFrame with category columns and NaN) filled by ``method``, as a DataFrame."""
    import pandas as pd

    categorical = [c for c in holed.columns if isinstance(holed[c].dtype, pd.CategoricalDtype)]
    numeric = [c for c in holed.columns if c not in categorical]
    if method == "MaskedAutoencoder":
        mae = MaskedAutoencoder(max_epochs=epochs, random_state=seed, device="cpu")
        return mae.fit(holed).reconstruct(holed)
    filled = holed.copy()
    if method.startswith("SimpleImputer"):
        filled[numeric] = SimpleImputer(strategy="mean").fit_transform(holed[numeric])
        for c in categorical:
            filled[c] = holed[c].fillna(holed[c].mode()[0])
        return filled
    codes = np.column_stack([holed[c].cat.codes.to_numpy(float) for c in categorical])
    codes[codes < 0] = np.nan
    both = np.hstack([holed[numeric].to_numpy(float), codes])
    out = IterativeImputer(max_iter=10, random_state=seed).fit_transform(both)
    filled[numeric] = out[:, : len(numeric)]
    for k, c in enumerate(categorical):
        n_cats = len(holed[c].cat.categories)
        idx = np.clip(np.round(out[:, len(numeric) + k]), 0, n_cats - 1).astype(int)
        filled[c] = pd.Categorical.from_codes(idx, categories=holed[c].cat.categories)
    return filled


def main_categorical(args):
    import pandas as pd
    from _data import load_frame

    results = {}
    for name in CATEGORICAL_DATASETS:
        df_all, _, _ = load_frame(name)
        results[name] = {m: {"accuracy": [], "rmse": [], "seconds": []} for m in CATEGORICAL_METHODS}
        for seed in range(args.seeds):
            rng = np.random.RandomState(seed)
            df = df_all.iloc[rng.choice(len(df_all), min(args.rows, len(df_all)), replace=False)].reset_index(drop=True)
            categorical = [c for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)]
            numeric = [c for c in df.columns if c not in categorical]
            holes = (rng.rand(*df.shape) < 0.2) & df.notna().to_numpy()
            holed = df.copy()
            for j, c in enumerate(df.columns):
                holed.loc[holes[:, j], c] = np.nan
            cat_idx = [df.columns.get_loc(c) for c in categorical]
            num_idx = [df.columns.get_loc(c) for c in numeric]
            std = np.array(df[numeric].std(), dtype=float)
            std[std == 0] = 1.0
            for method in CATEGORICAL_METHODS:
                start = time.perf_counter()
                filled = _impute_frame(method, holed, seed, args.epochs)
                seconds = time.perf_counter() - start
                truth, got = df.to_numpy(object), filled.to_numpy(object)
                cat_holes = holes[:, cat_idx]
                accuracy = float((got[:, cat_idx][cat_holes] == truth[:, cat_idx][cat_holes]).mean())
                error = (got[:, num_idx].astype(float) - truth[:, num_idx].astype(float)) / std
                rmse = float(np.sqrt(np.mean(error[holes[:, num_idx]] ** 2)))
                for key, value in (("accuracy", accuracy), ("rmse", rmse), ("seconds", seconds)):
                    results[name][method][key].append(value)
                print(f"{name} seed {seed} {method}: accuracy {accuracy:.4f} RMSE {rmse:.4f} ({seconds:.1f} s)",
                      flush=True)  # fmt: skip
    header = ["dataset (rows x columns, categorical)"] + [f"{m} accuracy" for m in CATEGORICAL_METHODS] + [
        f"{m} RMSE" for m in CATEGORICAL_METHODS] + ["MAE s"]  # fmt: skip
    rows = []
    for name in CATEGORICAL_DATASETS:
        df_all = load_frame(name)[0]
        n_cat = sum(isinstance(df_all[c].dtype, pd.CategoricalDtype) for c in df_all.columns)
        acc = {m: np.mean(results[name][m]["accuracy"]) for m in CATEGORICAL_METHODS}
        rmse = {m: np.mean(results[name][m]["rmse"]) for m in CATEGORICAL_METHODS}
        best_acc, best_rmse = max(acc, key=acc.get), min(rmse, key=rmse.get)
        cells = [(f"**{_report.mean_std(results[name][m]['accuracy'])}**" if m == best_acc else
                  _report.mean_std(results[name][m]["accuracy"])) for m in CATEGORICAL_METHODS]  # fmt: skip
        cells += [(f"**{_report.mean_std(results[name][m]['rmse'])}**" if m == best_rmse else
                   _report.mean_std(results[name][m]["rmse"])) for m in CATEGORICAL_METHODS]  # fmt: skip
        seconds = f"{np.mean(results[name]['MaskedAutoencoder']['seconds']):.1f}"
        rows.append([f"{name} ({args.rows} x {df_all.shape[1]}, {n_cat})", *cells, seconds])
    markdown = (
        "## Imputation of mixed tables: categorical accuracy (higher is better) and numeric RMSE (lower)\n\n"
        f"Protocol: raw DataFrames (bank without `duration`), {args.rows} rows subsampled per seed (CPU budget), "
        f"20 % of the observed cells removed completely at random, {args.seeds} seeds (mean ± std); every method "
        "fills the same holes. Accuracy: share of removed categorical cells filled with the true category; "
        "RMSE: removed numeric cells, standardized units. MaskedAutoencoder: defaults (categorical columns "
        f"from the dtype, cross-entropy heads), max_epochs={args.epochs}, reconstruct(n_iter=3), fitted on the "
        "frame with holes (transductive, as the imputers). SimpleImputer: most frequent category, column mean. "
        "IterativeImputer(BayesianRidge, max_iter=10) on numbers plus ordinal category codes, rounded to the "
        "nearest code (it has no categorical mode).\n\n" + _report.markdown_table(header, rows)
    )
    _report.write("imputation_categorical" + ("_quick" if args.quick else ""), {"args": vars(args), "results": results},
                  markdown)  # fmt: skip

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
    parser.add_argument("--categorical", action="store_true", help="mixed tables: categorical and numeric holes")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.seeds, args.epochs = 300, 1, 2
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    if args.categorical:
        return main_categorical(args)
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
