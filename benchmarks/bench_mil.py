"""MILMultitaskClassifier on the classic MIL benchmarks, MIML scene, and speed.

Run ``python benchmarks/bench_mil.py`` (``--quick`` for a smoke run, ``--full``
for the literature's protocol). Writes ``benchmarks/results/bench_mil.{json,md}``.

1. MUSK1, MUSK2, FOX, TIGER, ELEPHANT (bundled, ``sk_ssl.datasets``): bag
   accuracy with stratified 10-fold CV over bags; the literature repeats it 5
   times (``--full``), the default run once (time budget). Every method sees the
   same folds; all scaling is fitted inside each fold (MILMultitaskClassifier
   standardizes its training instances; the SVC pipeline scales its pooled
   features). Methods: our attention / gated attention / mean / max pooling, and
   an RBF SVC on mean+max pooled bags. Beside them: the published attention
   row of Ilse et al. (2018) and the best published figure per column.
2. MIML scene (5 labels): one multi-task attention model vs one-vs-rest
   logistic regression on mean-pooled bags, same 5 folds (KFold: stratifying
   multi-label targets is not defined), Zhou & Zhang's five metrics.
3. Algorithmic unit test (Raff & Holt 2023): share of witness-free, poison-free
   bags called positive after training where negatives hold "poison"
   instances; 0 is right under the standard MIL assumption.
4. Speed on MUSK2: wall-clock seconds per epoch with 16 bags per packed step vs
   one bag per step, and the accuracy of both on the same folds
   (``bench_mil_speed.py`` measures CPU time and more batch sizes).
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import coverage_error, hamming_loss, label_ranking_average_precision_score, label_ranking_loss
from sklearn.model_selection import KFold, RepeatedStratifiedKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import markdown_table, mean_std, write  # noqa: E402

from sk_ssl import MILMultitaskClassifier  # noqa: E402
from sk_ssl.datasets import load_mil  # noqa: E402

CLASSIC = ["musk1", "musk2", "fox", "tiger", "elephant"]
POOLINGS = ["attention", "gated_attention", "mean", "max"]
# Ilse et al. 2018, Table 1 (attention-based MIL pooling), and the best figure
# per column in that table (mi-Net/MI-Net, mi-SVM, MI-Kernel, ...).
ILSE_ATTENTION = dict(musk1=0.892, musk2=0.858, fox=0.615, tiger=0.839, elephant=0.868)
BEST_PUBLISHED = dict(musk1=0.909, musk2=0.903, fox=0.630, tiger=0.860, elephant=0.872)
# One setting for every data set (no per-data-set tuning).
PARAMS = dict(learning_rate=1e-3, weight_decay=1e-3, dropout=0.2, batch_size=16, device="cpu")


def pooled(bags):
    """Mean and max of each bag's instances, side by side."""
    return np.array([np.r_[b.mean(0), b.max(0)] for b in bags])


def svc_baseline():
    return make_pipeline(StandardScaler(), SVC(kernel="rbf", C=10.0, gamma="scale"))


def classic(epochs, n_repeats, names):
    results = {}
    for name in names:
        bags, y = load_mil(name, return_X_y=True)
        bags_arr = np.empty(len(bags), dtype=object)
        bags_arr[:] = bags
        cv = RepeatedStratifiedKFold(n_splits=10, n_repeats=n_repeats, random_state=0)
        scores = {m: [] for m in [*POOLINGS, "svc"]}
        seconds = {m: 0.0 for m in scores}
        for fold, (train, test) in enumerate(cv.split(np.zeros(len(y)), y)):
            for pooling in POOLINGS:
                start = time.perf_counter()
                clf = MILMultitaskClassifier(pooling=pooling, max_epochs=epochs, random_state=fold, **PARAMS)
                scores[pooling].append(clf.fit(bags_arr[train], y[train]).score(bags_arr[test], y[test]))
                seconds[pooling] += time.perf_counter() - start
            start = time.perf_counter()
            features = pooled(bags)
            scores["svc"].append(svc_baseline().fit(features[train], y[train]).score(features[test], y[test]))
            seconds["svc"] += time.perf_counter() - start
        # One accuracy per repeat (mean over its 10 folds), as the literature reports.
        per_repeat = {m: np.asarray(v).reshape(n_repeats, -1).mean(1).tolist() for m, v in scores.items()}
        results[name] = dict(fold_scores=scores, repeat_scores=per_repeat, seconds=seconds)
        print(name, {m: round(float(np.mean(v)), 3) for m, v in scores.items()}, flush=True)
    return results


