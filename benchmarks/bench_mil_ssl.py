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

* Reuters ModApte-90 (``--sets reuters_modapte``; the full split of
  ``bench_text_mil.py``: 7,770 training / 3,019 test articles, 90 topics,
  loaded by ``benchmarks/_data.py``): ``SentenceBagVectorizer`` with the
  sentence TF-IDF of ``bench_text_mil`` (5,000 features) followed by
  ``TruncatedSVD(256)`` fitted once (``random_state=0``) on the training
  sentences only, in front of *both* scratch and pretrained MIL (the
  embedders and a pretrained ``instance_encoder`` need dense instances).
  MIL settings follow ``bench_text_mil`` (attention_dim 64, batch 32,
  weight decay 1e-4; pass ``--epochs 8``) with the embedders' instance MLP
  (256, 256, 256) so scratch and pretrained share one architecture. Metrics
  (``bench_text_mil``'s): micro-F1, macro-F1, macro average precision,
  label-ranking average precision, Hamming loss, and the several-topic /
  rare-topic groups. Baseline row: document TF-IDF + one-vs-rest LinearSVC
  on the same labelled articles. Written to its own files
  ``mil_ssl_reuters_modapte.{json,md,png}`` (after every seed). Control
  (``--methods sparse``): ``bench_text_mil``'s MIL on the sparse sentence
  TF-IDF itself (no SVD, no pretraining). The committed results are

      --sets reuters_modapte --seeds 3 --epochs 8 --pretrain-epochs 15 --name mil_ssl_reuters_modapte_main --part
      --sets reuters_modapte --methods sparse --fractions 0.1 --seeds 3 --epochs 8 --part \
          --name mil_ssl_reuters_modapte_sparse
      --merge mil_ssl_reuters_modapte_main mil_ssl_reuters_modapte_sparse --name mil_ssl_reuters_modapte

A 10 % subset is drawn again (same seed) until every label has a positive and
a negative bag in it. On ModApte-90 that is impossible (topics with one
training article), so there the 10 % are drawn once and one random positive
article is added for every topic the draw missed (every MIL task needs both
classes); the number of labelled articles is reported.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score, hamming_loss, label_ranking_average_precision_score
from sklearn.model_selection import train_test_split
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import load_mil_npz  # noqa: E402
from _report import RESULTS, markdown_table, mean_std, write  # noqa: E402

from sk_ssl import ContrastiveEmbedder, MaskedAutoencoder, MILMultitaskClassifier, SentenceBagVectorizer  # noqa: E402
from sk_ssl.datasets import load_mil, load_reuters_sample  # noqa: E402

SETS = ["miml_scene", "hja_birds", "reuters"]
MODAPTE = "reuters_modapte"  # the full ModApte-90 split; its own results file (not in the default sets)
FRACTIONS = [0.1, 1.0]
METHODS = ["scratch", "SCARF", "VIME"]
MIL = dict(n_components=128, hidden_dims=(256, 256, 256), learning_rate=1e-3, weight_decay=1e-3, dropout=0.2,
           batch_size=16, device="cpu")  # fmt: skip
# ModApte-90: bench_text_mil's MIL_TEXT, with the embedders' instance MLP (a pretrained encoder brings its own).
MIL_MODAPTE = dict(n_components=128, hidden_dims=(256, 256, 256), attention_dim=64, learning_rate=1e-3,
                   weight_decay=1e-4, batch_size=32, device="cpu")  # fmt: skip
SVD_MODAPTE = 256
BASELINE = "document TF-IDF + OvR LinearSVC"
# Control on ModApte (``--methods sparse``): bench_text_mil's MIL on the sparse sentence TF-IDF, no SVD, no pretraining.
SPARSE = "scratch on sparse sentence TF-IDF (no SVD)"
# ``--methods sparse_vime``: VIME pretrained on the same sparse sentence TF-IDF (all training sentences), then the
# control's MIL fine-tuned from it: pretraining without the SVD step.
SPARSE_VIME = "VIME on sparse sentence TF-IDF (no SVD)"
SHORT = {"svm": BASELINE, "scratch": "scratch", "SCARF": "SCARF", "VIME": "VIME", "sparse": SPARSE,
         "sparse_vime": SPARSE_VIME}  # fmt: skip


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
        bags, Y = load_mil_npz(name)
    else:
        bags, Y = load_mil(name, return_X_y=True)
    index = np.arange(len(bags))
    train, test = train_test_split(index, test_size=0.25, random_state=seed)
    return [bags[i] for i in train], Y[train], [bags[i] for i in test], Y[test]


_MODAPTE = {}


def load_modapte(quick=False):
    """ModApte-90 as sentence bags (TF-IDF -> SVD, fitted on training sentences) and document TF-IDF; cached."""
    if quick not in _MODAPTE:
        from bench_text_mil import SENTENCE_TFIDF, TFIDF

        from _data import load_reuters_modapte90

        train_docs, Y_train, test_docs, Y_test, cats = load_reuters_modapte90()
        if quick:  # a slice; topics kept where the slice has a positive training article
            train_docs, Y_train, test_docs, Y_test = train_docs[:600], Y_train[:600], test_docs[:200], Y_test[:200]
            keep = Y_train.sum(0) > 0
            Y_train, Y_test, cats = Y_train[:, keep], Y_test[:, keep], [c for c, k in zip(cats, keep) if k]
        start = time.process_time()
        vectorizer = SentenceBagVectorizer(vectorizer=make_pipeline(
            TfidfVectorizer(**SENTENCE_TFIDF), TruncatedSVD(SVD_MODAPTE, random_state=0)))  # fmt: skip
        train_bags = vectorizer.fit_transform(train_docs)
        test_bags = vectorizer.transform(test_docs)
        svd = vectorizer.vectorizer_[-1]
        documents = TfidfVectorizer(**TFIDF).fit(train_docs)  # unsupervised, on all training articles
        _MODAPTE[quick] = dict(
            train_docs=train_docs, test_docs=test_docs, train_bags=train_bags, Y_train=Y_train, test_bags=test_bags,
            Y_test=Y_test, categories=cats,
            D_train=documents.transform(train_docs), D_test=documents.transform(test_docs),
            vectorize_cpu_seconds=time.process_time() - start, n_sentences=vectorizer.n_sentences_,
            svd_explained_variance=float(svd.explained_variance_ratio_.sum()),
            sentence_tfidf=SENTENCE_TFIDF, document_tfidf=TFIDF)  # fmt: skip
    return _MODAPTE[quick]


def sparse_bags(d):
    """The same articles as bags of sparse sentence TF-IDF (bench_text_mil's instances), for the control."""
    if "sparse_train" not in d:
        from bench_text_mil import SENTENCE_TFIDF

        vectorizer = SentenceBagVectorizer(vectorizer=TfidfVectorizer(**SENTENCE_TFIDF))
        d["sparse_train"] = vectorizer.fit_transform(d["train_docs"])
        d["sparse_test"] = vectorizer.transform(d["test_docs"])
    return d["sparse_train"], d["sparse_test"]


def modapte_subset(Y, fraction, seed):
    """``fraction`` of the articles at random, plus one random positive article per topic the draw missed."""
    if fraction >= 1:
        return np.arange(len(Y))
    rng = np.random.RandomState(seed)
    pick = set(rng.choice(len(Y), int(round(fraction * len(Y))), replace=False).tolist())
    for topic in np.flatnonzero(Y[sorted(pick)].sum(0) == 0):
        pick.add(int(rng.choice(np.flatnonzero(Y[:, topic]))))
    return np.array(sorted(pick))


def modapte_scores(Y, scores, pred, Y_train):
    """bench_text_mil's Reuters metrics (``average_precision`` = label-ranking AP, as in the other sets)."""
    from bench_text_mil import _reuters_metrics

    out = _reuters_metrics(Y, pred, scores, Y_train.sum(0) < 10, Y.sum(1) > 1)
    out["average_precision"] = out.pop("lrap")
    return {k: float(v) for k, v in out.items()}


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

    fig, axes = plt.subplots(1, len(results), figsize=(3.6 * len(results) + 3.4 * any(MODAPTE == n for n in results),
                                                       3.2), layout="constrained", squeeze=False)  # fmt: skip
    width = 0.8 / len(METHODS)
    for ax, (name, r) in zip(axes[0], results.items()):
        for k, method in enumerate(METHODS):
            if not all(f"{method} {int(f * 100)}%" in r["runs"] for f in FRACTIONS):
                continue
            values = [[run["average_precision"] for run in r["runs"][f"{method} {int(f * 100)}%"]] for f in FRACTIONS]
            ax.bar(np.arange(len(FRACTIONS)) + (k - (len(METHODS) - 1) / 2) * width, [np.mean(v) for v in values],
                   width, yerr=[np.std(v) for v in values], label=method, capsize=2)  # fmt: skip
        for style, other in zip(["k_", "r_"], [BASELINE, SPARSE]):  # ModApte's baseline and control, as marks
            for j, f in enumerate(FRACTIONS):
                values = [run["average_precision"] for run in r["runs"].get(f"{other} {int(f * 100)}%", [])]
                if values:
                    ax.plot([j], [np.mean(values)], style, markersize=60, markeredgewidth=2,
                            label=other if j == 0 or f"{other} {int(FRACTIONS[0] * 100)}%" not in r["runs"] else None)
        ax.set_xticks(np.arange(len(FRACTIONS)), [f"{int(f * 100)} % labelled" for f in FRACTIONS])
        low = min(np.mean([run["average_precision"] for run in runs]) for runs in r["runs"].values())
        ax.set_ylim(max(0.0, low - 0.1), None)
        ax.set_title(name)
    axes[0][0].set_ylabel("test average precision")
    marks = any(key.startswith((BASELINE, SPARSE)) for r in results.values() for key in r["runs"])
    outside = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "markerscale": 0.3}
    axes[0][-1].legend(fontsize=8, **(outside if marks else {}))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def modapte_markdown(r, payload):
    """The ModApte-90 section: bench_text_mil's metrics and groups, the SVM baseline on the same labelled articles."""
    main = ["micro_f1", "macro_f1", "macro_ap", "average_precision", "hamming_loss"]
    groups = ["micro_f1_several_topics", "micro_f1_one_topic", "macro_f1_rare_topics", "macro_f1_frequent_topics"]
    rows = [[key, *[mean_std([run[m] for run in runs]) for m in main]] for key, runs in r["runs"].items()]
    group_rows = [[key, *[mean_std([run[m] for run in runs]) for m in groups]] for key, runs in r["runs"].items()]
    cpu = ", ".join(f"{m} {s:.0f}" for m, s in r["cpu_seconds"].items() if m != "pretrain")
    labelled = sorted({(x["seed"], x["n"]) for x in r["n_labelled"] if x["fraction"] < 1})
    labelled = ", ".join(f"seed {seed}: {n}" for seed, n in labelled)
    from bench_text_mil import MIL_TEXT

    control = [f"Control row '{SPARSE}': bench_text_mil's MIL ({MIL_TEXT}) on the sparse 5,000-column sentence TF-IDF "
               "bags, no SVD and no pretraining (bench_text_mil's Reuters MIL; with all articles labelled it has "
               "micro-F1 0.858 ± 0.002 in text_mil_reuters.md).", ""]  # fmt: skip
    control = control if any(key.startswith(SPARSE) for key in r["runs"]) else []
    return [
        f"## {MODAPTE}: Reuters-21578 ModApte-90 ({r['n_train']} training / {r['n_test']} test articles, "
        f"{r['n_topics']} topics; CPU seconds over all seeds: sentence vectors {r['vectorize_cpu_seconds']:.0f}, "
        f"pretraining {r['cpu_seconds']['pretrain']:.0f}, fit + predict {cpu})", "",
        f"Instances: {r['n_sentences']} training sentences, sentence TF-IDF {r['sentence_tfidf']} -> "
        f"TruncatedSVD({r['svd_components']}) fitted once on the training sentences (explained variance "
        f"{r['svd_explained_variance']:.2f}), in front of scratch and pretrained MIL alike; SCARF / VIME are "
        "pretrained on all training sentences (no labels), never on test articles. Labelled articles per seed at "
        f"10 % (10 % drawn at random + one positive article for each topic the draw missed): "
        f"{labelled or '-'}. Baseline: document TF-IDF {r['document_tfidf']} (fitted on all training "
        "articles, no labels) + one-vs-rest LinearSVC(C=1) fitted on the same labelled articles. Thresholds: "
        "MIL probability 0.5, SVM margin 0. average_precision = label-ranking AP (as in the sets above); "
        "macro_ap = average precision per topic, averaged over topics with a test article.", "",
        markdown_table(["labelled training articles, method", *main], rows), "", *control,
        "Groups (bench_text_mil's): test articles with several topics vs one; rare topics (fewer than 10 training "
        "articles in the full training split) vs the others.", "",
        markdown_table(["labelled training articles, method", *groups], group_rows), "",
    ]  # fmt: skip


