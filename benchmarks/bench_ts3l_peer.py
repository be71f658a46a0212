"""Peer library on the raw-DataFrame benchmark: ts3l's SCARF (PyTorch Lightning) on the same splits as bench_tabular_raw.

ts3l takes numeric tensors only: no NaN, no string categories. So each frame is
hand-encoded first (categorical columns as integer codes, missing as its own
code; numeric NaN mean-imputed; standardized with the training rows), which
sk_ssl does not need. Same rows, split, seeds and labelled rows as
``bench_tabular_raw.py``; first phase (SCARF pretraining, corruption 0.6) for
``--epochs`` epochs on every training row, second phase (fine-tuning the
encoder and head, ts3l's defaults: AdamW lr 1e-4, weighted sampler) for 30
epochs on the labelled rows. Runs in its own virtual environment (ts3l pulls
lightning; torch stays the pinned CPU build):

    /work/main/.venv/bin/python -m venv /work/venv-ts3l
    /work/venv-ts3l/bin/pip install -c constraints.txt ts3l
    OMP_NUM_THREADS=1 /work/venv-ts3l/bin/python benchmarks/bench_ts3l_peer.py [--seeds 3] [--fraction 0.1]
"""

import argparse
import json
import logging
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _report  # noqa: E402
from _data import RAW_TABULAR, load_frame  # noqa: E402

warnings.filterwarnings("ignore")
logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
logging.getLogger("lightning").setLevel(logging.ERROR)


def label_fraction(y, fraction, seed):
    """The labelled rows of bench_tabular_raw (a copy of bench_contrastive.label_fraction, whose module imports
    sk_ssl, absent from this environment)."""
    if fraction >= 1:
        return np.arange(len(y))
    rng = np.random.RandomState(seed)
    idx = []
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        idx.append(rng.choice(rows, max(2, int(round(fraction * len(rows)))), replace=False))
    return np.concatenate(idx)


def encode(X_tr, X_te):
    """Hand encoding for ts3l: category codes (missing = its own code), mean-imputed standardized numbers."""
    import pandas as pd

    out_tr, out_te, cat_cols, num_cols = pd.DataFrame(index=X_tr.index), pd.DataFrame(index=X_te.index), [], []
    for col in X_tr.columns:
        if pd.api.types.is_numeric_dtype(X_tr[col]):
            mean, std = X_tr[col].mean(), X_tr[col].std() or 1.0
            out_tr[col] = ((X_tr[col].fillna(mean) - mean) / std).astype(float)
            out_te[col] = ((X_te[col].fillna(mean) - mean) / std).astype(float)
            num_cols.append(col)
        else:
            cats = list(X_tr[col].astype("category").cat.categories)
            lookup = {c: i + 1 for i, c in enumerate(cats)}  # 0: missing or unseen
            out_tr[col] = X_tr[col].map(lookup).astype(float).fillna(0.0)
            out_te[col] = X_te[col].map(lookup).astype(float).fillna(0.0)
            cat_cols.append(col)
    return out_tr, out_te, cat_cols, num_cols