def one_error(Y, scores):
    return float(np.mean(Y[np.arange(len(Y)), scores.argmax(1)] == 0))


def miml_metrics(Y, scores, threshold):
    return {
        "hamming_loss": hamming_loss(Y, (scores > threshold).astype(int)),
        "ranking_loss": label_ranking_loss(Y, scores),
        "one_error": one_error(Y, scores),
        # Zhou & Zhang count coverage from 0; sklearn's coverage_error from 1.
        "coverage": coverage_error(Y, scores) - 1,
        "average_precision": label_ranking_average_precision_score(Y, scores),
    }


def miml(epochs, n_folds):
    bags, Y = load_mil("miml_scene", return_X_y=True)
    bags_arr = np.empty(len(bags), dtype=object)
    bags_arr[:] = bags
    features = np.array([b.mean(0) for b in bags])
    runs = {"attention (multi-task)": [], "one-vs-rest LR, mean-pooled": []}
    for fold, (train, test) in enumerate(KFold(n_folds, shuffle=True, random_state=0).split(features)):
        params = {**PARAMS, "batch_size": 64}
        clf = MILMultitaskClassifier(max_epochs=epochs, random_state=fold, **params).fit(bags_arr[train], Y[train])
        runs["attention (multi-task)"].append(miml_metrics(Y[test], clf.predict_proba(bags_arr[test]), 0.5))
        lr = make_pipeline(StandardScaler(), OneVsRestClassifier(LogisticRegression(max_iter=2000)))
        lr.fit(features[train], Y[train])
        runs["one-vs-rest LR, mean-pooled"].append(miml_metrics(Y[test], lr.predict_proba(features[test]), 0.5))
    print("miml", {k: {m: round(float(np.mean([r[m] for r in v])), 3) for m in v[0]} for k, v in runs.items()})
    return runs