def report(payload, name):
    """Write ``<name>.{json,md,png}`` from a payload (seeds, epochs, pretrain_epochs, results, total_seconds)."""
    results = payload["results"]
    summed = f"; summed over {payload['parts']} runs, partly in parallel" if payload.get("parts") else ""
    md = [f"# Self-supervised instance encoders for MIL (SCARF / VIME pretraining on all training instances, then "
          f"fine-tuned in MILMultitaskClassifier) vs the same MIL model from scratch; {payload['seeds']} seeds, "
          f"mean ± std; {payload['pretrain_epochs']} pretraining epochs, {payload['epochs']} MIL epochs",
          ""]  # fmt: skip
    for done, r in results.items():
        if done == MODAPTE:
            md += modapte_markdown(r, payload)
            continue
        rows = [[key, *[mean_std([run[m] for run in runs]) for m in ("average_precision", "micro_f1", "hamming_loss")]]
                for key, runs in r["runs"].items()]  # fmt: skip
        cpu = ", ".join(f"{m} {r['cpu_seconds'][m]:.0f}" for m in METHODS)
        md += [f"## {done} ({r['n_train']} training bags, {r['n_test']} test bags; CPU seconds: pretraining "
               f"{r['cpu_seconds']['pretrain']:.0f}, fit + predict {cpu})", "",
               markdown_table(["labelled training bags, method", "average precision (higher is better)",
                               "micro-F1 (higher)", "Hamming loss (lower)"], rows), ""]  # fmt: skip
    command = payload.get("command") or (f"--epochs {payload['epochs']} --pretrain-epochs {payload['pretrain_epochs']}"
                                         f" --seeds {payload['seeds']} --sets {' '.join(results)}")  # fmt: skip
    plotted = not payload.get("part") and all(f"{m} {int(f * 100)}%" in r["runs"] for r in results.values()
                                              for m in METHODS for f in FRACTIONS)  # fmt: skip
    md += [*([f"![test average precision per data set]({name}.png)", ""] if plotted else []),
           *(["Merged from the runs " + "; ".join(f"`{c}`" for c in payload["commands"]) + ".", ""]
             if payload.get("commands") else []),
           f"Setting: MIL {payload.get('mil', MIL)}; embedders n_components=128, batch_size=256, their default MLP "
           "(256, 256, 256). "
           f"Total run time {payload['total_seconds'] / 60:.1f} min on one torch/BLAS thread (wall clock, shared "
           f"machine{summed}). Command: `OMP_NUM_THREADS=1 python benchmarks/bench_mil_ssl.py {command}`."]  # fmt: skip
    if plotted:
        plot(results, RESULTS / f"{name}.png")
    if payload.get("seeds_planned", payload["seeds"]) != payload["seeds"]:
        md += ["", f"Partial run: {payload['seeds']} of {payload['seeds_planned']} seeds done."]
    keep = ("seeds", "seeds_planned", "epochs", "pretrain_epochs", "mil", "results", "total_seconds", "command",
            "commands", "parts")  # fmt: skip
    write(name, {k: payload[k] for k in keep if k in payload}, "\n".join(md))
    if payload.get("part"):  # a part for --merge: its JSON only (the merged file is the result)
        (RESULTS / f"{name}.md").unlink()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (not results)")
    parser.add_argument("--sets", nargs="+", choices=[*SETS, MODAPTE], default=SETS,
                        help=f"data sets (default: {' '.join(SETS)}; {MODAPTE} alone writes mil_ssl_{MODAPTE}.*)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--methods", nargs="+", choices=list(SHORT), default=None,
                        help="methods to run (default scratch SCARF VIME, plus svm on reuters_modapte; 'sparse': "
                             "the sparse-TF-IDF MIL control, reuters_modapte only)")  # fmt: skip
    parser.add_argument("--fractions", nargs="+", type=float, default=FRACTIONS, help="labelled fractions")
    parser.add_argument("--part", action="store_true", help="write only NAME.json, a part to join with --merge")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds run are first-seed, first-seed + 1, ...")
    parser.add_argument("--epochs", type=int, default=30, help="MIL epochs")
    parser.add_argument("--pretrain-epochs", type=int, default=30)
    parser.add_argument("--name", default=None,
                        help="results file name (default mil_ssl, or mil_ssl_reuters_modapte for that set alone; "
                             "a run per data set can run in parallel)")  # fmt: skip
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
                for key, runs in r["runs"].items():  # a part may hold other methods (e.g. --methods sparse)
                    joined[data]["runs"][key] = joined[data]["runs"].get(key, []) + runs
                for key, seconds in r["cpu_seconds"].items():
                    joined[data]["cpu_seconds"][key] = joined[data]["cpu_seconds"].get(key, 0.0) + seconds
                joined[data]["n_labelled"] = joined[data].get("n_labelled", []) + r.get("n_labelled", [])
        seeds = {len(next(iter(r["runs"].values()))) for r in joined.values()}
        payload = {**parts[0], "results": joined, "seeds": "/".join(map(str, sorted(seeds))),
                   "total_seconds": sum(p["total_seconds"] for p in parts),
                   "parts": sum(p.get("parts", 1) for p in parts),
                   "commands": [c for p in parts for c in p.get("commands", [p.get("command")]) if c]}  # fmt: skip
        payload.pop("seeds_planned", None)
        payload["command"] = " ".join(sys.argv[1:])  # the merge itself; the parts' commands are listed
        return report(payload, args.name or "mil_ssl")
    seeds, epochs, pre_epochs = (1, 2, 1) if args.quick else (args.seeds, args.epochs, args.pretrain_epochs)
    name = args.name or (f"mil_ssl_{MODAPTE}" if args.sets == [MODAPTE] else "mil_ssl")
    name += "_quick" if args.quick else ""
    start = time.perf_counter()
    results = {}
    for data in args.sets:
        modapte = data == MODAPTE
        methods = [BASELINE, *METHODS] if modapte else METHODS
        if args.methods:
            methods = [SHORT[m] for m in args.methods if modapte or SHORT[m] in METHODS]
        runs = {f"{m} {int(f * 100)}%": [] for f in args.fractions for m in methods}
        cpu = {"pretrain": 0.0, **{m: 0.0 for m in methods}}
        extra = {}
        for done, seed in enumerate(range(args.first_seed, args.first_seed + seeds), 1):
            if modapte:
                d = load_modapte(args.quick)
                train_bags, Y_train, test_bags, Y_test = d["train_bags"], d["Y_train"], d["test_bags"], d["Y_test"]
                extra = extra or dict(n_topics=Y_train.shape[1], svd_components=SVD_MODAPTE, n_labelled=[],
                                      **{k: d[k] for k in ("n_sentences", "svd_explained_variance",
                                                           "vectorize_cpu_seconds", "sentence_tfidf",
                                                           "document_tfidf")})  # fmt: skip
            else:
                train_bags, Y_train, test_bags, Y_test = load(data, seed)
            instances = np.concatenate(train_bags)
            embedders = {"scratch": None}
            for method, cls in [("SCARF", ContrastiveEmbedder), ("VIME", MaskedAutoencoder)]:
                if method not in methods:
                    continue
                t = time.process_time()
                embedder = cls(objective=method.lower(), n_components=128, max_epochs=pre_epochs, batch_size=256,
                               device="cpu", random_state=seed)  # fmt: skip
                embedders[method] = embedder.fit(instances)
                cpu["pretrain"] += time.process_time() - t
            for fraction in args.fractions:
                pick = (modapte_subset if modapte else labelled_subset)(Y_train, fraction, seed)
                if modapte:
                    extra["n_labelled"].append(dict(seed=seed, fraction=fraction, n=len(pick)))
                for method in methods:
                    t = time.process_time()
                    key = f"{method} {int(fraction * 100)}%"
                    if method == BASELINE:
                        svm = OneVsRestClassifier(LinearSVC(C=1.0)).fit(d["D_train"][pick], Y_train[pick])
                        runs[key].append(modapte_scores(Y_test, svm.decision_function(d["D_test"]),
                                                        svm.predict(d["D_test"]), Y_train))  # fmt: skip
                        cpu[method] += time.process_time() - t
                        continue
                    if method in (SPARSE, SPARSE_VIME):
                        from bench_text_mil import MIL_TEXT

                        sparse_train, sparse_test = sparse_bags(d)
                        encoder = None
                        if method == SPARSE_VIME:
                            if "sparse_vime" not in embedders:  # once per seed, on every training sentence
                                t_pre = time.process_time()
                                embedders["sparse_vime"] = MaskedAutoencoder(
                                    n_components=128, max_epochs=pre_epochs, batch_size=256, device="cpu",
                                    random_state=seed).fit(sp.vstack(sparse_train).tocsr())  # fmt: skip
                                cpu["pretrain"] += time.process_time() - t_pre
                                t = time.process_time()
                            encoder = embedders["sparse_vime"]
                        clf = MILMultitaskClassifier(instance_encoder=encoder, max_epochs=epochs, random_state=seed,
                                                     **MIL_TEXT)  # fmt: skip
                        clf.fit([sparse_train[i] for i in pick], Y_train[pick])
                        proba, pred = clf.predict_proba(sparse_test), clf.predict(sparse_test)
                        runs[key].append(modapte_scores(Y_test, proba, pred, Y_train))
                        cpu[method] += time.process_time() - t
                        print(data, seed, key, round(runs[key][-1]["average_precision"], 3),
                              f"{time.process_time() - t:.0f} CPU s", flush=True)  # fmt: skip
                        continue
                    clf = MILMultitaskClassifier(instance_encoder=embedders[method], max_epochs=epochs,
                                                 random_state=seed, **(MIL_MODAPTE if modapte else MIL))  # fmt: skip
                    clf.fit([train_bags[i] for i in pick], Y_train[pick])
                    proba = clf.predict_proba(test_bags)
                    cpu[method] += time.process_time() - t
                    if modapte:
                        runs[key].append(modapte_scores(Y_test, proba, clf.predict(test_bags), Y_train))
                    else:
                        runs[key].append(scores(Y_test, proba))
                    print(data, seed, key, round(runs[key][-1]["average_precision"], 3),
                          f"{time.process_time() - t:.0f} CPU s", flush=True)  # fmt: skip
            print(data, seed, {k: round(v[-1]["average_precision"], 3) for k, v in runs.items()}, flush=True)
            results[data] = dict(runs=runs, cpu_seconds=cpu, n_train=len(Y_train), n_test=len(Y_test), **extra)
            if modapte or done == seeds:  # ModApte (the long set): after every seed, so a stopped run keeps them
                report(dict(part=args.part, seeds=done, seeds_planned=seeds, epochs=epochs, pretrain_epochs=pre_epochs,
                            mil=MIL_MODAPTE if args.sets == [MODAPTE] else MIL, results=results,
                            total_seconds=time.perf_counter() - start, command=" ".join(sys.argv[1:])),
                       name)  # fmt: skip

if __name__ == "__main__":
    main()
