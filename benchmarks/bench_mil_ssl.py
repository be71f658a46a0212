"""Self-supervised instance encoders for MIL: SCARF / VIME pretraining vs training from scratch.

Run ``python benchmarks/bench_mil_ssl.py`` (``--quick`` for a smoke run,
``--sets`` to choose). Writes ``benchmarks/results/mil_ssl.{json,md,png}``
after each data set, so a partial run keeps what it finished; data sets can
run as parallel processes (``--name``) and be joined with ``--merge``.

For each data set and seed, the bags are split into a training part and a
test part; 10 % or 100 % of the training bags keep their labels. The instance
encoder is pretrained without labels on *all* instances of the training part
(labelled bags or not; never the test bags) by ``ContrastiveEmbedder``
(SCARF) or ``MaskedAutoencoder`` (VIME), handed to
``MILMultitaskClassifier(instance_encoder=...)`` (which uses the embedder's
``export_encoder()``) and fine-tuned with the labelled bags; "scratch" is the
same MIL model (same instance MLP, features -> 256 -> 256 -> 256 -> 128,
attention pooling, one task per label) from a random initialisation.

Data (all multi-label; test metrics: label-ranking average precision,
micro-F1 at probability 0.5, Hamming loss):

* MIML scene (``sk_ssl.datasets``; 2,000 bags of 9 instances, 15 features,
  5 labels): a random 75 / 25 split per seed.
* HJA birdsong (``../shared/data/mil/hja_birds.npz``; 548 bags, 38 features,
  13 species): a random 75 / 25 split per seed.
* Reuters (``sk_ssl.datasets.load_reuters_sample``: 761 articles, 8 topics;
  its ModApte split, 580 / 181): ``SentenceBagVectorizer`` with TF-IDF
  followed by ``TruncatedSVD(128)`` (fitted on the training articles), since
  the embedders and the MIL instance encoder need dense instances of a
  moderate width (the documented dimensionality step; TF-IDF has ~4,000
  columns here).

A 10 % subset is drawn again (same seed) until every label has a positive and
a negative bag in it.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score, hamming_loss, label_ranking_average_precision_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import RESULTS, markdown_table, mean_std, write  # noqa: E402

from sk_ssl import ContrastiveEmbedder, MaskedAutoencoder, MILMultitaskClassifier, SentenceBagVectorizer  # noqa: E402
from sk_ssl.datasets import load_mil, load_reuters_sample  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mil"
SETS = ["miml_scene", "hja_birds", "reuters"]
FRACTIONS = [0.1, 1.0]
METHODS = ["scratch", "SCARF", "VIME"]
MIL = dict(n_components=128, hidden_dims=(256, 256, 256), learning_rate=1e-3, weight_decay=1e-3, dropout=0.2,
           batch_size=16, device="cpu")  # fmt: skip


def load(name, seed):
    """``(train_bags, Y_train, test_bags, Y_test)`` of one data set for one seed."""
    if name == "reuters":
        data = load_reuters_sample()
        docs, Y, train = np.array(data.data, dtype=object), data.target, np.array(data.split) == "train"
        vectorizer = SentenceBagVectorizer(vectorizer=make_pipeline(
            TfidfVectorizer(sublinear_tf=True, min_df=2), TruncatedSVD(128, random_state=seed)))  # fmt: skip
        vectorizer.fit(list(docs[train]))
        return vectorizer.transform(list(docs[train])), Y[train], vectorizer.transform(list(docs[~train])), Y[~train]
    if name == "hja_birds":
        npz = np.load(DATA / "hja_birds.npz")
        starts = np.flatnonzero(np.r_[True, npz["bag_ids"][1:] != npz["bag_ids"][:-1]])
        bags, Y = np.split(npz["X"], starts[1:]), npz["y"]
    else:
        bags, Y = load_mil(name, return_X_y=True)
    index = np.arange(len(bags))
    train, test = train_test_split(index, test_size=0.25, random_state=seed)
    return [bags[i] for i in train], Y[train], [bags[i] for i in test], Y[test]


def labelled_subset(Y, fraction, seed):
    if fraction >= 1:
        return np.arange(len(Y))
    rng = np.random.RandomState(seed)
    n = max(2, int(round(fraction * len(Y))))
    for _ in range(1000):
        pick = rng.choice(len(Y), n, replace=False)
        if np.all((Y[pick].sum(0) > 0) & (Y[pick].sum(0) < n)):
            return np.sort(pick)
    raise RuntimeError("no labelled subset with both classes of every label")


def scores(Y, proba):
    return dict(average_precision=float(label_ranking_average_precision_score(Y, proba)),
                micro_f1=float(f1_score(Y, proba > 0.5, average="micro", zero_division=0)),
                hamming_loss=float(hamming_loss(Y, proba > 0.5)))  # fmt: skip


def plot(results, path):
    """Average precision per data set: scratch / SCARF / VIME at 10 % and 100 % labelled bags."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(3.6 * len(results), 3.2), layout="constrained", squeeze=False)
    width = 0.8 / len(METHODS)
    for ax, (name, r) in zip(axes[0], results.items()):
        for k, method in enumerate(METHODS):
            values = [[run["average_precision"] for run in r["runs"][f"{method} {int(f * 100)}%"]] for f in FRACTIONS]
            ax.bar(np.arange(len(FRACTIONS)) + (k - (len(METHODS) - 1) / 2) * width, [np.mean(v) for v in values],
                   width, yerr=[np.std(v) for v in values], label=method, capsize=2)  # fmt: skip
        ax.set_xticks(np.arange(len(FRACTIONS)), [f"{int(f * 100)} % labelled" for f in FRACTIONS])
        low = min(np.mean([run["average_precision"] for run in runs]) for runs in r["runs"].values())
        ax.set_ylim(max(0.0, low - 0.1), None)
        ax.set_title(name)
    axes[0][0].set_ylabel("test average precision")
    axes[0][-1].legend(fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report(payload, name):
    """Write ``<name>.{json,md,png}`` from a payload (seeds, epochs, pretrain_epochs, results, total_seconds)."""
    results = payload["results"]
    summed = f"; summed over {payload['parts']} runs, partly in parallel" if payload.get("parts") else ""
    md = [f"# Self-supervised instance encoders for MIL (SCARF / VIME pretraining on all training instances, then "
          f"fine-tuned in MILMultitaskClassifier) vs the same MIL model from scratch; {payload['seeds']} seeds, "
          f"mean ± std; {payload['pretrain_epochs']} pretraining epochs, {payload['epochs']} MIL epochs",
          ""]  # fmt: skip
    for done, r in results.items():
        rows = [[key, *[mean_std([run[m] for run in runs]) for m in ("average_precision", "micro_f1", "hamming_loss")]]
                for key, runs in r["runs"].items()]  # fmt: skip
        cpu = ", ".join(f"{m} {r['cpu_seconds'][m]:.0f}" for m in METHODS)
        md += [f"## {done} ({r['n_train']} training bags, {r['n_test']} test bags; CPU seconds: pretraining "
               f"{r['cpu_seconds']['pretrain']:.0f}, fit + predict {cpu})", "",
               markdown_table(["labelled training bags, method", "average precision (higher is better)",
                               "micro-F1 (higher)", "Hamming loss (lower)"], rows), ""]  # fmt: skip
    command = payload.get("command") or (f"--epochs {payload['epochs']} --pretrain-epochs {payload['pretrain_epochs']}"
                                         f" --seeds {payload['seeds']} --sets {' '.join(results)}")  # fmt: skip
    md += [f"![test average precision per data set]({name}.png)", "",
           f"Setting: MIL {MIL}; embedders n_components=128, batch_size=256, their default MLP (256, 256, 256). "
           f"Total run time {payload['total_seconds'] / 60:.1f} min on one torch/BLAS thread (wall clock, shared "
           f"machine{summed}). Command: `OMP_NUM_THREADS=1 python benchmarks/bench_mil_ssl.py {command}`."]  # fmt: skip
    plot(results, RESULTS / f"{name}.png")
    keep = ("seeds", "epochs", "pretrain_epochs", "mil", "results", "total_seconds", "command", "parts")
    write(name, {k: payload[k] for k in keep if k in payload}, "\n".join(md))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (not results)")
    parser.add_argument("--sets", nargs="+", choices=SETS, default=SETS)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds run are first-seed, first-seed + 1, ...")
    parser.add_argument("--epochs", type=int, default=30, help="MIL epochs")
    parser.add_argument("--pretrain-epochs", type=int, default=30)
    parser.add_argument("--name", default="mil_ssl", help="results file name (a run per data set can run in parallel)")
    parser.add_argument("--merge", nargs="+", metavar="NAME",
                        help="only join the results NAME.json (runs of one setting) into --name")  # fmt: skip
    args = parser.parse_args()
    if args.merge:
        parts = [json.loads((RESULTS / f"{n}.json").read_text()) for n in args.merge]
        joined = {}
        for part in parts:  # a data set in several parts (seeds run in parallel): runs and CPU seconds add up
            for data, r in part["results"].items():
                if data not in joined:
                    joined[data] = json.loads(json.dumps(r))
                    continue
                for key, runs in r["runs"].items():
                    joined[data]["runs"][key] += runs
                for key, seconds in r["cpu_seconds"].items():
                    joined[data]["cpu_seconds"][key] += seconds
        seeds = {len(next(iter(r["runs"].values()))) for r in joined.values()}
        payload = {**parts[0], "results": joined, "seeds": "/".join(map(str, sorted(seeds))),
                   "total_seconds": sum(p["total_seconds"] for p in parts),
                   "parts": sum(p.get("parts", 1) for p in parts)}  # fmt: skip
        payload.pop("command", None)
        return report(payload, args.name)
    seeds, epochs, pre_epochs = (1, 2, 1) if args.quick else (args.seeds, args.epochs, args.pretrain_epochs)
    name = args.name + ("_quick" if args.quick else "")
    start = time.perf_counter()
    results = {}
    for data in args.sets:
        runs = {f"{m} {int(f * 100)}%": [] for f in FRACTIONS for m in METHODS}
        cpu = {"pretrain": 0.0, **{m: 0.0 for m in METHODS}}
        for seed in range(args.first_seed, args.first_seed + seeds):
            train_bags, Y_train, test_bags, Y_test = load(data, seed)
            instances = np.concatenate(train_bags)
            embedders = {"scratch": None}
            for method, cls in [("SCARF", ContrastiveEmbedder), ("VIME", MaskedAutoencoder)]:
                t = time.process_time()
                embedder = cls(objective=method.lower(), n_components=128, max_epochs=pre_epochs, batch_size=256,
                               device="cpu", random_state=seed)  # fmt: skip
                embedders[method] = embedder.fit(instances)
                cpu["pretrain"] += time.process_time() - t
            for fraction in FRACTIONS:
                pick = labelled_subset(Y_train, fraction, seed)
                for method in METHODS:
                    t = time.process_time()
                    clf = MILMultitaskClassifier(instance_encoder=embedders[method], max_epochs=epochs,
                                                 random_state=seed, **MIL)  # fmt: skip
                    clf.fit([train_bags[i] for i in pick], Y_train[pick])
                    proba = clf.predict_proba(test_bags)
                    cpu[method] += time.process_time() - t
                    runs[f"{method} {int(fraction * 100)}%"].append(scores(Y_test, proba))
            print(data, seed, {k: round(v[-1]["average_precision"], 3) for k, v in runs.items()}, flush=True)
        results[data] = dict(runs=runs, cpu_seconds=cpu, n_train=len(Y_train), n_test=len(Y_test))
        report(dict(seeds=seeds, epochs=epochs, pretrain_epochs=pre_epochs, mil=MIL, results=results,
                    total_seconds=time.perf_counter() - start, command=" ".join(sys.argv[1:])), name)  # fmt: skip


if __name__ == "__main__":
    main()
