"""Quality: ContrastiveEmbedder embeddings under a few-label linear probe.

Two suites, one command: ``python benchmarks/bench_contrastive.py [--quick]``.

* digits (scikit-learn's bundled 8x8 images): 75/25 stratified split per seed,
  pretraining on the training split only (no labels), logistic regression on
  10 labels per class, 5 seeds. Baselines on the same splits and label draws:
  raw pixels, PCA, and the same encoder at random initialisation.
* tabular (phoneme, letter, covertype from ../shared/data): 70/30 stratified
  split per seed, SCARF pretraining on the training split, then at 1 %, 10 %
  and 100 % of the training labels: logistic regression on raw features, on the
  embedding, on embedding + raw features (``include_input=True``), and
  HistGradientBoosting on raw features.
"""

import argparse
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from _data import label_fraction, load_tabular
from _report import RESULTS, markdown_table, mean_std, write
from sk_ssl import ContrastiveEmbedder


def few_labels(y, per_class, seed):
    rng = np.random.RandomState(seed)
    return np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in np.unique(y)])


def probe(Z_train, y_train, Z_test, y_test):
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    return clf.fit(Z_train, y_train).score(Z_test, y_test)


def digits_suite(seeds, epochs):
    X, y = load_digits(return_X_y=True)
    scores = {}
    times = {}

    def add(name, seconds, value):
        scores.setdefault(name, []).append(value)
        times.setdefault(name, []).append(seconds)

    for seed in seeds:
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
        lab = few_labels(y_tr, 10, seed)
        add("raw pixels + LR", 0.0, probe(X_tr[lab], y_tr[lab], X_te, y_te))
        t = time.perf_counter()
        pca = PCA(32, random_state=seed).fit(X_tr)
        add("PCA(32) + LR", time.perf_counter() - t, probe(pca.transform(X_tr[lab]), y_tr[lab], pca.transform(X_te), y_te))
        add("raw pixels + LR (unscaled)", 0.0, LogisticRegression(max_iter=3000).fit(X_tr[lab], y_tr[lab]).score(X_te, y_te))
        configs = {
            # learning_rate ~0 keeps the seeded initial weights: the same CNN, untrained.
            "random-init CNN + LR": dict(image_shape=(1, 8, 8), max_epochs=1, learning_rate=1e-12),
            f"ContrastiveEmbedder (SimCLR CNN, {epochs} epochs) + LR": dict(image_shape=(1, 8, 8), max_epochs=epochs),
        }
        for name, params in configs.items():
            t = time.perf_counter()
            emb = ContrastiveEmbedder(random_state=seed, device="cpu", **params).fit(X_tr)
            seconds = time.perf_counter() - t
            add(name, seconds, probe(emb.transform(X_tr[lab]), y_tr[lab], emb.transform(X_te), y_te))
            print(f"  digits seed {seed}: {name}: {scores[name][-1]:.3f} ({seconds:.0f}s)", flush=True)
    rows = [[name, mean_std(v), f"{np.mean(times[name]):.1f}"] for name, v in scores.items()]
    md = (
        "## digits, 10 labels per class\n\n"
        f"75/25 stratified split, pretraining on the training split only, logistic regression (standardized) on 10 "
        f"labels per class; mean ± std over {len(seeds)} seeds (split, label draw and model seed). "
        "Target from the issue: >= 0.97.\n\n"
        + markdown_table(["method", "test accuracy", "fit time (s)"], rows)
    )
    return {"scores": scores, "fit_seconds": times}, md, scores


def tabular_suite(datasets, seeds, epochs, max_rows):
    fractions = [0.01, 0.1, 1.0]
    results = {}
    for name in datasets:
        X, y, _ = load_tabular(name)
        for seed in seeds:
            rng = np.random.RandomState(seed)
            rows = rng.permutation(len(X))[:max_rows] if len(X) > max_rows else np.arange(len(X))
            X_tr, X_te, y_tr, y_te = train_test_split(X[rows], y[rows], test_size=0.3, stratify=y[rows], random_state=seed)
            t = time.perf_counter()
            emb = ContrastiveEmbedder(max_epochs=epochs, random_state=seed, device="cpu").fit(X_tr)
            pretrain = time.perf_counter() - t
            Z_tr, Z_te = emb.transform(X_tr), emb.transform(X_te)
            for frac in fractions:
                lab = label_fraction(y_tr, frac, seed)
                res = results.setdefault(name, {}).setdefault(str(frac), {})
                res.setdefault("raw + LR", []).append(probe(X_tr[lab], y_tr[lab], X_te, y_te))
                res.setdefault("SCARF emb + LR", []).append(probe(Z_tr[lab], y_tr[lab], Z_te, y_te))
                res.setdefault("SCARF emb + raw + LR", []).append(
                    probe(np.hstack([Z_tr[lab], X_tr[lab]]), y_tr[lab], np.hstack([Z_te, X_te]), y_te)
                )
                hgb = HistGradientBoostingClassifier(random_state=seed).fit(X_tr[lab], y_tr[lab])
                res.setdefault("HistGradientBoosting", []).append(hgb.score(X_te, y_te))
            results[name].setdefault("pretrain_seconds", []).append(pretrain)
            print(f"  {name} seed {seed}: pretrain {pretrain:.0f}s, "
                  + ", ".join(f"{k}={v[-1]:.3f}" for k, v in results[name]["0.1"].items()), flush=True)  # fmt: skip
    methods = ["raw + LR", "SCARF emb + LR", "SCARF emb + raw + LR", "HistGradientBoosting"]
    rows = []
    for name in datasets:
        for frac in fractions:
            cells = [mean_std(results[name][str(frac)][m]) for m in methods]
            rows.append([name, f"{100 * frac:g} %", *cells])
    md = (
        "## tabular, fraction of training labels\n\n"
        f"70/30 stratified split (at most {max_rows} rows per set), SCARF pretraining ({epochs} epochs) on the "
        f"training split; mean ± std accuracy over {len(seeds)} seeds.\n\n" + markdown_table(["dataset", "labels", *methods], rows)
    )
    return results, md


def plot_digits(scores, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(scores)
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(names) + 1))
    means = [np.mean(scores[n]) for n in names]
    stds = [np.std(scores[n]) for n in names]
    ax.barh(names, means, xerr=stds, color=["#1f77b4" if n.startswith("Contrastive") else "#999" for n in names])
    ax.set_xlim(0.7, 1.0)
    ax.set_xlabel("test accuracy, 10 labels per class")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--suite", choices=["all", "digits", "tabular"], default="all")
    parser.add_argument("--digits-epochs", type=int, default=200, help="pretraining epochs on digits (default 200)")
    args = parser.parse_args()
    if args.quick:
        seeds, epochs, tab_seeds, tab_epochs, max_rows, sets = [0], 2, [0], 2, 2000, ["phoneme"]
    else:
        seeds, epochs, tab_seeds, tab_epochs, max_rows, sets = (
            range(5), args.digits_epochs, range(3), 30, 10000, ["phoneme", "letter", "covertype"]
        )
    suffix = "_quick" if args.quick else ""
    if args.suite in ("all", "digits"):
        payload, md, scores = digits_suite(list(seeds), epochs)
        plot = RESULTS / f"contrastive_digits{suffix}.png"
        plot_digits(scores, plot)
        write("contrastive_digits" + suffix, payload, md + f"\n\n![digits]({plot.name})")
    if args.suite in ("all", "tabular"):
        payload, md = tabular_suite(sets, list(tab_seeds), tab_epochs, max_rows)
        write("contrastive_tabular" + suffix, {"results": payload}, md)


if __name__ == "__main__":
    main()