def run_task(name, seed, rows, epochs, fraction):
    from pytorch_lightning import Trainer, seed_everything
    from torch.nn import functional as F
    from torch.utils.data import DataLoader, SequentialSampler
    from ts3l.pl_modules import SCARFLightning
    from ts3l.utils import TS3LDataModule
    from ts3l.utils.backbone_utils import MLPBackboneConfig
    from ts3l.utils.embedding_utils import IdentityEmbeddingConfig
    from ts3l.utils.scarf_utils import SCARFConfig, SCARFDataset

    df, y, classes = load_frame(name)
    rng = np.random.RandomState(seed)
    keep = np.sort(rng.permutation(len(df))[:rows]) if len(df) > rows else np.arange(len(df))
    X_tr, X_te, y_tr, y_te = train_test_split(df.iloc[keep], y[keep], test_size=0.3, stratify=y[keep],
                                              random_state=seed)  # fmt: skip
    lab = label_fraction(y_tr, fraction, seed)
    E_tr, E_te, cat_cols, num_cols = encode(X_tr, X_te)
    seed_everything(seed, verbose=False)
    embedding_config = IdentityEmbeddingConfig(input_dim=E_tr.shape[1])
    backbone_config = MLPBackboneConfig(input_dim=embedding_config.output_dim)
    config = SCARFConfig(task="classification", loss_fn="CrossEntropyLoss", metric="accuracy_score",
                         metric_hparams={}, embedding_config=embedding_config, backbone_config=backbone_config,
                         pretraining_head_dim=1024, output_dim=len(classes), head_depth=2, dropout_rate=0.04,
                         corruption_rate=0.6, random_seed=seed)  # fmt: skip
    model = SCARFLightning(config)
    kw = dict(continuous_cols=num_cols, category_cols=cat_cols)
    trainer_kw = dict(accelerator="cpu", enable_progress_bar=False, enable_model_summary=False, logger=False,
                      enable_checkpointing=False, num_sanity_val_steps=0)  # fmt: skip
    t = time.perf_counter()
    train_ds = SCARFDataset(E_tr, config=config, **kw)
    valid_ds = SCARFDataset(E_tr.iloc[:256], config=config, **kw)
    Trainer(max_epochs=epochs, **trainer_kw).fit(model, TS3LDataModule(train_ds, valid_ds, batch_size=128,
                                                                       train_sampler="random", n_jobs=0))
    model.set_second_phase()
    E_lab, y_lab = E_tr.iloc[lab], y_tr[lab]
    train_ds = SCARFDataset(E_lab, y_lab, is_second_phase=True, **kw)
    valid_ds = SCARFDataset(E_lab, y_lab, is_second_phase=True, **kw)
    Trainer(max_epochs=30, **trainer_kw).fit(model, TS3LDataModule(train_ds, valid_ds, batch_size=128,
                                                                   train_sampler="weighted", n_jobs=0))
    test_ds = SCARFDataset(E_te, is_second_phase=True, **kw)
    preds = Trainer(**trainer_kw).predict(model, DataLoader(test_ds, 512, sampler=SequentialSampler(test_ds)))
    proba = F.softmax(torch.cat([p.cpu() for p in preds]).reshape(len(E_te), -1).float(), dim=1).numpy()
    seconds = time.perf_counter() - t
    accuracy = float(np.mean(proba.argmax(1) == y_te))
    if len(classes) == 2:
        auc = float(roc_auc_score(y_te, proba[:, 1]))
    else:
        auc = float(roc_auc_score(y_te, proba, multi_class="ovr", labels=np.arange(len(classes))))
    return {"dataset": name, "seed": seed, "rows": rows, "epochs": epochs, "fraction": fraction,
            "accuracy": accuracy, "auc": auc, "seconds": seconds}  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--fraction", type=float, default=0.1)
    parser.add_argument("--datasets", nargs="*", default=RAW_TABULAR)
    args = parser.parse_args()
    torch.set_num_threads(1)
    tasks = _report.RESULTS / "ts3l_peer_tasks.jsonl"
    done = set()
    if tasks.exists():
        for line in tasks.read_text().splitlines():
            r = json.loads(line)
            done.add((r["dataset"], r["seed"], r["rows"], r["epochs"], r["fraction"]))
    for name in args.datasets:
        for seed in range(args.seeds):
            if (name, seed, args.rows, args.epochs, args.fraction) in done:
                continue
            record = run_task(name, seed, args.rows, args.epochs, args.fraction)
            print(record, flush=True)
            with tasks.open("a") as f:
                f.write(json.dumps(record) + "\n")
    records = [json.loads(line) for line in tasks.read_text().splitlines()]
    table, summary = [], {}
    for name in args.datasets:
        recs = [r for r in records if r["dataset"] == name and r["rows"] == args.rows and r["epochs"] == args.epochs
                and r["fraction"] == args.fraction]  # fmt: skip
        if recs:
            summary[name] = {k: [r[k] for r in recs] for k in ("auc", "accuracy", "seconds")}
            table.append([name, f"{100 * args.fraction:g} %", "ts3l SCARF (pretrain + fine-tune)",
                          _report.mean_std(summary[name]["auc"]), _report.mean_std(summary[name]["accuracy"]),
                          f"{np.mean(summary[name]['seconds']):.0f} s"])  # fmt: skip
    md = (
        f"## Peer library: ts3l SCARF on the raw-DataFrame splits ({100 * args.fraction:g} % labels)\n\n"
        f"ts3l {__import__('importlib.metadata').metadata.version('ts3l')} (PyTorch Lightning), {args.seeds} seeds, "
        f"at most {args.rows} rows, the splits and labelled rows of `bench_tabular_raw.py`. ts3l needs the frame "
        "hand-encoded (category codes, mean-imputed standardized numbers). First phase: SCARF, corruption 0.6, "
        f"{args.epochs} epochs on every training row; second phase: fine-tuning on the labelled rows, 30 epochs, "
        "ts3l's defaults (AdamW lr 1e-4, MLP backbone, weighted sampler). Test ROC AUC (one-vs-rest macro for "
        "multiclass) and accuracy, mean ± std.\n\n"
        + _report.markdown_table(["dataset", "labels", "method", "ROC AUC", "accuracy", "seconds"], table)
        + f"\n\n    OMP_NUM_THREADS=1 /work/venv-ts3l/bin/python benchmarks/bench_ts3l_peer.py --rows {args.rows} "
        f"--seeds {args.seeds} --epochs {args.epochs} --fraction {args.fraction:g}"
    )
    _report.write("ts3l_peer", {"rows": args.rows, "seeds": args.seeds, "epochs": args.epochs,
                                "fraction": args.fraction, "results": summary}, md)  # fmt: skip
    print(md)


if __name__ == "__main__":
    main()
