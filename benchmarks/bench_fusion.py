"""Quality: cross-modal reconstruction and the weighted / transformer fusions of MultiViewEmbedder.

One command: ``python benchmarks/bench_fusion.py [--quick] [--suite all|mfeat|mnist|image_table]``; each
suite writes ``results/fusion_<suite>.{json,md}``.

The protocol of ``bench_multiview.py`` (same splits, seeds, label draws,
epochs and probe, so its rows are reproduced here and the new ones sit next to
them): pretraining on the training split only, then logistic regression on
standardized features with 1 %, 5 %, 10 % and 100 % of the training labels
(stratified, at least 2 per class), scored on the test split.

* mfeat (six views of 2000 digits, 75/25 split per seed): the cross-view
  objective with each fusion (concat: as in ``bench_multiview``;
  weighted, transformer: new; attention is in ``bench_multiview``'s table, same
  splits and seeds), the cross-modal reconstruction objective
  (concat, transformer fusion) and both objectives together (concat).
* MNIST left half / right half (two views of 392 pixels, 3000 training and
  2000 test images drawn per seed): the same methods but reconstruction
  with the transformer fusion.
* Image + table: mfeat's ``pix`` view is a 16 x 15 image of the same digit the
  other five views describe; read as an image view (its own CNN) next to the
  five tabular views (their own MLPs), on the mfeat splits.

Also reported: final training losses, the weights that ``fusion="weighted"``
learns (mean over seeds), and, for the reconstruction models, each view's
test error when rebuilt from the *other* views (MSE in standardized units:
predicting the training mean scores about 1, more for columns that barely
vary in training, such as MNIST's border pixels).
"""

import argparse
import time

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from _data import load_mfeat, load_mnist
from _report import RESULTS, markdown_table, mean_std, write
from bench_multiview import FRACTIONS, label_fraction, probe
from sk_ssl import MultiViewEmbedder

BOTH = ("cross_view", "reconstruction")
METHODS = {  # label -> MultiViewEmbedder parameters
    "cross-view, concat": dict(fusion="concat"),
    "cross-view, weighted (new)": dict(fusion="weighted"),
    "cross-view, transformer (new)": dict(fusion="transformer"),
    "reconstruction, concat (new)": dict(objective="reconstruction", fusion="concat"),
    "reconstruction, transformer (new)": dict(objective="reconstruction", fusion="transformer"),
    "cross-view + reconstruction, concat (new)": dict(objective=BOTH, fusion="concat"),
}
# Fewer fits where they cost most (the CNN) or teach least (MNIST), for the CPU budget.
MNIST_METHODS = [m for m in METHODS if m not in ("reconstruction, transformer (new)",
                                                  "cross-view + reconstruction, concat (new)")]
IMAGE_TABLE_METHODS = {
    "cross-view, concat": dict(fusion="concat"),
    "reconstruction, concat": dict(objective="reconstruction", fusion="concat"),
}


def leave_one_out_errors(emb, X):
    """Per view, the test MSE (standardized units) of rebuilding it from the other views."""
    module = emb.module_.eval()
    x = torch.as_tensor(X, dtype=torch.float32)
    with torch.no_grad():
        inputs, present = module.split(x)
        target = torch.cat([torch.nan_to_num(v.standardize(xv), nan=0.0).flatten(1)
                            for v, xv in zip(module.views, inputs)], dim=1)  # fmt: skip
        _, loo, _ = module.reconstruct(module._encode_inputs(inputs), present)
    widths = [int(np.prod(v.input_shape)) for v in module.views]
    errors = [((o - t) ** 2).mean().item() for o, t in zip(torch.split(loo, widths, 1), torch.split(target, widths, 1))]
    return dict(zip(emb.view_names_, np.round(errors, 3).tolist()))


def run_methods(methods, X_tr, y_tr, X_te, y_te, views, seed, epochs, scores, seconds, extras, baselines):
    features = dict(baselines)
    for label, params in methods.items():
        t = time.perf_counter()
        emb = MultiViewEmbedder(views=views, max_epochs=epochs, random_state=seed, device="cpu", **params).fit(X_tr)
        seconds.setdefault(label, []).append(time.perf_counter() - t)
        features[label] = (emb.transform(X_tr), emb.transform(X_te))
        info = {"first_loss": emb.history_[0]["train_loss"], "last_loss": emb.history_[-1]["train_loss"]}
        if params.get("fusion") == "weighted":
            info["view_weights"] = dict(zip(emb.view_names_, emb.view_weights_.round(3).tolist()))
        if "reconstruction" in emb.objective_:
            info["leave_one_out_mse"] = leave_one_out_errors(emb, X_te)
        extras.setdefault(label, []).append(info)
    for frac in FRACTIONS:
        lab = label_fraction(y_tr, frac, seed)
        for method, (Z_tr, Z_te) in features.items():
            scores.setdefault(method, {}).setdefault(str(frac), []).append(probe(Z_tr[lab], y_tr[lab], Z_te, y_te))


