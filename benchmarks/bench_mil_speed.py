"""Packed multi-bag batches vs one bag per step on MUSK2: epoch time and accuracy.

Run ``python benchmarks/bench_mil_speed.py`` (``--quick`` for a smoke run).
Writes ``benchmarks/results/mil_speed.{json,md}``. ``--profile`` instead
profiles one fold's fit (cProfile, a few epochs) at 16 bags and at one bag per
step and writes where an epoch's time goes, ``mil_speed_profile.{json,md}``.

MUSK2 has 102 bags of 1 to 1,044 instances (6,598 in all, 166 features), the
raggedest of the classic MIL sets. Every fold of a stratified 10-fold CV fits
``MILMultitaskClassifier(pooling="attention")`` with ``bench_mil.PARAMS`` and
each batch size in turn (same folds, same seed per fold), and records per epoch
the wall-clock seconds (``history_[i]["dur"]``) and the process CPU seconds
(robust to other jobs on a shared machine), plus held-out bag accuracy.

The "instance MLP only" row is a floor: the same instance encoder and AdamW
trained on the same instances in as many steps as 16 bags per step, with no
MIL part and no skorch, i.e. the arithmetic an epoch cannot avoid. The "bare
torch loop" rows train the estimator's own model (built afresh) on
the same packed batches with a plain ``for`` loop and AdamW, without skorch,
callbacks or the engine: the difference to the estimator's row is what the
engine costs per epoch.
"""

import argparse
import cProfile
import pstats
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
from sk_ssl._engine import _BatchLoader  # noqa: E402
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


def bare_loop_epoch(clf, bags, y, batch_size, epochs, seed):
    """CPU seconds per epoch of ``clf``'s model (built afresh) trained by a bare torch loop, no skorch."""
    instances, lengths = clf._check_bags(bags, None, reset=False)
    dataset = clf._bag_dataset(instances, lengths, clf._check_targets(y, len(y), reset=False))
    torch.manual_seed(seed)
    model, criterion = clf._build(dataset)  # the model and loss the estimator trains, newly initialised
    model.train()
    loader = _BatchLoader(dataset, batch_size, shuffle=True, drop_last=True,
                          generator=torch.Generator().manual_seed(seed))  # fmt: skip
    optimizer = torch.optim.AdamW(model.parameters(), lr=PARAMS["learning_rate"], weight_decay=PARAMS["weight_decay"])
    out = []
    for _ in range(epochs):
        start = time.process_time()
        for X, y_batch in loader:
            optimizer.zero_grad()
            criterion(model(**X), y_batch).backward()
            optimizer.step()
        out.append(time.process_time() - start)
    return out


_C_CALLS = [  # (part, how to recognise a C call: its name, or the file of the Python code calling it)
    ("linear layers, forward (matrix products of encoder, attention and head)", "torch._C._nn.linear"),
    ("dropout, forward (random mask)", "torch.dropout"),
    ("backward pass, all gradients (autograd engine)", "run_backward"),
    ("AdamW: update and zero_grad (torch ops)", ("torch/optim/",)),
    ("packing the batches (torch ops)", ("sk_ssl/mil.py:", "sk_ssl/_engine.py:__iter__")),
    ("other forward ops: standardize, tanh, segment softmax and sums, loss",
     ("sk_ssl/models.py:", "sk_ssl/_ragged.py:", "sk_ssl/encoders.py:", "sk_ssl/losses.py:", "sk_ssl/objectives/",
      "torch/nn/")),
    ("torch ops of skorch, engine and callbacks (train mode, loss copies, weight snapshot)", ("",)),
]  # fmt: skip
_PYTHON = "Python: model code, AdamW's loop, skorch, engine, callbacks (the rest of the unprofiled total)"


