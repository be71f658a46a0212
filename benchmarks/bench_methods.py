"""Method table: the ContrastiveEmbedder objectives side by side, same views, encoder and epochs.

One command: ``python benchmarks/bench_methods.py [--quick] [--digits-epochs N] [--tabular-epochs N]``.

* digits (scikit-learn's bundled 8x8 images, SimCLR views, the small CNN):
  75/25 stratified split per seed, pretraining on the training split only,
  logistic regression (standardized) on 10 labels per class, 5 seeds.
* phoneme (../shared/data, SCARF views, the 4 x 256 MLP): 70/30 stratified
  split per seed, logistic regression on 10 % of the training labels, 5 seeds.

Objectives: the 0.1 default (SimCLR on images, SCARF on tables), VICReg,
Barlow Twins and BYOL. Baselines on the same splits and label draws: raw
features and the same encoder at its seeded initialisation. Reported: probe
accuracy, pretraining time and the last epoch's training loss (each objective
has its own loss scale: compare the losses over epochs, not across methods).
"""

import argparse
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from _data import load_tabular
from _report import markdown_table, mean_std, write
from bench_contrastive import few_labels, label_fraction, probe
from sk_ssl import ContrastiveEmbedder

OBJECTIVES = ["auto", "vicreg", "barlow_twins", "byol"]


def run_suite(name, X, y, image_shape, seeds, epochs, test_size, labelled):
    """Scores, fit times and final losses per method over ``seeds``."""
    acc, seconds, losses = {}, {}, {}
    for seed in seeds:
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, stratify=y, random_state=seed)
        lab = labelled(y_tr, seed)
        acc.setdefault("raw features + LR", []).append(probe(X_tr[lab], y_tr[lab], X_te, y_te))
        runs = {"random-init encoder + LR": dict(max_epochs=1, learning_rate=1e-12)}
        runs.update({objective: dict(objective=objective, max_epochs=epochs) for objective in OBJECTIVES})
        for method, params in runs.items():
            t = time.perf_counter()
            emb = ContrastiveEmbedder(image_shape=image_shape, random_state=seed, device="cpu", **params).fit(X_tr)
            elapsed = time.perf_counter() - t
            label = method if method.startswith("random") else emb.objective_
            acc.setdefault(label, []).append(probe(emb.transform(X_tr[lab]), y_tr[lab], emb.transform(X_te), y_te))
            seconds.setdefault(label, []).append(elapsed)
            if not method.startswith("random"):
                losses.setdefault(label, []).append(emb.history_[-1]["train_loss"])
            print(f"  {name} seed {seed}: {label}: {acc[label][-1]:.3f} ({elapsed:.0f}s)", flush=True)
    rows = [
        [m, mean_std(v), f"{np.mean(seconds[m]):.1f}" if m in seconds else "-",
         mean_std(losses[m]) if m in losses else "-"]
        for m, v in acc.items()
    ]  # fmt: skip
    return {"accuracy": acc, "fit_seconds": seconds, "final_train_loss": losses}, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (1 seed, 2 epochs)")
    parser.add_argument("--digits-epochs", type=int, default=15)
    parser.add_argument("--tabular-epochs", type=int, default=30)
    args = parser.parse_args()
    seeds = [0] if args.quick else list(range(5))
    d_epochs, t_epochs = (2, 2) if args.quick else (args.digits_epochs, args.tabular_epochs)
    header = ["method", "test accuracy", "fit time (s)", "last train loss"]

    X, y = load_digits(return_X_y=True)
    digits, d_rows = run_suite("digits", X, y, (1, 8, 8), seeds, d_epochs, 0.25, lambda y_, s: few_labels(y_, 10, s))
    X, y, _ = load_tabular("phoneme")
    phoneme, t_rows = run_suite("phoneme", X, y, None, seeds, t_epochs, 0.3, lambda y_, s: label_fraction(y_, 0.1, s))
    md = (
        "## Method table: ContrastiveEmbedder objectives\n\n"
        f"Same views, encoder, projection head, batch size (128), learning rate (1e-3) and epochs for every "
        f"objective; mean ± std over {len(seeds)} seeds (split, label draw and model seed). `scarf`/`simclr` is "
        "`objective=\"auto\"`, the 0.1 default. Losses are on each objective's own scale.\n\n"
        f"### digits (SimCLR views, small CNN, {d_epochs} epochs), 10 labels per class\n\n"
        + markdown_table(header, d_rows)
        + f"\n\n### phoneme (SCARF views, 4 x 256 MLP, {t_epochs} epochs), 10 % of the training labels\n\n"
        + markdown_table(header, t_rows)
    )
    name = "methods_quick" if args.quick else "methods"
    write(name, {"digits": digits, "phoneme": phoneme, "digits_epochs": d_epochs, "tabular_epochs": t_epochs}, md)


if __name__ == "__main__":
    main()
