"""The transformer and DSMIL poolings beside attention on the classic MIL benchmarks.

Run ``python benchmarks/bench_mil_poolings.py`` (``--quick`` for a smoke run).
Writes ``benchmarks/results/mil_poolings.{json,md}``. Same protocol, folds and
setting as ``bench_mil.py``'s bag-accuracy table (stratified 10-fold CV over
bags, run once; 20 epochs; ``bench_mil.PARAMS``), so the attention row here
repeats that table's and the new rows compare with it fold for fold.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import RepeatedStratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import markdown_table, mean_std, write  # noqa: E402
from bench_mil import CLASSIC, ILSE_ATTENTION, PARAMS  # noqa: E402

from sk_ssl import MILMultitaskClassifier  # noqa: E402
from sk_ssl.datasets import load_mil  # noqa: E402

POOLINGS = ["attention", "transformer", "dsmil"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (not results)")
    parser.add_argument("--sets", nargs="+", choices=CLASSIC, default=[n for n in CLASSIC if n != "musk2"],
                        help="data sets (MUSK2 is left out by default: its bags of up to 1,044 instances make the "
                        "transformer's 10 folds take over 15 min on one shared thread)")  # fmt: skip
    args = parser.parse_args()
    names, epochs = (["musk1"], 2) if args.quick else (args.sets, 20)
    start = time.perf_counter()
    results = {}
    for name in names:
        bags, y = load_mil(name, return_X_y=True)
        bags_arr = np.empty(len(bags), dtype=object)
        bags_arr[:] = bags
        cv = RepeatedStratifiedKFold(n_splits=10, n_repeats=1, random_state=0)
        scores = {p: [] for p in POOLINGS}
        seconds = {p: 0.0 for p in POOLINGS}
        for fold, (train, test) in enumerate(cv.split(np.zeros(len(y)), y)):
            for pooling in POOLINGS:
                t = time.perf_counter()
                clf = MILMultitaskClassifier(pooling=pooling, max_epochs=epochs, random_state=fold, **PARAMS)
                scores[pooling].append(clf.fit(bags_arr[train], y[train]).score(bags_arr[test], y[test]))
                seconds[pooling] += time.perf_counter() - t
        results[name] = dict(fold_scores=scores, seconds=seconds)
        print(name, {p: round(float(np.mean(v)), 3) for p, v in scores.items()}, flush=True)
    total = time.perf_counter() - start
    rows = [[p, *[mean_std(results[n]["fold_scores"][p]) for n in names],
             f"{sum(results[n]['seconds'][p] for n in names):.0f}"] for p in POOLINGS]  # fmt: skip
    rows.append(["Ilse et al. 2018, attention (published)", *[f"{ILSE_ATTENTION[n]:.3f}" for n in names], ""])
    md = [f"# MIL poolings: attention, transformer (TransMIL spirit), DSMIL (bag accuracy; stratified 10-fold CV "
          f"over bags, run once, mean ± std over folds; {epochs} epochs; setting {PARAMS}, as bench_mil.py)", "",
          markdown_table(["pooling", *[n.upper() for n in names], "fit seconds, all folds"], rows), "",
          f"Total run time {total / 60:.1f} min on one torch/BLAS thread (wall clock, shared 2-core machine). "
          "Command: `OMP_NUM_THREADS=1 python benchmarks/bench_mil_poolings.py`."]  # fmt: skip
    write("mil_poolings" + ("_quick" if args.quick else ""), dict(epochs=epochs, params=PARAMS, results=results,
                                                                  total_seconds=total), "\n".join(md))  # fmt: skip


if __name__ == "__main__":
    main()
