"""The main job: few-label digits, raw pixels vs sk_ssl embeddings.

Run with ``python -m sk_ssl.demo`` (or ``make demo``). On scikit-learn's
bundled 8x8 digits (75/25 stratified split), ContrastiveEmbedder is pretrained
on all training images without labels; then a logistic regression is fitted on
only 10 labelled images per class and scored on the test split. The label
draw is repeated over several seeds; the same draws are used for every row.

Protocol: one split (``random_state=0``) and one pretraining run
(``random_state=0``); the spread is over the label draws only. (The digits
benchmark, ``benchmarks/bench_contrastive.py``, instead re-draws the split and
the model seed with each of its 5 seeds, and pretrains for 200 epochs.)

From a source checkout with the default settings, the table is also written to
``benchmarks/results/demo.json`` and ``demo.md``; README.md quotes that file
and ``tests/test_demo.py`` keeps the two in step.
"""

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_ssl import ContrastiveEmbedder


def few_label_indices(y, per_class, seed):
    """Indices of ``per_class`` random samples of every class."""
    rng = np.random.RandomState(seed)
    return np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in np.unique(y)])


def probe_accuracy(Z_train, y_train, Z_test, y_test, labelled):
    """Logistic regression on the labelled rows of Z_train, scored on Z_test."""
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    return clf.fit(Z_train[labelled], y_train[labelled]).score(Z_test, y_test)


def _parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100, help="pretraining epochs (default 100)")
    parser.add_argument("--per-class", type=int, default=10, help="labelled images per class (default 10)")
    parser.add_argument("--label-seeds", type=int, default=5, help="number of label draws (default 5)")
    parser.add_argument(
        "--results-dir",
        default=None,
        help="where to write demo.json / demo.md (default: benchmarks/results/ of a source checkout, else nowhere)",
    )
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    draws = [few_label_indices(y_train, args.per_class, seed) for seed in range(args.label_seeds)]
    print(
        f"digits: {len(X_train)} training images (pretraining, no labels), {len(X_test)} test images; "
        f"logistic regression on {args.per_class} labels per class, {args.label_seeds} label draws\n"
    )

    rows = []

    def evaluate(name, fit_seconds, Z_train, Z_test):
        accs = [probe_accuracy(Z_train, y_train, Z_test, y_test, lab) for lab in draws]
        rows.append((name, np.mean(accs), np.std(accs), fit_seconds))

    evaluate("raw pixels + LR", 0.0, X_train, X_test)
    start = time.perf_counter()
    pca = PCA(n_components=32, random_state=0).fit(X_train)
    evaluate("PCA(32) + LR", time.perf_counter() - start, pca.transform(X_train), pca.transform(X_test))

    embedder = ContrastiveEmbedder(image_shape=(1, 8, 8), max_epochs=args.epochs, random_state=0, verbose=1)
    start = time.perf_counter()
    embedder.fit(X_train)
    evaluate(
        f"ContrastiveEmbedder ({args.epochs} epochs) + LR",
        time.perf_counter() - start,
        embedder.transform(X_train),
        embedder.transform(X_test),
    )

    width = max(len(r[0]) for r in rows)
    print(f"\n| {'method'.ljust(width)} | test accuracy   | fit time |")
    print(f"|-{'-' * width}-|-----------------|----------|")
    for name, mean, std, seconds in rows:
        print(f"| {name.ljust(width)} | {mean:.3f} ± {std:.3f} | {seconds:7.1f}s |")
    gain = rows[-1][1] - rows[0][1]
    print(f"\nGain of sk_ssl embeddings over raw pixels: {100 * gain:+.1f} accuracy points.")
    _write_results(args, rows)
    return rows


def _results_dir(args):
    if args.results_dir is not None:
        return Path(args.results_dir)
    # Only the default setting is what README.md quotes: other settings write nowhere unless asked.
    defaults = _parser().parse_args([])
    if (args.epochs, args.per_class, args.label_seeds) != (defaults.epochs, defaults.per_class, defaults.label_seeds):
        return None
    checkout = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
    return checkout if checkout.is_dir() else None


def _write_results(args, rows):
    """Write the printed table to ``demo.json`` / ``demo.md`` (what README.md quotes)."""
    out = _results_dir(args)
    if out is None:
        return
    import torch

    out.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": "demo",
        "command": "make demo (python -m sk_ssl.demo)",
        "epochs": args.epochs,
        "per_class": args.per_class,
        "label_seeds": args.label_seeds,
        "hardware": f"{platform.machine()}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "rows": [
            {"method": name, "mean": round(float(mean), 3), "std": round(float(std), 3),
             "fit_seconds": round(seconds, 1)}  # fmt: skip
            for name, mean, std, seconds in rows
        ],
    }
    (out / "demo.json").write_text(json.dumps(payload, indent=2) + "\n")
    lines = ["| method | test accuracy | fit time (s) |", "|---|---|---|"]
    lines += [f"| {r['method']} | {r['mean']:.3f} ± {r['std']:.3f} | {r['fit_seconds']:.1f} |" for r in payload["rows"]]
    protocol = "\n\n".join(__doc__.split("\n\n")[1:3])  # the docstring's description and protocol paragraphs
    table = "\n".join(lines)
    (out / "demo.md").write_text(f"## make demo\n\n{protocol}\n\n{table}\n\nHardware: {payload['hardware']}.\n")
    print(f"Results written to {out / 'demo.json'}")


if __name__ == "__main__":
    main()