def _timer_cost(n=100_000):
    """Seconds cProfile adds to the measured time of one C call (its timer), calibrated on a tiny torch op."""
    x = torch.zeros(4)

    def loop():
        for _ in range(n):
            x.add_(1.0)

    start = time.process_time()
    loop()
    bare = (time.process_time() - start) / n  # the op plus the loop's Python: an upper bound of the op alone
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    loop()
    profiler.disable()
    add = "<method 'add_' of 'torch._C.TensorBase' objects>"
    (profiled,) = [v[2] / v[1] for k, v in pstats.Stats(profiler).stats.items() if k[2] == add]
    return max(profiled - bare, 0.0)


def _profile_rows(stats, epoch_cpu, epochs, n_steps, timer_cost):
    """Where an epoch's CPU time goes: ``[(part, seconds per epoch, seconds per step)]``.

    Every C call (torch op) cProfile saw is put in one part of ``_C_CALLS``,
    by its name or by the file of its caller, less ``timer_cost`` per call
    (cProfile's timer); the Python part is the unprofiled epoch time
    ``epoch_cpu`` minus the torch ops.
    """
    parts = dict.fromkeys([name for name, _ in _C_CALLS], 0.0)
    for (file, line, func), (_, ncalls, tottime, _, callers) in stats.stats.items():
        if file != "~":
            continue
        named = next((name for name, key in _C_CALLS if isinstance(key, str) and key in func), None)
        if named is not None:
            parts[named] += tottime - ncalls * timer_cost
            continue
        for (caller_file, _, caller_func), (_, caller_calls, caller_time, _) in callers.items():
            where = f"{caller_file}:{caller_func}"
            part = next(name for name, key in _C_CALLS if not isinstance(key, str) and any(k in where for k in key))
            parts[part] += caller_time - caller_calls * timer_cost
    rows = [(name, max(value, 0.0) / epochs) for name, value in parts.items()]
    rows.append((_PYTHON, epoch_cpu - sum(value for _, value in rows)))  # also takes run-to-run noise
    rows.append(("total: process CPU per epoch, unprofiled", epoch_cpu))
    return [(name, value, value / n_steps) for name, value in rows]


