"""Packed multi-bag batches vs one bag per step on MUSK2: epoch time and accuracy.

Run ``python benchmarks/bench_mil_speed.py`` (``--quick`` for a smoke run).
Writes ``benchmarks/results/mil_speed.{json,md}``.

MUSK2 has 102 bags of 1 to 1,044 instances (6,598 in all, 166 features), the
raggedest of the classic MIL sets. Every fold of a stratified 10-fold CV fits
``MILMultitaskClassifier(pooling="attention")`` with ``bench_mil.PARAMS`` and
each batch size in turn (same folds, same seed per fold), and records per epoch
the wall-clock seconds (``history_[i]["dur"]``) and the process CPU seconds
(robust to other jobs on a shared machine), plus held-out bag accuracy.

The "instance MLP only" row is a floor: the same instance encoder and AdamW
trained on the same instances in as many steps as 16 bags per step, with no
MIL part and no skorch, i.e. the arithmetic an epoch cannot avoid.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import markdown_table, mean_std, write  # noqa: E402
from bench_mil import PARAMS  # noqa: E402

from sk_ssl import MILMultitaskClassifier  # noqa: E402
from sk_ssl.datasets import load_mil  # noqa: E402
from sk_ssl.encoders import MLPEncoder  # noqa: E402


class _EpochCPU(Callback):
    """Process CPU seconds of each epoch, recorded as ``history_[i]["cpu"]``."""

    def on_epoch_begin(self, net, **kwargs):
        self._start = time.process_time()

    def on_epoch_end(self, net, **kwargs):
        net.history.record("cpu", time.process_time() - self._start)


def floor_epoch(instances, n_steps, epochs, seed):
    """CPU seconds per epoch of the instance MLP alone on the same rows, ``n_steps`` steps per epoch."""
    torch.manual_seed(seed)
    encoder = MLPEncoder((instances.shape[1],), 128, hidden_dims=(256, 128))
    head = torch.nn.Linear(128, 1)
    params = [*encoder.parameters(), *head.parameters()]
    optimizer = torch.optim.AdamW(params, lr=PARAMS["learning_rate"], weight_decay=PARAMS["weight_decay"])
    X = torch.from_numpy(instances.astype(np.float32))
    out = []
    for _ in range(epochs):
        start = time.process_time()
        for chunk in X[torch.randperm(len(X))].chunk(n_steps):
            optimizer.zero_grad()
            head(encoder(chunk)).mean().backward()
            optimizer.step()
        out.append(time.process_time() - start)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (not results)")
    args = parser.parse_args()
    folds, epochs, batch_sizes = (2, 2, [16, 1]) if args.quick else (10, 20, [16, 32, 64, 1])
    bags, y = load_mil("musk2", return_X_y=True)
    bags_arr = np.empty(len(bags), dtype=object)
    bags_arr[:] = bags
    start = time.perf_counter()
    out = {bs: dict(epoch_wall=[], epoch_cpu=[], scores=[]) for bs in batch_sizes}
    floor = []
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for fold, (train, test) in enumerate(cv.split(np.zeros(len(y)), y)):
        for bs in batch_sizes:
            params = {**PARAMS, "batch_size": bs}
            clf = MILMultitaskClassifier(max_epochs=epochs, random_state=fold, callbacks=[_EpochCPU()], **params)
            clf.fit(bags_arr[train], y[train])
            out[bs]["epoch_wall"] += [row["dur"] for row in clf.history_]
            out[bs]["epoch_cpu"] += [row["cpu"] for row in clf.history_]
            out[bs]["scores"].append(clf.score(bags_arr[test], y[test]))
        n_steps = int(np.ceil(len(train) / 16))
        floor += floor_epoch(np.concatenate(list(bags_arr[train])), n_steps, epochs, fold)
        print(fold, {bs: (round(float(np.median(v["epoch_cpu"])), 4), round(float(np.mean(v["scores"])), 3))
                     for bs, v in out.items()}, flush=True)  # fmt: skip
    total = time.perf_counter() - start
    one_cpu, one_wall = float(np.median(out[1]["epoch_cpu"])), float(np.median(out[1]["epoch_wall"]))
    rows = []
    for bs in batch_sizes:
        cpu, wall = float(np.median(out[bs]["epoch_cpu"])), float(np.median(out[bs]["epoch_wall"]))
        label = "1 bag per step" if bs == 1 else f"{bs} bags per packed step"
        rows.append([label, f"{cpu:.3f}", f"{one_cpu / cpu:.1f}x", f"{wall:.3f}", f"{one_wall / wall:.1f}x",
                     mean_std(out[bs]["scores"])])  # fmt: skip
    floor_cpu = float(np.median(floor))
    rows.append(["instance MLP only, 16 bags' worth per step (floor, no MIL, no skorch)", f"{floor_cpu:.3f}",
                 f"{one_cpu / floor_cpu:.1f}x", "", "", ""])  # fmt: skip
    md = [f"# MIL speed on MUSK2: packed multi-bag batches vs one bag per step (attention pooling; stratified "
          f"{folds}-fold CV, same folds and seeds for every row; {epochs} epochs; {PARAMS} but batch_size)", "",
          markdown_table(["steps", "median epoch CPU s", "speed-up (CPU)", "median epoch wall s", "speed-up (wall)",
                          "accuracy, mean ± std over folds"], rows), "",  # fmt: skip
          f"Total run time {total / 60:.1f} min on one torch/BLAS thread. Command: "
          "`OMP_NUM_THREADS=1 python benchmarks/bench_mil_speed.py`."]  # fmt: skip
    write("mil_speed" + ("_quick" if args.quick else ""),
          dict(folds=folds, epochs=epochs, params=PARAMS, results={str(k): v for k, v in out.items()},
               floor_epoch_cpu=floor, total_seconds=total), "\n".join(md))  # fmt: skip


if __name__ == "__main__":
    main()