def report(title, intro, scores, seconds, extras, n_labels):
    header = ["method", *[f"{100 * f:g} % ({n_labels[str(f)]} labels)" for f in FRACTIONS], "fit s", "loss first → last"]
    rows = []
    for method in scores:
        info = extras.get(method)
        loss = (f"{np.mean([i['first_loss'] for i in info]):.3f} → {np.mean([i['last_loss'] for i in info]):.3f}"
                if info else "")  # fmt: skip
        fit = f"{np.mean(seconds[method]):.0f}" if method in seconds else ""
        rows.append([method, *[mean_std(scores[method][str(f)]) for f in FRACTIONS], fit, loss])
    lines = [f"## {title}", "", intro, "", markdown_table(header, rows)]
    for method, info in extras.items():
        if "view_weights" in info[0]:
            mean = {v: np.mean([i["view_weights"][v] for i in info]) for v in info[0]["view_weights"]}
            lines += ["", f"Learned view weights ({method}, mean over seeds): "
                      + ", ".join(f"{v} {w:.3f}" for v, w in mean.items())]  # fmt: skip
        if "leave_one_out_mse" in info[0]:
            mean = {v: np.mean([i["leave_one_out_mse"][v] for i in info]) for v in info[0]["leave_one_out_mse"]}
            lines += ["", f"Test MSE of each view rebuilt from the others ({method}, standardized units, mean over "
                      "seeds): " + ", ".join(f"{v} {e:.3f}" for v, e in mean.items())]  # fmt: skip
    return "\n".join(lines)


def mfeat_splits(seeds):
    X, y, views = load_mfeat()
    for seed in seeds:
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
        yield seed, X_tr, X_te, y_tr, y_te, views


def mfeat_suite(seeds, epochs):
    scores, seconds, extras = {}, {}, {}
    for seed, X_tr, X_te, y_tr, y_te, views in mfeat_splits(seeds):
        base = {"raw concatenation": (X_tr, X_te)}
        run_methods(METHODS, X_tr, y_tr, X_te, y_te, views, seed, epochs, scores, seconds, extras, base)
        print(f"  mfeat seed {seed}: " + ", ".join(f"{m}={v['0.01'][-1]:.3f}" for m, v in scores.items()), flush=True)
        yield _summary(mfeat_text, seeds, seed, epochs, y_tr, scores, seconds, extras)


def mfeat_text(n_seeds, epochs, scores, seconds, extras, n_labels):
    intro = (f"75/25 stratified split of the 2000 digits (1500 train / 500 test), {epochs} epochs, default parameters "
             f"otherwise; mean ± std test accuracy over {n_seeds} seeds (split, label draw and model seed), the "
             "protocol and seeds of `bench_multiview.py` (whose table has the attention fusion on the same splits).")  # fmt: skip
    return report("mfeat, six views", intro, scores, seconds, extras, n_labels)


def image_table_suite(seeds, epochs):
    scores, seconds, extras = {}, {}, {}
    for seed, X_tr, X_te, y_tr, y_te, views in mfeat_splits(seeds):
        pix = dict(views)["pix"]
        X_tr, X_te = X_tr.copy(), X_te.copy()
        X_tr[:, pix], X_te[:, pix] = X_tr[:, pix] / 6, X_te[:, pix] / 6  # pixel averages 0..6 -> [0, 1]
        mixed = [(name, cols, (1, 16, 15)) if name == "pix" else (name, cols) for name, cols in views]
        base = {"raw concatenation": (X_tr, X_te), "raw view pix": (X_tr[:, pix], X_te[:, pix])}
        methods = {f"pix as image + 5 tables: {k}": v for k, v in IMAGE_TABLE_METHODS.items()}
        run_methods(methods, X_tr, y_tr, X_te, y_te, mixed, seed, epochs, scores, seconds, extras, base)
        print(f"  image+table seed {seed}: " + ", ".join(f"{m}={v['0.01'][-1]:.3f}" for m, v in scores.items()),
              flush=True)  # fmt: skip
        yield _summary(image_table_text, seeds, seed, epochs, y_tr, scores, seconds, extras)


def image_table_text(n_seeds, epochs, scores, seconds, extras, n_labels):
    intro = ("mfeat's `pix` view (240 pixel averages, a 16 x 15 image of the digit, scaled to [0, 1]) as an image "
             "view with its own CNN (random crops and jitter as augmentation), the other five views (fou, fac, kar, "
             f"zer, mor) as tabular views with their own MLPs; the mfeat splits and seeds, {epochs} epochs, "
             f"{n_seeds} seeds. Compare with the all-tabular rows of the mfeat table (same splits).")  # fmt: skip
    return report("Image + table: mfeat with `pix` as an image", intro, scores, seconds, extras, n_labels)