def raff_holt(epochs, seeds):
    """Share of background-only bags called positive (0 obeys the MIL assumption)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_mil import N_FEATURES, _witness_bags

    out = {}
    for pooling in [*POOLINGS, "instance_max"]:
        rates, accs = [], []
        for seed in range(seeds):
            bags, y, _ = _witness_bags(100 + seed, 200, poison_in_negatives=True)
            test_bags, test_y, _ = _witness_bags(200 + seed, 200, poison_in_negatives=True)
            rng = np.random.RandomState(300 + seed)
            background = [rng.normal(size=(rng.randint(4, 13), N_FEATURES)) for _ in range(200)]
            clf = MILMultitaskClassifier(pooling=pooling, max_epochs=epochs, random_state=seed, **PARAMS)
            clf.fit(bags, y[:, 0])
            rates.append(float(np.mean(clf.predict(background) == 1)))
            accs.append(clf.score(test_bags, test_y[:, 0]))
        out[pooling] = dict(background_called_positive=rates, accuracy=accs)
    print("raff-holt", {k: round(float(np.mean(v["background_called_positive"])), 3) for k, v in out.items()})
    return out


def speed(epochs, n_folds):
    bags, y = load_mil("musk2", return_X_y=True)
    bags_arr = np.empty(len(bags), dtype=object)
    bags_arr[:] = bags
    cv = RepeatedStratifiedKFold(n_splits=n_folds, n_repeats=1, random_state=0)
    out = {}
    for batch_size in (16, 1):
        epoch_seconds, scores = [], []
        for fold, (train, test) in enumerate(cv.split(np.zeros(len(y)), y)):
            params = {**PARAMS, "batch_size": batch_size}
            clf = MILMultitaskClassifier(max_epochs=epochs, random_state=fold, **params).fit(bags_arr[train], y[train])
            epoch_seconds += [row["dur"] for row in clf.history_]
            scores.append(clf.score(bags_arr[test], y[test]))
        out[batch_size] = dict(epoch_seconds=epoch_seconds, scores=scores)
    print("speed", {k: (round(float(np.median(v["epoch_seconds"])), 3), round(float(np.mean(v["scores"])), 3))
                    for k, v in out.items()})  # fmt: skip
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (minutes' fraction, not results)")
    parser.add_argument("--full", action="store_true", help="literature protocol: 10-fold CV repeated 5 times")
    args = parser.parse_args()
    if args.quick:
        cfg = dict(epochs=2, repeats=1, names=["musk1"], miml_epochs=1, miml_folds=2, rh_seeds=1, speed_folds=2,
                   speed_epochs=2)
    else:
        cfg = dict(epochs=20, repeats=5 if args.full else 1, names=CLASSIC, miml_epochs=20, miml_folds=5,
                   rh_seeds=3, speed_folds=5, speed_epochs=10)  # fmt: skip
    start = time.perf_counter()
    results = dict(
        classic=classic(cfg["epochs"], cfg["repeats"], cfg["names"]),
        miml=miml(cfg["miml_epochs"], cfg["miml_folds"]),
        raff_holt=raff_holt(cfg["epochs"], cfg["rh_seeds"]),
        speed=speed(cfg["speed_epochs"], cfg["speed_folds"]),
    )
    total = time.perf_counter() - start

    names = cfg["names"]
    labels = {"attention": "ours: attention", "gated_attention": "ours: gated attention", "mean": "ours: mean",
              "max": "ours: max", "svc": "SVC(rbf) on mean+max pooled bags"}  # fmt: skip
    spread = "std over the 5 repeats" if cfg["repeats"] > 1 else "std over the 10 folds"
    rows = []
    for method, label in labels.items():
        cells = []
        for n in names:
            r = results["classic"][n]
            cells.append(mean_std(r["repeat_scores"][method] if cfg["repeats"] > 1 else r["fold_scores"][method]))
        rows.append([label, *cells])
    rows.append(["Ilse et al. 2018, attention (published)", *[f"{ILSE_ATTENTION[n]:.3f}" for n in names]])
    rows.append(["best published (Ilse et al. 2018, Table 1)", *[f"{BEST_PUBLISHED[n]:.3f}" for n in names]])
    protocol = (
        f"stratified 10-fold CV over bags, repeated {cfg['repeats']}x"
        + ("" if cfg["repeats"] == 5 else " (the literature repeats 5x; run with --full for that)")
        + f"; mean ± {spread}; {cfg['epochs']} epochs, one setting for all data sets ({PARAMS}); "
        "same folds for every method; scaling fitted inside each fold"
    )
    md = [f"# MIL benchmarks ({protocol})", "", "## Bag accuracy", "",
          markdown_table(["method", *[n.upper() for n in names]], rows)]  # fmt: skip

    metrics = ["hamming_loss", "ranking_loss", "one_error", "coverage", "average_precision"]
    miml_rows = [[k, *[mean_std([r[m] for r in v]) for m in metrics]] for k, v in results["miml"].items()]
    md += ["", f"## MIML scene, 5 labels ({cfg['miml_folds']}-fold CV, same folds; lower is better except "
           "average precision; coverage counted from 0 as Zhou & Zhang)", "",
           markdown_table(["method", *metrics], miml_rows)]  # fmt: skip

    rh_rows = [[p, mean_std(v["background_called_positive"]), mean_std(v["accuracy"])]
               for p, v in results["raff_holt"].items()]  # fmt: skip
    md += ["", f"## Algorithmic unit test (Raff & Holt 2023 style; {cfg['rh_seeds']} seeds)", "",
           "Negative training bags hold 'poison' instances, positive ones witnesses. A bag of background instances "
           "only must be negative under the standard MIL assumption; the first column is the share called positive "
           "(0 is right). The second column is accuracy on held-out bags of the training kind.", "",
           markdown_table(["pooling", "background-only bags called positive", "held-out accuracy"], rh_rows)]  # fmt: skip

    sp = results["speed"]
    t16, t1 = float(np.median(sp[16]["epoch_seconds"])), float(np.median(sp[1]["epoch_seconds"]))
    md += ["", f"## Speed on MUSK2 (attention, {cfg['speed_epochs']} epochs, {cfg['speed_folds']}-fold CV)", "",
           markdown_table(["steps", "median epoch seconds", "accuracy"], [
               ["16 bags per packed step", f"{t16:.3f}", mean_std(sp[16]["scores"])],
               ["1 bag per step", f"{t1:.3f}", mean_std(sp[1]["scores"])]]),
           "", f"Packed multi-bag batches: {t1 / t16:.1f}x faster per epoch (wall clock; CPU time and other batch "
           "sizes: `bench_mil_speed.py`).",
           "", f"Total run time {total / 60:.1f} min."]  # fmt: skip
    write("bench_mil", dict(config=cfg, params=PARAMS, results=results, total_seconds=total), "\n".join(md))


if __name__ == "__main__":
    main()