def profile(folds_seed=0, epochs=10):
    """cProfile one fold's fit at 16 bags and at one bag per step; write ``mil_speed_profile.{json,md}``."""
    bags, y = load_mil("musk2", return_X_y=True)
    bags_arr = np.empty(len(bags), dtype=object)
    bags_arr[:] = bags
    train, _ = next(StratifiedKFold(n_splits=10, shuffle=True, random_state=folds_seed).split(np.zeros(len(y)), y))
    out, timer_cost = {}, _timer_cost()
    for bs in (16, 1):
        def fit(callbacks=None):
            clf = MILMultitaskClassifier(max_epochs=epochs, random_state=0, callbacks=callbacks,
                                         **{**PARAMS, "batch_size": bs})  # fmt: skip
            return clf.fit(bags_arr[train], y[train])

        clf = fit([_EpochCPU()])  # unprofiled: the epoch's true CPU time
        epoch_cpu = float(np.mean(clf.history_[:, "cpu"]))
        profiler = cProfile.Profile(time.process_time)  # CPU time: other jobs on the machine do not count
        profiler.enable()
        fit()
        profiler.disable()
        n_steps = int(clf.history_[-1, "train_batch_count"])
        rows = _profile_rows(pstats.Stats(profiler), epoch_cpu, epochs, n_steps, timer_cost)
        out[bs] = dict(n_steps=n_steps, rows=rows)
    parts16 = {name: per_epoch for name, per_epoch, _ in out[16]["rows"]}
    math16 = sum(parts16[name] for name, _ in _C_CALLS[:3]) + parts16[_C_CALLS[5][0]]
    total16, total1 = out[16]["rows"][-1][1], out[1]["rows"][-1][1]
    rows = []
    for (name, per_epoch16, per_step16), (_, per_epoch1, per_step1) in zip(out[16]["rows"], out[1]["rows"]):
        rows.append([name, f"{1e3 * per_epoch16:.1f}", f"{1e3 * per_step16:.2f}", f"{1e3 * per_epoch1:.1f}",
                     f"{1e3 * per_step1:.2f}"])  # fmt: skip
    md = [f"# Where a MIL epoch's CPU time goes on MUSK2 (attention pooling, one fold's {len(train)} training bags, "
          f"{epochs} epochs; {PARAMS} but batch_size)", "",
          markdown_table(["part", f"16 bags per step: ms per epoch ({out[16]['n_steps']} steps)", "ms per step",
                          f"1 bag per step: ms per epoch ({out[1]['n_steps']} steps)", "ms per step"], rows), "",
          "Torch ops: their own CPU time under cProfile (timer `time.process_time`), grouped by name or by the "
          f"Python file that calls them, less the timer's cost per call ({1e6 * timer_cost:.2f} µs, calibrated "
          "on a tiny op). Python: the same fit's unprofiled CPU time per epoch minus the torch ops. With "
          f"batch_size=16 the last {len(train) % 16} of the {len(train)} shuffled bags of an epoch are dropped "
          "(`drop_last`).", "",
          f"Speed-up of 16 bags per step over one bag per step here: {total1 / total16:.1f}x. If everything at 16 "
          f"bags but the model's arithmetic (the first three rows and the other forward ops: {1e3 * math16:.1f} ms) "
          f"cost nothing, it would be {total1 / math16:.1f}x.", "",
          "Command: `OMP_NUM_THREADS=1 python benchmarks/bench_mil_speed.py --profile`."]  # fmt: skip
    payload = dict(epochs=epochs, params=PARAMS, timer_cost_s=timer_cost, results={str(k): v for k, v in out.items()})
    write("mil_speed_profile", payload, "\n".join(md))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (not results)")
    parser.add_argument("--profile", action="store_true", help="profile one fold instead (mil_speed_profile.md)")
    parser.add_argument("--folds", type=int, default=10, help="CV folds (default 10)")
    args = parser.parse_args()
    if args.profile:
        return profile(epochs=2 if args.quick else 10)
    folds, epochs, batch_sizes = (2, 2, [16, 1]) if args.quick else (args.folds, 20, [16, 32, 64, 1])
    bags, y = load_mil("musk2", return_X_y=True)
    bags_arr = np.empty(len(bags), dtype=object)
    bags_arr[:] = bags
    start = time.perf_counter()
    out = {bs: dict(epoch_wall=[], epoch_cpu=[], scores=[]) for bs in batch_sizes}
    floor, bare = [], {16: [], 1: []}
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for fold, (train, test) in enumerate(cv.split(np.zeros(len(y)), y)):
        for bs in batch_sizes:
            params = {**PARAMS, "batch_size": bs}
            clf = MILMultitaskClassifier(max_epochs=epochs, random_state=fold, callbacks=[_EpochCPU()], **params)
            clf.fit(bags_arr[train], y[train])
            out[bs]["epoch_wall"] += [row["dur"] for row in clf.history_]
            out[bs]["epoch_cpu"] += [row["cpu"] for row in clf.history_]
            out[bs]["scores"].append(clf.score(bags_arr[test], y[test]))
            if bs in bare:
                bare[bs] += bare_loop_epoch(clf, bags_arr[train], y[train], bs, epochs, fold)
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
    for bs in bare:
        cpu = float(np.median(bare[bs]))
        label = f"MIL model, bare torch loop (no skorch, no engine), {bs} bag{'s' * (bs > 1)} per step"
        rows.append([label, f"{cpu:.3f}", f"{one_cpu / cpu:.1f}x", "", "", ""])
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
               floor_epoch_cpu=floor, bare_loop_epoch_cpu={str(k): v for k, v in bare.items()},
               total_seconds=total), "\n".join(md))  # fmt: skip


if __name__ == "__main__":
    main()