def mnist_suite(seeds, epochs, n_train, n_test):
    images, labels = load_mnist("train")
    test_images, test_labels = load_mnist("t10k")
    left = np.tile(np.arange(28) < 14, 28)  # columns 0-13 of every image row
    views = [("left", left), ("right", ~left)]
    methods = {k: METHODS[k] for k in MNIST_METHODS}
    scores, seconds, extras = {}, {}, {}
    for seed in seeds:
        rng = np.random.RandomState(seed)
        tr, te = rng.choice(len(images), n_train, replace=False), rng.choice(len(test_images), n_test, replace=False)
        X_tr, y_tr = images[tr].reshape(n_train, -1).astype(np.float32), labels[tr]
        X_te, y_te = test_images[te].reshape(n_test, -1).astype(np.float32), test_labels[te]
        base = {"raw concatenation": (X_tr, X_te)}
        run_methods(methods, X_tr, y_tr, X_te, y_te, views, seed, epochs, scores, seconds, extras, base)
        print(f"  mnist seed {seed}: " + ", ".join(f"{m}={v['0.01'][-1]:.3f}" for m, v in scores.items()), flush=True)
        yield _summary(lambda *a: mnist_text(n_train, n_test, *a), seeds, seed, epochs, y_tr, scores, seconds, extras)


def mnist_text(n_train, n_test, n_seeds, epochs, scores, seconds, extras, n_labels):
    intro = (f"{n_train} training images (pretraining, no labels) and {n_test} test images drawn per seed (the draws "
             f"of `bench_multiview.py`); columns 0-13 and 14-27 of each image as 392 tabular pixels each (MLP "
             f"encoders); {epochs} epochs; mean ± std over {n_seeds} seeds. No attention fusion (as in "
             "`bench_multiview.py`); for the CPU budget no reconstruction with the transformer fusion and no combined "
             "objective here.")  # fmt: skip
    return report("MNIST, left half / right half as two views", intro, scores, seconds, extras, n_labels)


def _summary(text, seeds, seed, epochs, y_tr, scores, seconds, extras):
    """``(payload, markdown)`` of the seeds run so far (written after every seed: a cut-short run keeps them)."""
    n_labels = {str(f): len(label_fraction(y_tr, f, 0)) for f in FRACTIONS}
    n_seeds = list(seeds).index(seed) + 1
    payload = {"seeds": list(seeds)[:n_seeds], "scores": scores, "fit_seconds": seconds, "extras": extras,
               "n_labels": n_labels}  # fmt: skip
    return payload, text(n_seeds, epochs, scores, seconds, extras, n_labels)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--suite", choices=["all", "mfeat", "mnist", "image_table"], default="all")
    args = parser.parse_args()
    if args.quick:
        seeds, epochs, mnist_seeds, mnist_epochs, n_train, n_test = [0], 2, [0], 2, 1000, 500
    else:
        seeds, epochs, mnist_seeds, mnist_epochs, n_train, n_test = range(3), 25, range(2), 15, 3000, 2000
    suites = {  # --suite name -> (result key, run)
        "mfeat": ("mfeat", lambda: mfeat_suite(list(seeds), epochs)),
        "mnist": ("mnist_halves", lambda: mnist_suite(list(mnist_seeds), mnist_epochs, n_train, n_test)),
        "image_table": ("image_table", lambda: image_table_suite(list(seeds)[:2], epochs)),
    }
    for suite, (key, run) in suites.items():
        if args.suite not in ("all", suite):
            continue
        t = time.perf_counter()
        for payload, text in run():
            payload["wall_seconds"] = wall = time.perf_counter() - t
            head = (f"`python benchmarks/bench_fusion.py --suite {suite}{' --quick' if args.quick else ''}` "
                    f"({wall / 60:.0f} min wall; one torch thread, OMP_NUM_THREADS=1, on a machine shared with other "
                    "jobs, so fit seconds are wall time inflated by that). Reduced protocol for the CPU budget: 3 seeds "
                    "on mfeat, 2 (as in `bench_multiview.py`) on a 3000-image subset of MNIST, 2 for the image + "
                    "table example.")  # fmt: skip
            # One file per suite, so that suites can be re-run (or run side by side) on their own.
            name = f"fusion_{key}" + ("_quick" if args.quick else "")
            write(name, payload, text.replace("\n\n", f"\n\n{head}\n\n", 1))
        print((RESULTS / f"{name}.md").read_text(), flush=True)


if __name__ == "__main__":
    main()
