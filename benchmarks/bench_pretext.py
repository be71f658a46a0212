"""Pretext tasks and the hybrid objective, side by side with their baselines on the same splits and seeds.

One command: ``python benchmarks/bench_pretext.py [--quick] [--digits-epochs N] [--tabular-epochs N]``
writes two tables:

* ``results/pretext.{json,md}``: digits (scikit-learn's 8x8 images, the small
  CNN): PretextEmbedder ``rotation`` and ``jigsaw`` vs ContrastiveEmbedder
  ``simclr`` (same epochs) vs the same encoder at its seeded initialisation
  and raw pixels. 75/25 stratified split per seed, pretraining on the
  training split only, logistic regression (standardized) on 10 labels per
  class, 5 seeds. Tables (phoneme, letter, covertype): ``mask_estimation`` vs
  ``scarf``.
* ``results/hybrid.{json,md}``: the hybrid ``(contrastive, masked)`` objective
  with ``loss_weights=(1, 1)`` vs each part alone: ``("simclr", "simmim")`` on
  digits, ``("scarf", "vime")`` on phoneme, letter and covertype (a seeded
  5,000-row training pool and 2,000 test rows per seed, probe on 10 % of the
  pool's labels). Frozen linear probe only.

Every run also reports its training loss: the last epoch's, and for the
hybrid and its parts each objective's own loss on the same 512 training rows
and random draws after training (so the hybrid's contrastive loss can be read
against SimCLR's / SCARF's alone, and its masked loss against SimMIM's /
VIME's).
"""

import argparse
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from _data import load_tabular
from _report import markdown_table, mean_std, write
from bench_contrastive import few_labels, label_fraction, probe
from sk_ssl import ContrastiveEmbedder, PretextEmbedder

HYBRIDS = {"image": ("simclr", "simmim"), "tabular": ("scarf", "vime")}


def part_losses(emb, X):
    """Each objective's loss on the first 512 rows of X (fixed draws): {name: loss}."""
    criterion = emb._continued_criterion()
    x = torch.as_tensor(X[:512], dtype=torch.float32)
    torch.manual_seed(0)
    with torch.no_grad():
        out = emb.module_(x)
        if isinstance(emb.objective_, tuple):
            return {name: float(loss) for name, loss in zip(emb.objective_, criterion.loss.part_losses(out))}
        return {emb.objective_: float(criterion(out))}


def masked(objective, **params):
    from sk_ssl import MaskedAutoencoder

    return MaskedAutoencoder(objective=objective, **params)


def run(name, X, y, image_shape, seeds, epochs, test_size, labelled, methods, pool=None):
    """Probe accuracy, fit time, last loss and part losses of every method over ``seeds``."""
    acc, seconds, last, parts = {}, {}, {}, {}
    for seed in seeds:
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, stratify=y, random_state=seed)
        if pool is not None and len(X_tr) > pool:
            keep = np.random.RandomState(seed).choice(len(X_tr), pool, replace=False)
            X_tr, y_tr = X_tr[keep], y_tr[keep]
        lab = labelled(y_tr, seed)
        acc.setdefault("raw features + LR", []).append(probe(X_tr[lab], y_tr[lab], X_te, y_te))
        for method, make in methods.items():
            common = dict(image_shape=image_shape, random_state=seed, device="cpu")
            t = time.perf_counter()
            emb = make(epochs, **common).fit(X_tr)
            elapsed = time.perf_counter() - t
            acc.setdefault(method, []).append(probe(emb.transform(X_tr[lab]), y_tr[lab], emb.transform(X_te), y_te))
            seconds.setdefault(method, []).append(elapsed)
            if not method.startswith("random"):
                last.setdefault(method, []).append(emb.history_[-1]["train_loss"])
                for part, value in part_losses(emb, X_tr).items():
                    parts.setdefault(method, {}).setdefault(part, []).append(value)
            print(f"  {name} seed {seed}: {method}: {acc[method][-1]:.3f} ({elapsed:.0f}s)", flush=True)
    rows = []
    for method, values in acc.items():
        part_text = "; ".join(f"{p} {mean_std(v)}" for p, v in parts.get(method, {}).items()) or "-"
        rows.append([method, mean_std(values), f"{np.mean(seconds[method]):.1f}" if method in seconds else "-",
                     mean_std(last[method]) if method in last else "-", part_text])  # fmt: skip
    return {"accuracy": acc, "fit_seconds": seconds, "final_train_loss": last, "part_losses": parts}, rows


