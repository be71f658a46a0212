"""MILMultitaskClassifier's poolings side by side with torchmil's ABMIL, DSMIL and TransMIL.

Run ``python benchmarks/bench_mil_torchmil.py`` (``--quick`` for a smoke run).
Writes ``benchmarks/results/mil_torchmil.{json,md}``. torchmil is optional:
``pip install torchmil`` into the environment, or point ``--torchmil-site`` at
the ``site-packages`` of a separate environment that has it (this project's
CPU budget run used ``/work/venv-torchmil``, built with the pinned torch). When
torchmil cannot be imported its columns are left out and the run says so.
A data set or a method can run on its own (``--sets musk2 --methods TransMIL
--name PART``); ``--merge mil_torchmil PART ...`` joins the parts' JSON into one
table (a method missing for a data set is marked "not run").

Protocol (the same for every method): MUSK1, MUSK2, FOX, TIGER, ELEPHANT;
stratified 5-fold CV over bags (``random_state=0``; 5 rather than 10 folds to
fit the CPU budget), 20 epochs, the same instance MLP (features -> 256 -> 128
-> 128, ReLU), dropout 0.2 on the instance embeddings, AdamW (lr 1e-3, weight
decay 1e-3), instances standardized with the training fold's statistics, seed
= fold. Ours run with 16 bags per step (``bench_mil.PARAMS``). torchmil's
models run 16 bags per step too, padded by torchmil's ``collate_fn`` (ABMIL
and DSMIL take its mask; TransMIL's forward takes none, so the zero padding of
a batch enters its attention: what a torchmil user gets from batches; one bag
per step would cost ~12 ms a step on this CPU, over the budget). Time is
the process CPU seconds of fit + predict over all folds (one thread).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import RESULTS, markdown_table, mean_std, write  # noqa: E402
from bench_mil import CLASSIC, ILSE_ATTENTION, PARAMS  # noqa: E402

from sk_ssl import MILMultitaskClassifier  # noqa: E402
from sk_ssl.datasets import load_mil  # noqa: E402

OURS = ["attention", "gated_attention", "dsmil", "transformer"]
THEIRS = ["ABMIL (gated)", "DSMIL", "TransMIL"]
WIDTH = 128


def _instance_mlp(n_features):
    """The instance MLP of MILMultitaskClassifier's defaults, for (B, L, F) input, with its embedding dropout."""
    return nn.Sequential(nn.Linear(n_features, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, WIDTH), nn.ReLU(), nn.Dropout(PARAMS["dropout"]))  # fmt: skip


def _torchmil_model(name, n_features):
    from torchmil.models import ABMIL, DSMIL, TransMIL

    if name == "ABMIL (gated)":
        return ABMIL(in_shape=(n_features,), att_dim=128, gated=True, feat_ext=_instance_mlp(n_features)), 16
    if name == "DSMIL":
        return DSMIL(in_shape=(n_features,), att_dim=128, feat_ext=_instance_mlp(n_features)), 16
    return TransMIL(in_shape=(n_features,), att_dim=WIDTH, feat_ext=_instance_mlp(n_features)), 16


def fit_predict_torchmil(name, train_bags, y_train, test_bags, epochs, seed):
    """torchmil's model trained by the small loop it needs; returns test predictions (0/1)."""
    from torchmil.data import collate_fn

    torch.manual_seed(seed)
    scaler = StandardScaler().fit(np.concatenate(train_bags))
    to_tensor = lambda bags: [torch.from_numpy(scaler.transform(b).astype(np.float32)) for b in bags]  # noqa: E731
    train, test = to_tensor(train_bags), to_tensor(test_bags)
    model, batch_size = _torchmil_model(name, train[0].shape[1])
    optimizer = torch.optim.AdamW(model.parameters(), lr=PARAMS["learning_rate"], weight_decay=PARAMS["weight_decay"])
    labels = torch.as_tensor(y_train, dtype=torch.float32)

    def batch(bags, idx, y=None):
        items = [{"X": bags[i], **({} if y is None else {"Y": y[i]})} for i in idx]
        return collate_fn(items)

    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(train)).tolist()
        for start in range(0, len(order), batch_size):
            b = batch(train, order[start : start + batch_size], labels)
            extra = {} if name == "TransMIL" else {"mask": b["mask"]}
            _, losses = model.compute_loss(b["Y"], b["X"], **extra)
            optimizer.zero_grad()
            sum(losses.values()).backward()
            optimizer.step()
    model.eval()
    out = []
    with torch.no_grad():
        step = 64
        for start in range(0, len(test), step):
            b = batch(test, range(start, min(start + step, len(test))))
            extra = {} if name == "TransMIL" else {"mask": b["mask"]}
            pred = model.predict(b["X"], return_inst_pred=False, **extra)
            out.append((pred > 0).long().view(-1).numpy())
    return np.concatenate(out)


