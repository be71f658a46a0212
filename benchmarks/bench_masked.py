"""Representation quality of MaskedAutoencoder under a linear probe.

(1) digits as images (SimMIM path) and as tabular rows (VIME path): 75/25
stratified split per seed, the self-supervised model fitted on all training
rows without labels, then StandardScaler + LogisticRegression on 10 labelled
rows per class, accuracy on the test split; 5 seeds. Baselines on the same
splits and labels: raw features, PCA(32), the same MaskedAutoencoder at its
random initialisation, and ContrastiveEmbedder (reference).
(2) phoneme, letter, covertype: 75/25 stratified split per seed, training pool
and test set subsampled (CPU budget), the probe trained on 1 % / 10 % / 100 %
of the pool's labels; baselines raw-feature LR and HistGradientBoosting.

    python benchmarks/bench_masked.py [--quick]
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _report  # noqa: E402
from _data import load_tabular  # noqa: E402

from sk_ssl import ContrastiveEmbedder, MaskedAutoencoder  # noqa: E402

warnings.filterwarnings("ignore", category=ConvergenceWarning)


def _probe(Z_train, y_train, Z_test, y_test):
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(Z_train, y_train)
    return clf.score(Z_test, y_test)


def digits_part(args):
    X, y = load_digits(return_X_y=True)
    methods = ["raw LR", "PCA(32) + LR", "random-init encoder + LR", "MaskedAutoencoder + LR", "ContrastiveEmbedder + LR"]
    results = {}
    for view, image_shape, epochs in [("image", (1, 8, 8), args.image_epochs), ("tabular", None, args.tab_epochs)]:
        results[view] = {m: [] for m in methods}
        results[view]["fit seconds"] = {"MaskedAutoencoder": [], "ContrastiveEmbedder": []}
        for seed in range(args.seeds):
            X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
            rng = np.random.RandomState(seed)
            lab = np.concatenate([rng.choice(np.flatnonzero(y_tr == c), 10, replace=False) for c in range(10)])
            common = dict(image_shape=image_shape, random_state=seed, device="cpu")
            pca = PCA(32, random_state=seed).fit(X_tr)
            scores = {
                "raw LR": _probe(X_tr[lab], y_tr[lab], X_te, y_te),
                "PCA(32) + LR": _probe(pca.transform(X_tr[lab]), y_tr[lab], pca.transform(X_te), y_te),
            }
            untrained = MaskedAutoencoder(max_epochs=1, learning_rate=1e-12, **common).fit(X_tr)
            scores["random-init encoder + LR"] = _probe(untrained.transform(X_tr[lab]), y_tr[lab],
                                                        untrained.transform(X_te), y_te)  # fmt: skip
            for name, cls in [("MaskedAutoencoder", MaskedAutoencoder), ("ContrastiveEmbedder", ContrastiveEmbedder)]:
                start = time.perf_counter()
                model = cls(max_epochs=epochs, **common).fit(X_tr)
                results[view]["fit seconds"][name].append(time.perf_counter() - start)
                scores[f"{name} + LR"] = _probe(model.transform(X_tr[lab]), y_tr[lab], model.transform(X_te), y_te)
            for m in methods:
                results[view][m].append(scores[m])
            print(f"digits {view} seed {seed}: " + ", ".join(f"{m} {s:.3f}" for m, s in scores.items()), flush=True)
    header = ["digits view", *methods]
    rows = [[f"{view} ({'SimMIM' if view == 'image' else 'VIME'}, "
             f"{args.image_epochs if view == 'image' else args.tab_epochs} epochs)",
             *[_report.mean_std(results[view][m]) for m in methods]] for view in results]  # fmt: skip
    md = (
        "## digits, 10 labels per class: test accuracy of a linear probe\n\n"
        f"75/25 stratified split per seed, {args.seeds} seeds (mean ± std); self-supervised models fitted on the "
        f"training split without labels, default parameters except max_epochs (images {args.image_epochs}, "
        f"tabular {args.tab_epochs}; reduced for the CPU budget); probe = StandardScaler + LogisticRegression.\n\n"
        + _report.markdown_table(header, rows)
    )
    return results, md


def tabular_part(args):
    fractions = [0.01, 0.1, 1.0]
    methods = ["raw LR", "HistGradientBoosting", "MaskedAutoencoder + LR"]
    results, rows = {}, []
    for name in ["phoneme", "letter", "covertype"]:
        X, y, _ = load_tabular(name)
        results[name] = {f"{m} @ {f:g}": [] for m in methods for f in fractions}
        for seed in range(args.tab_seeds):
            X_pool, X_te, y_pool, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
            rng = np.random.RandomState(seed)
            pool = rng.choice(len(X_pool), min(args.pool, len(X_pool)), replace=False)
            test = rng.choice(len(X_te), min(args.test, len(X_te)), replace=False)
            X_pool, y_pool, X_te, y_te = X_pool[pool], y_pool[pool], X_te[test], y_te[test]
            mae = MaskedAutoencoder(max_epochs=args.tab_ssl_epochs, random_state=seed, device="cpu").fit(X_pool)
            Z_pool, Z_te = mae.transform(X_pool), mae.transform(X_te)
            for f in fractions:
                n_lab = max(int(round(f * len(X_pool))), len(np.unique(y_pool)) * 2)
                lab = rng.choice(len(X_pool), min(n_lab, len(X_pool)), replace=False)
                hgb = HistGradientBoostingClassifier(random_state=seed).fit(X_pool[lab], y_pool[lab])
                scores = {
                    "raw LR": _probe(X_pool[lab], y_pool[lab], X_te, y_te),
                    "HistGradientBoosting": hgb.score(X_te, y_te),
                    "MaskedAutoencoder + LR": _probe(Z_pool[lab], y_pool[lab], Z_te, y_te),
                }
                for m in methods:
                    results[name][f"{m} @ {f:g}"].append(scores[m])
                print(f"{name} seed {seed} labels {f:g} ({len(lab)}): "
                      + ", ".join(f"{m} {s:.3f}" for m, s in scores.items()), flush=True)  # fmt: skip
        for f in fractions:
            rows.append([name, f"{f:.0%}", *[_report.mean_std(results[name][f"{m} @ {f:g}"]) for m in methods]])
    md = (
        "## Tabular, 1 % / 10 % / 100 % of labels: test accuracy\n\n"
        f"75/25 stratified split per seed, then a training pool of {args.pool} rows and {args.test} test rows "
        f"subsampled (CPU budget); {args.tab_seeds} seeds (mean ± std). MaskedAutoencoder fitted on the whole pool "
        f"without labels (defaults, max_epochs={args.tab_ssl_epochs}); labelled rows drawn at random from the pool "
        "(at least 2 per class on average); probe = StandardScaler + LogisticRegression.\n\n"
        + _report.markdown_table(["dataset", "labels", *methods], rows)
    )
    return results, md


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--image-epochs", type=int, default=15)
    parser.add_argument("--tab-epochs", type=int, default=40)
    parser.add_argument("--tab-seeds", type=int, default=3)
    parser.add_argument("--tab-ssl-epochs", type=int, default=20)
    parser.add_argument("--pool", type=int, default=5000)
    parser.add_argument("--test", type=int, default=2000)
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.image_epochs, args.tab_epochs, args.tab_seeds, args.tab_ssl_epochs = 1, 1, 1, 1, 1
        args.pool, args.test = 500, 300
    start = time.perf_counter()
    digits_results, digits_md = digits_part(args)
    tab_results, tab_md = tabular_part(args)
    payload = {"args": vars(args), "digits": digits_results, "tabular": tab_results,
               "total_seconds": time.perf_counter() - start}  # fmt: skip
    _report.write("masked_representation" + ("_quick" if args.quick else ""), payload, digits_md + "\n\n" + tab_md)


if __name__ == "__main__":
    main()