def random_init(epochs, **common):
    return ContrastiveEmbedder(max_epochs=1, learning_rate=1e-12, **common)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (1 seed, 1 epoch, small tables)")
    parser.add_argument("--digits-epochs", type=int, default=12)
    parser.add_argument("--tabular-epochs", type=int, default=20)
    args = parser.parse_args()
    seeds = [0] if args.quick else list(range(5))
    d_epochs, t_epochs = (1, 1) if args.quick else (args.digits_epochs, args.tabular_epochs)
    pool = 500 if args.quick else 5000
    header = ["method", "test accuracy", "fit time (s)", "last train loss", "each objective's loss (512 train rows)"]

    X, y = load_digits(return_X_y=True)
    digit_methods = {
        "random-init encoder + LR": random_init,
        "rotation": lambda e, **c: PretextEmbedder(objective="rotation", max_epochs=e, **c),
        "jigsaw": lambda e, **c: PretextEmbedder(objective="jigsaw", max_epochs=e, **c),
        "simclr": lambda e, **c: ContrastiveEmbedder(objective="simclr", max_epochs=e, **c),
        "simmim": lambda e, **c: masked("simmim", max_epochs=e, **c),
        "simclr + simmim": lambda e, **c: ContrastiveEmbedder(objective=HYBRIDS["image"], max_epochs=e, **c),
    }
    digits, d_rows = run("digits", X, y, (1, 8, 8), seeds, d_epochs, 0.25, lambda y_, s: few_labels(y_, 10, s),
                         digit_methods)  # fmt: skip
    tab_methods = {
        "random-init encoder + LR": random_init,
        "mask_estimation": lambda e, **c: PretextEmbedder(objective="mask_estimation", max_epochs=e, **c),
        "scarf": lambda e, **c: ContrastiveEmbedder(objective="scarf", max_epochs=e, **c),
        "vime": lambda e, **c: masked("vime", max_epochs=e, **c),
        "scarf + vime": lambda e, **c: ContrastiveEmbedder(objective=HYBRIDS["tabular"], max_epochs=e, **c),
    }
    tables, t_rows = {}, {}
    for dataset in ("phoneme", "letter", "covertype"):
        X, y, _ = load_tabular(dataset)
        test_size = 2000 / len(X) if not args.quick else 0.2
        tables[dataset], t_rows[dataset] = run(dataset, X, y, None, seeds, t_epochs, test_size,
                                               lambda y_, s: label_fraction(y_, 0.1, s), tab_methods, pool)  # fmt: skip

    def select(rows, names):
        return [row for row in rows if row[0] in names]

    budget = (
        f"mean ± std over {len(seeds)} seeds (split, label draw and model seed); batch 128, lr 1e-3, "
        f"n_components 256, defaults otherwise. Digits: {d_epochs} epochs, 10 labels per class. Tables: "
        f"{t_epochs} epochs on a seeded {pool}-row training pool, 2,000 test rows, probe on 10 % of the pool's labels."
    )
    pretext_md = (
        "## Pretext tasks vs SimCLR / SCARF vs random init\n\n" + budget + "\n\n"
        f"### digits (small CNN, {d_epochs} epochs), 10 labels per class\n\n"
        + markdown_table(header, select(d_rows, {"raw features + LR", "random-init encoder + LR", "rotation",
                                                  "jigsaw", "simclr"}))  # fmt: skip
    )
    hybrid_md = (
        "## Hybrid objective vs each part alone (frozen linear probe)\n\n" + budget + "\n\n"
        f"### digits: simclr + simmim (small CNN, {d_epochs} epochs), 10 labels per class\n\n"
        + markdown_table(header, select(d_rows, {"raw features + LR", "random-init encoder + LR", "simclr",
                                                  "simmim", "simclr + simmim"}))  # fmt: skip
    )
    for dataset, rows in t_rows.items():
        pretext_md += f"\n\n### {dataset} (4 x 256 MLP, {t_epochs} epochs), 10 % labels\n\n" + markdown_table(
            header, select(rows, {"raw features + LR", "random-init encoder + LR", "mask_estimation", "scarf"})
        )
        hybrid_md += f"\n\n### {dataset}: scarf + vime (4 x 256 MLP, {t_epochs} epochs), 10 % labels\n\n" + markdown_table(
            header, select(rows, {"raw features + LR", "random-init encoder + LR", "scarf", "vime", "scarf + vime"})
        )
    payload = {"digits": digits, **tables, "digits_epochs": d_epochs, "tabular_epochs": t_epochs, "pool": pool}
    suffix = "_quick" if args.quick else ""
    write("pretext" + suffix, payload, pretext_md)
    write("hybrid" + suffix, payload, hybrid_md)


if __name__ == "__main__":
    main()