def report(payload, name):
    """Write ``<name>.{json,md}`` from a payload (folds, epochs, methods, results, ...)."""
    results = payload["results"]
    done = [n for n in CLASSIC if n in results]
    methods = [m for m in [*OURS, *THEIRS] if any(m in results[n]["fold_scores"] for n in done)]
    labels = {m: f"ours: {m}" if m in OURS else f"torchmil: {m}" for m in methods}

    def cell(n, m):
        scores = results[n]["fold_scores"].get(m)
        return mean_std(scores) if scores else "not run (see below)"

    def seconds(m):
        total = f"{sum(results[n]['cpu_seconds'].get(m, 0.0) for n in done):.0f}"
        missing = [n.upper() for n in done if m not in results[n]["fold_scores"]]
        return total + (f" (without {', '.join(missing)})" if missing else "")

    rows = [[labels[m], *[cell(n, m) for n in done], seconds(m)] for m in methods]
    published = [f"{ILSE_ATTENTION[n]:.3f}" for n in done]
    rows.append(["Ilse et al. 2018, attention (published, 10-fold x5)", *published, ""])
    command = payload.get("command") or f"--epochs {payload['epochs']} --sets {' '.join(done)}"
    summed = f"; summed over {payload['parts']} runs, partly in parallel" if payload.get("parts") else ""
    md = [f"# MIL: sk_ssl's poolings vs torchmil (bag accuracy, stratified {payload['folds']}-fold CV over bags, "
          f"mean ± std over folds; {payload['epochs']} epochs; same folds, instance MLP, dropout, optimizer and seeds "
          "for every row)", "",
          markdown_table(["method", *[n.upper() for n in done], "CPU seconds, fit + predict, all folds"], rows), "",
          "torchmil: 16 bags per step, padded by its collate_fn; ABMIL and DSMIL take its mask, TransMIL's "
          "forward takes none (the batch's zero padding enters its attention; TransMIL is usually trained one bag "
          "per step). Ours: 16 bags per packed step. Our 'transformer' is one pre-norm block with a class token "
          "(no Nystrom, no PPEG), torchmil's TransMIL two Nystrom layers with PPEG.",
          *([payload["skipped"]] if payload.get("skipped") else []),
          *(["", *payload["notes"]] if payload.get("notes") else []), "",
          f"Total run time {payload['total_seconds'] / 60:.1f} min on one torch/BLAS thread (wall clock, shared "
          f"machine{summed}). Command: `OMP_NUM_THREADS=1 python benchmarks/bench_mil_torchmil.py {command}` (add "
          "`--torchmil-site DIR` when torchmil lives in another environment)."]  # fmt: skip
    write(name, {k: v for k, v in payload.items() if k != "command"}, "\n".join(md))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (not results)")
    parser.add_argument("--torchmil-site", default=None, help="a site-packages folder that holds torchmil")
    parser.add_argument("--sets", nargs="+", choices=CLASSIC, default=CLASSIC)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--methods", nargs="+", choices=[*OURS, *THEIRS], default=None,
                        help="run only these methods (default: all); a method left out is reported as not run")
    parser.add_argument("--max-folds", type=int, default=None,
                        help="stop after this many folds (to time a slow method; not results)")
    parser.add_argument("--name", default="mil_torchmil", help="results file name (data sets can run in parallel)")
    parser.add_argument("--merge", nargs="+", metavar="NAME", help="only join the results NAME.json into --name")
    parser.add_argument("--note", action="append", default=None,
                        help="with --merge: a line for the report (e.g. why a cell was not run); repeatable")
    args = parser.parse_args()
    if args.merge:
        parts = [json.loads((RESULTS / f"{n}.json").read_text()) for n in args.merge]
        results = {}
        for part in parts:  # a data set can come in several parts (methods run separately)
            for n, r in part["results"].items():
                results.setdefault(n, {"fold_scores": {}, "cpu_seconds": {}})
                results[n]["fold_scores"].update(r["fold_scores"])
                results[n]["cpu_seconds"].update(r["cpu_seconds"])
        payload = {**parts[0], "results": results,
                   "total_seconds": sum(p["total_seconds"] for p in parts),
                   "parts": sum(p.get("parts", 1) for p in parts),
                   "notes": [*parts[0].get("notes", []), *(args.note or [])]}  # fmt: skip
        return report(payload, args.name)
    if args.torchmil_site:
        sys.path.append(args.torchmil_site)  # appended: this environment's torch and numpy stay first
    try:
        import torchmil  # noqa: F401
    except ImportError as exc:
        theirs, skipped = [], f"torchmil not importable ({exc}); its columns are left out."
        print(skipped)
    else:
        theirs, skipped = THEIRS, ""
    names, folds, epochs = (["musk1"], 2, 2) if args.quick else (args.sets, 5, args.epochs)
    methods = [m for m in [*OURS, *theirs] if args.methods is None or m in args.methods]
    start = time.perf_counter()
    results = {}
    for name in names:
        bags, y = load_mil(name, return_X_y=True)
        bags_arr = np.empty(len(bags), dtype=object)
        bags_arr[:] = bags
        scores = {m: [] for m in methods}
        seconds = {m: 0.0 for m in methods}
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
        for fold, (train, test) in enumerate(cv.split(np.zeros(len(y)), y)):
            if args.max_folds is not None and fold >= args.max_folds:
                break
            for method in methods:
                t = time.process_time()
                if method in OURS:
                    clf = MILMultitaskClassifier(pooling=method, max_epochs=epochs, random_state=fold, **PARAMS)
                    pred = clf.fit(bags_arr[train], y[train]).predict(bags_arr[test])
                else:
                    pred = fit_predict_torchmil(method, list(bags_arr[train]), y[train], list(bags_arr[test]), epochs,
                                                fold)  # fmt: skip
                seconds[method] += time.process_time() - t
                scores[method].append(float(np.mean(pred == y[test])))
        results[name] = dict(fold_scores=scores, cpu_seconds=seconds)
        print(name, {m: (round(float(np.mean(v)), 3), round(seconds[m], 1)) for m, v in scores.items()}, flush=True)
        report(dict(folds=folds, epochs=epochs, params=PARAMS, torchmil=bool(theirs), skipped=skipped,
                    methods=methods, results=results, total_seconds=time.perf_counter() - start,
                    command=" ".join(sys.argv[1:])), args.name + ("_quick" if args.quick else ""))  # fmt: skip


if __name__ == "__main__":
    main()
