"""Documents as bags of sentences: MILMultitaskClassifier on real text vs document-level baselines.

Run ``python benchmarks/bench_text_mil.py --suite reuters`` (or ``bbc``,
``miml``, ``miml_check``, ``all``: the first three; ``--quick`` for a smoke run). Each suite writes
``benchmarks/results/text_mil_<suite>.{json,md}``. Data: ``../shared/data``
(``text/`` and ``mil/miml_text.npz``), see benchmarks/_data.py.

1. Reuters-21578 ModApte-90 (7,770 train / 3,019 test, 90 topics,
   multi-label): micro-F1, macro-F1, label-ranking average precision, macro
   average precision and Hamming loss on the test split, for document TF-IDF
   + one-vs-rest LinearSVC and LogisticRegression, mean-pooled sentence
   TF-IDF + one-vs-rest LogisticRegression, and
   ``SentenceBagVectorizer -> MILMultitaskClassifier`` (one model, 90 tasks).
   Also per document group (several topics vs one) and per topic frequency
   (rare topics: fewer than 10 training documents).
2. BBC News (2,225 documents, 5 topics, one per document): accuracy with
   stratified 5-fold CV, same folds and same methods (single task).
3. MIML text (``mil/miml_text.npz``: 2,000 bags of text-segment vectors, 7
   labels): 5-fold CV, MIL settings vs one-vs-rest LR on mean-pooled bags,
   Zhou & Zhang's metrics. The labels are re-aligned with the bags first
   (``_data.load_mil_npz``: the shared copy stores them in another order).
4. MIML label alignment check (``--suite miml_check``): MIML text and MIML
   scene, every method fitted on the same folds three times, on the
   re-aligned training labels, on the labels as stored and on shuffled
   labels, and scored on the re-aligned test labels. Also a univariate test:
   the largest |AUC - 0.5| of any bag-mean feature for any label, against the
   same statistic under shuffled labels.

All vectorizers, scalers and models are fitted on the training part only.
Every run uses one torch/BLAS thread (set ``OMP_NUM_THREADS=1``).
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    coverage_error,
    f1_score,
    hamming_loss,
    label_ranking_average_precision_score,
    label_ranking_loss,
)
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import load_bbc, load_mil_npz, load_reuters_modapte90, miml_label_order  # noqa: E402
from _report import markdown_table, mean_std, write  # noqa: E402

from sk_ssl import ContrastiveEmbedder, MILMultitaskClassifier, SentenceBagVectorizer  # noqa: E402

# Document-level TF-IDF as in the text-categorization literature (sublinear tf, idf, L2 norm).
TFIDF = dict(sublinear_tf=True, min_df=2)
# Sentence vectors: the same TF-IDF, fitted on sentences; max_features bounds the (dense) first layer.
SENTENCE_TFIDF = dict(sublinear_tf=True, min_df=2, max_features=5000)
# One MIL setting for Reuters and BBC (chosen on the bundled Reuters sample, not on these test sets).
MIL_TEXT = dict(
    n_components=128, hidden_dims=(256,), attention_dim=64, learning_rate=1e-3, weight_decay=1e-4, batch_size=32,
    device="cpu",
)  # fmt: skip


def _mean_pooled(bags):
    """Mean of each bag's (sparse) sentence vectors: one row per document."""
    return sp.vstack([sp.csr_matrix(b.mean(axis=0)) for b in bags], format="csr")


def _ovr_lr(C=10.0):
    return OneVsRestClassifier(LogisticRegression(C=C, max_iter=1000))


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


# ------------------------------------------------------------------ Reuters
def _reuters_metrics(Y, pred, scores, rare, several):
    present = Y.sum(0) > 0
    return {
        "micro_f1": f1_score(Y, pred, average="micro", zero_division=0),
        "macro_f1": f1_score(Y, pred, average="macro", zero_division=0),
        "lrap": label_ranking_average_precision_score(Y, scores),
        "macro_ap": average_precision_score(Y[:, present], scores[:, present], average="macro"),
        "hamming_loss": hamming_loss(Y, pred),
        "micro_f1_several_topics": f1_score(Y[several], pred[several], average="micro", zero_division=0),
        "micro_f1_one_topic": f1_score(Y[~several], pred[~several], average="micro", zero_division=0),
        "macro_f1_rare_topics": f1_score(Y[:, rare], pred[:, rare], average="macro", zero_division=0),
        "macro_f1_frequent_topics": f1_score(Y[:, ~rare], pred[:, ~rare], average="macro", zero_division=0),
    }


def reuters(epochs, seeds, quick, on_seed=None):
    train_docs, Y_train, test_docs, Y_test, cats = load_reuters_modapte90()
    if quick:
        train_docs, Y_train, test_docs, Y_test = train_docs[:600], Y_train[:600], test_docs[:200], Y_test[:200]
        keep = (Y_train.sum(0) > 1) & (Y_train.sum(0) < len(Y_train))
        Y_train, Y_test, cats = Y_train[:, keep], Y_test[:, keep], [c for c, k in zip(cats, keep) if k]
    rare = Y_train.sum(0) < 10
    several = Y_test.sum(1) > 1
    runs, seconds = {}, {}

    doc_vec = TfidfVectorizer(**TFIDF).fit(train_docs)
    D_train, D_test = doc_vec.transform(train_docs), doc_vec.transform(test_docs)
    for name, model in [("document TF-IDF + OvR LinearSVC", OneVsRestClassifier(LinearSVC(C=1.0))),
                        ("document TF-IDF + OvR LR", _ovr_lr())]:  # fmt: skip
        _, seconds[name] = _timed(lambda: model.fit(D_train, Y_train))
        scores = model.decision_function(D_test)
        runs[name] = [_reuters_metrics(Y_test, model.predict(D_test), scores, rare, several)]

    vec = SentenceBagVectorizer(vectorizer=TfidfVectorizer(**SENTENCE_TFIDF))
    bags_train, vec_seconds = _timed(lambda: vec.fit_transform(train_docs))
    bags_test = vec.transform(test_docs)
    name = "mean-pooled sentence TF-IDF + OvR LR"
    lr = _ovr_lr()
    _, seconds[name] = _timed(lambda: lr.fit(_mean_pooled(bags_train), Y_train))
    M_test = _mean_pooled(bags_test)
    runs[name] = [_reuters_metrics(Y_test, lr.predict(M_test), lr.decision_function(M_test), rare, several)]

    name = "MIL: sentence bags, attention, 90 tasks in one model"
    runs[name], seconds[name] = [], 0.0
    for seed in range(seeds):
        clf = MILMultitaskClassifier(max_epochs=epochs, random_state=seed, **MIL_TEXT)
        _, t = _timed(lambda: clf.fit(bags_train, Y_train))
        seconds[name] += t / seeds
        scores = clf.decision_function(bags_test)
        runs[name].append(_reuters_metrics(Y_test, clf.predict(bags_test), scores, rare, several))
        print(name, seed, {k: round(v, 3) for k, v in runs[name][-1].items()}, f"{t:.0f}s", flush=True)
        if on_seed is not None and seed + 1 < seeds:  # keep what is done if a long run is stopped
            on_seed(dict(runs=runs, seconds={**seconds, name: seconds[name] * seeds / (seed + 1)},
                         info=_reuters_info(train_docs, test_docs, cats, rare, several, vec, vec_seconds)), seed + 1)
    info = _reuters_info(train_docs, test_docs, cats, rare, several, vec, vec_seconds)
    print("reuters", {k: {m: round(float(np.mean([r[m] for r in v])), 3) for m in v[0]} for k, v in runs.items()})
    return dict(runs=runs, seconds=seconds, info=info)


def _reuters_info(train_docs, test_docs, cats, rare, several, vec, vec_seconds):
    return dict(n_train=len(train_docs), n_test=len(test_docs), n_topics=len(cats), rare_topics=int(rare.sum()),
                test_docs_with_several_topics=int(several.sum()), sentences_train=vec.n_sentences_,
                sentence_features=vec.n_features_out_, sentence_split_seconds=vec_seconds)  # fmt: skip


def reuters_markdown(res, cfg):
    info = res["info"]
    main = ["micro_f1", "macro_f1", "lrap", "macro_ap", "hamming_loss"]
    groups = ["micro_f1_several_topics", "micro_f1_one_topic", "macro_f1_rare_topics", "macro_f1_frequent_topics"]

    def cell(v, m):
        values = [r[m] for r in v]
        return mean_std(values) if len(values) > 1 else f"{values[0]:.3f}"

    rows = [[k, *[cell(v, m) for m in main], f"{res['seconds'][k]:.0f}"] for k, v in res["runs"].items()]
    group_rows = [[k, *[cell(v, m) for m in groups]] for k, v in res["runs"].items()]
    return [
        f"# Reuters-21578 ModApte-90 ({info['n_train']} train / {info['n_test']} test documents, "
        f"{info['n_topics']} topics, multi-label)",
        "",
        f"MIL: {cfg['epochs']} epochs, {cfg['seeds']} seed(s) (mean ± std over seeds; the baselines are "
        f"deterministic), settings {MIL_TEXT}; sentence TF-IDF {SENTENCE_TFIDF} "
        f"({info['sentences_train']} training sentences, {info['sentence_features']} features, sparse bags). "
        f"Document TF-IDF {TFIDF}; LR with C=10, LinearSVC with C=1. Thresholds: each model's own (logit 0, "
        "SVM margin 0). lrap = label-ranking average precision (the MIML 'average precision'); macro_ap = "
        "average precision per topic, averaged over topics with a test document. Published SVM micro-F1 "
        "on ModApte-90: about 0.86 (Joachims 1998; Yang & Liu 1999).",
        "",
        markdown_table(["method", *main, "fit seconds"], rows),
        "",
        "## Where multi-task sharing could help: documents with several topics "
        f"({info['test_docs_with_several_topics']} test documents) and rare topics ({info['rare_topics']} topics with fewer than 10 training documents)",
        "",
        markdown_table(["method", *groups], group_rows),
    ]


# ------------------------------------------------------------------ BBC
def bbc(epochs, n_folds, quick):
    docs, y, topics = load_bbc()
    docs = np.array(docs, dtype=object)
    if quick:
        keep = np.random.RandomState(0).permutation(len(y))[:300]
        docs, y = docs[keep], y[keep]
    names = ["document TF-IDF + OvR LinearSVC", "document TF-IDF + OvR LR", "mean-pooled sentence TF-IDF + OvR LR",
             "MIL: sentence bags, attention"]  # fmt: skip
    scores = {n: [] for n in names}
    seconds = {n: 0.0 for n in names}
    for fold, (train, test) in enumerate(StratifiedKFold(n_folds, shuffle=True, random_state=0).split(docs, y)):
        doc_vec = TfidfVectorizer(**TFIDF).fit(docs[train])
        D_train, D_test = doc_vec.transform(docs[train]), doc_vec.transform(docs[test])
        for name, model in zip(names[:2], [OneVsRestClassifier(LinearSVC(C=1.0)), _ovr_lr()]):
            _, t = _timed(lambda: model.fit(D_train, y[train]))
            seconds[name] += t
            scores[name].append(accuracy_score(y[test], model.predict(D_test)))
        vec = SentenceBagVectorizer(vectorizer=TfidfVectorizer(**SENTENCE_TFIDF))
        bags_train, bags_test = vec.fit_transform(docs[train]), vec.transform(docs[test])
        lr = _ovr_lr()
        _, t = _timed(lambda: lr.fit(_mean_pooled(bags_train), y[train]))
        seconds[names[2]] += t
        scores[names[2]].append(accuracy_score(y[test], lr.predict(_mean_pooled(bags_test))))
        clf = MILMultitaskClassifier(max_epochs=epochs, random_state=fold, **MIL_TEXT)
        _, t = _timed(lambda: clf.fit(bags_train, y[train]))
        seconds[names[3]] += t
        scores[names[3]].append(clf.score(bags_test, y[test]))
        print("bbc fold", fold, {k: round(v[-1], 3) for k, v in scores.items()}, flush=True)
    return dict(scores=scores, seconds=seconds, n_docs=len(y), topics=topics)


def bbc_markdown(res, cfg):
    rows = [[k, mean_std(v), f"{res['seconds'][k] / len(v):.0f}"] for k, v in res["scores"].items()]
    return [
        f"# BBC News ({res['n_docs']} documents, 5 topics: {', '.join(res['topics'])}; stratified "
        f"{cfg['folds']}-fold CV, same folds for every method; mean ± std over folds)",
        "",
        f"MIL: {cfg['epochs']} epochs, settings {MIL_TEXT}, sentence TF-IDF {SENTENCE_TFIDF}; document TF-IDF "
        f"{TFIDF}. Vectorizers fitted inside each fold.",
        "",
        markdown_table(["method", "accuracy", "fit seconds per fold"], rows),
    ]


# ------------------------------------------------------------------ MIML text
def _miml_metrics(Y, scores, threshold):
    return {
        "hamming_loss": hamming_loss(Y, (scores > threshold).astype(int)),
        "ranking_loss": label_ranking_loss(Y, scores),
        "one_error": float(np.mean(Y[np.arange(len(Y)), scores.argmax(1)] == 0)),
        "coverage": coverage_error(Y, scores) - 1,  # Zhou & Zhang count from 0
        "average_precision": label_ranking_average_precision_score(Y, scores),
    }


# MIL settings compared on MIML text. "library defaults" is MILMultitaskClassifier() as shipped.
MIML_SETTINGS = {
    "library defaults (attention, 100 epochs, lr 5e-4)": dict(),
    "bench_mil setting (20 epochs, lr 1e-3, wd 1e-3, dropout 0.2)": dict(
        max_epochs=20, learning_rate=1e-3, weight_decay=1e-3, dropout=0.2),
    "small-set setting: defaults + early_stopping=True": dict(early_stopping=True),
    "small-set setting, pooling='transformer'": dict(early_stopping=True, pooling="transformer"),
    "small-set setting, pooling='dsmil'": dict(early_stopping=True, pooling="dsmil"),
}  # fmt: skip


PRIOR = "label-frequency prior (no features: every bag gets the training label frequencies)"


def _prior_scores(Y_train, n):
    """The same scores for every bag: each label's training frequency (ties broken by label order)."""
    return np.tile(Y_train.mean(0) + 1e-6 * np.arange(Y_train.shape[1])[::-1], (n, 1))


def miml_text(n_folds, quick, settings):
    bags, Y = _load_mil_npz("miml_text")
    if quick:  # a random subset: the bags are stored by scene/topic blocks
        keep = np.sort(np.random.default_rng(0).permutation(len(Y))[:300])
        bags, Y = bags[keep], Y[keep]
    features = np.array([b.mean(0) for b in bags])
    runs = {PRIOR: [], "one-vs-rest LR, mean-pooled": []}
    runs.update({k: [] for k in settings})
    for fold, (train, test) in enumerate(KFold(n_folds, shuffle=True, random_state=0).split(features)):
        runs[PRIOR].append(_miml_metrics(Y[test], _prior_scores(Y[train], len(test)), 0.5))
        lr = make_pipeline(StandardScaler(), OneVsRestClassifier(LogisticRegression(max_iter=2000)))
        lr.fit(features[train], Y[train])
        runs["one-vs-rest LR, mean-pooled"].append(_miml_metrics(Y[test], lr.predict_proba(features[test]), 0.5))
        for name, params in settings.items():
            params = {"device": "cpu", **params, **({"max_epochs": 2} if quick else {})}
            clf = MILMultitaskClassifier(random_state=fold, **params).fit(bags[train], Y[train])
            runs[name].append(_miml_metrics(Y[test], clf.predict_proba(bags[test]), 0.5))
        print("miml_text fold", fold, {k: round(v[-1]["average_precision"], 3) for k, v in runs.items()}, flush=True)
    return dict(runs=runs, settings={k: repr(v) for k, v in settings.items()}, n_bags=len(Y), n_labels=Y.shape[1])


def miml_markdown(res, cfg):
    metrics = ["hamming_loss", "ranking_loss", "one_error", "coverage", "average_precision"]
    rows = [[k, *[mean_std([r[m] for r in v]) for m in metrics]] for k, v in res["runs"].items()]
    return [
        f"# MIML text ({res['n_bags']} bags of text segments, {res['n_labels']} labels; {cfg['folds']}-fold CV, "
        "same folds; lower is better except average precision; coverage counted from 0 as Zhou & Zhang; "
        "threshold 0.5 on probabilities)",
        "",
        markdown_table(["method", *metrics], rows),
        "",
        "Read against the first row: a model that ignores the bags and scores every label by its training "
        "frequency. Its Hamming loss is that of predicting no label at all (labels are sparse), and its ranking "
        "metrics are what any model gets by learning the label prior only. The labels are re-aligned with the bags "
        "(`benchmarks/_data.py::load_mil_npz`; the shared copy stores them in another order, see "
        "`text_mil_miml_check.md`).",
    ]


# ------------------------------------------------------------------ MIML signal check
# Fixed settings (none picked on test folds): early stopping holds out 10 % of the training bags to choose the epoch.
CHECK_MIL = {"MIL small-set setting (attention, early_stopping=True)": dict(early_stopping=True)}
CHECK_SETS = {"miml_text": list(CHECK_MIL), "miml_scene": list(CHECK_MIL)}
# Training labels each method is fitted on; the test labels are always the re-aligned ones.
LABELINGS = ("re-aligned labels", "labels as stored", "shuffled labels")


def _load_mil_npz(name):
    """Bags as an object array, and the labels re-aligned with them (see ``_data.load_mil_npz``)."""
    bag_list, Y = load_mil_npz(name)
    bags = np.empty(len(bag_list), dtype=object)
    bags[:] = bag_list
    return bags, Y


def _max_auc_deviation(F, Y):
    """Largest |AUC - 0.5| over every (feature, label) pair, by the rank-sum formula."""
    from scipy.stats import rankdata

    R = rankdata(F, axis=0)
    pos = Y.sum(0)[:, None]
    auc = (Y.T @ R - pos * (pos + 1) / 2) / (pos * (len(Y) - pos))
    return float(np.abs(auc[:, F.std(0) > 0] - 0.5).max())


def _check_fit(name, bags, F, Y_train, train, test, fold, quick):
    """Scores on the test bags of method ``name`` fitted on (bags[train], Y_train)."""
    if name == PRIOR:
        return _prior_scores(Y_train, len(test))
    if name.startswith("one-vs-rest LR, mean-pooled (C=1"):
        lr = make_pipeline(StandardScaler(), OneVsRestClassifier(LogisticRegression(max_iter=2000)))
        return lr.fit(F[train], Y_train).predict_proba(F[test])
    if name.startswith("one-vs-rest LR, mean-pooled, C by inner"):
        inner = LogisticRegressionCV(Cs=[1e-3, 1e-2, 1e-1, 1.0], cv=3, scoring="neg_log_loss", max_iter=2000)
        lr = make_pipeline(StandardScaler(), OneVsRestClassifier(inner))
        return lr.fit(F[train], Y_train).predict_proba(F[test])
    if name.startswith("random forest"):
        G = np.array([np.r_[b.mean(0), b.max(0)] for b in bags])
        rf = RandomForestClassifier(300, min_samples_leaf=3, random_state=fold, n_jobs=1).fit(G[train], Y_train)
        return np.stack([p[:, 1] for p in rf.predict_proba(G[test])], axis=1)
    params = {**CHECK_MIL[name], **({"max_epochs": 2} if quick else {})}
    if params.get("instance_encoder") == "scarf":  # unsupervised: it never sees the labels, shuffled or not
        params["instance_encoder"] = ContrastiveEmbedder(
            objective="scarf", n_components=128, max_epochs=1 if quick else 30, batch_size=256, device="cpu",
            random_state=fold,
        ).fit(np.concatenate(list(bags[train])))  # fmt: skip
    clf = MILMultitaskClassifier(device="cpu", random_state=fold, **params).fit(bags[train], Y_train)
    return clf.predict_proba(bags[test])


def miml_check(n_folds, quick, n_permutations=50):
    results = {}
    for data, mil_names in CHECK_SETS.items():
        bags, Y = _load_mil_npz(data)
        stored = Y[np.argsort(miml_label_order(len(Y)))]  # the shared file's order, undoing the re-alignment
        if quick:  # a random subset: the bags are stored by scene/topic blocks
            keep = np.sort(np.random.default_rng(0).permutation(len(Y))[:300])
            bags, Y, stored = bags[keep], Y[keep], stored[keep]
        F = np.array([b.mean(0) for b in bags])
        rng = np.random.default_rng(0)
        null = [_max_auc_deviation(F, Y[rng.permutation(len(Y))]) for _ in range(n_permutations)]
        observed = {"re-aligned labels": _max_auc_deviation(F, Y), "labels as stored": _max_auc_deviation(F, stored)}
        names = [PRIOR, "one-vs-rest LR, mean-pooled (C=1, the baseline above)",
                 "one-vs-rest LR, mean-pooled, C by inner 3-fold CV (log-loss)",
                 "random forest on mean+max-pooled bags (300 trees, min_samples_leaf=3)", *mil_names]  # fmt: skip
        runs = {f"{n} | {lab}": [] for n in names for lab in LABELINGS}
        seconds = {n: 0.0 for n in names}
        for fold, (train, test) in enumerate(KFold(n_folds, shuffle=True, random_state=0).split(F)):
            training = dict(zip(LABELINGS, (Y[train], stored[train],
                                            Y[train][np.random.default_rng(100 + fold).permutation(len(train))])))
            for n in names:
                for lab, Y_train in training.items():
                    t = time.process_time()
                    scores = _check_fit(n, bags, F, Y_train, train, test, fold, quick)
                    seconds[n] += time.process_time() - t
                    runs[f"{n} | {lab}"].append(_miml_metrics(Y[test], scores, 0.5))
            print(data, "fold", fold, {k: round(v[-1]["average_precision"], 3) for k, v in runs.items()}, flush=True)
        p_values = {lab: (1 + sum(v >= o for v in null)) / (1 + n_permutations) for lab, o in observed.items()}
        results[data] = dict(runs=runs, cpu_seconds=seconds, n_bags=len(Y), n_labels=Y.shape[1],
                             max_auc_deviation=observed, null_max_auc_deviation=null, p_value=p_values)  # fmt: skip
    return dict(results=results, settings={k: repr(v) for k, v in CHECK_MIL.items()})


def miml_check_markdown(res, cfg):
    metrics = ["average_precision", "hamming_loss", "ranking_loss"]
    md = [f"# MIML label alignment check ({cfg['folds']}-fold CV, the folds of text_mil_miml.md; threshold 0.5)", "",
          "The shared copies of both MIML sets store the bag labels out of step with the bags: the label of the "
          "k-th bag is row `lex[k]` of `y`, where `lex` orders the bag numbers 1..n as strings (\"1\", \"10\", "
          "\"100\", ...). "
          "`benchmarks/_data.py::load_mil_npz` re-aligns them. Each method is fitted on the training bags with "
          "three versions of their labels: re-aligned, as stored, and shuffled across bags; it is always scored "
          "against the re-aligned test labels. A method that learns from the bags must lose when its training "
          "labels are shuffled; labels as stored score like shuffled ones."]  # fmt: skip
    for data, r in res["results"].items():
        names = list(dict.fromkeys(k.split(" | ")[0] for k in r["runs"]))
        rows = [[n, *[" / ".join(mean_std([x[m] for x in r["runs"][f"{n} | {lab}"]]) for lab in LABELINGS)
                      for m in metrics], f"{r['cpu_seconds'][n]:.0f}"] for n in names]  # fmt: skip
        null = np.array(r["null_max_auc_deviation"])
        md += ["", f"## {data} ({r['n_bags']} bags, {r['n_labels']} labels)", "",
               markdown_table(["method", *[f"{m} ({' / '.join(LABELINGS)})" for m in metrics], "CPU s"], rows), "",
               "Univariate test: the largest |AUC - 0.5| of any bag-mean feature for any label is "
               + "; ".join(f"{r['max_auc_deviation'][lab]:.3f} with the {lab} (permutation p = {r['p_value'][lab]:.3f})"
                           for lab in r["max_auc_deviation"])
               + f"; under {len(null)} label shufflings it is {null.mean():.3f} ± {null.std():.3f} (max "
               f"{null.max():.3f})."]  # fmt: skip
    return md


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=["reuters", "bbc", "miml", "miml_check", "all"], default="all")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (not results)")
    parser.add_argument("--epochs", type=int, default=None, help="MIL epochs (Reuters 8, BBC 6 by default)")
    parser.add_argument("--seeds", type=int, default=1, help="MIL seeds on Reuters (1 by default: time budget)")
    args = parser.parse_args()
    suites = ["reuters", "bbc", "miml"] if args.suite == "all" else [args.suite]
    suffix = "_quick" if args.quick else ""
    for suite in suites:
        start = time.perf_counter()
        if suite == "reuters":
            cfg = dict(epochs=2 if args.quick else args.epochs or 8, seeds=args.seeds)
            def partial(res, done, cfg=cfg, start=start):
                part = {**cfg, "seeds": done, "seeds_planned": cfg["seeds"]}
                md = reuters_markdown(res, part) + ["", f"Partial run: {done} of {cfg['seeds']} seeds done after "
                                                    f"{(time.perf_counter() - start) / 60:.1f} min. Command: `OMP_NUM_THREADS=1 python "
                                                    f"benchmarks/bench_text_mil.py --suite reuters --seeds {cfg['seeds']}`."]
                write(f"text_mil_reuters{suffix}", dict(config=part, results=res), "\n".join(md))

            res = reuters(cfg["epochs"], cfg["seeds"], args.quick, on_seed=partial)
            md = reuters_markdown(res, cfg)
        elif suite == "bbc":
            cfg = dict(epochs=2 if args.quick else args.epochs or 6, folds=2 if args.quick else 5)
            res = bbc(cfg["epochs"], cfg["folds"], args.quick)
            md = bbc_markdown(res, cfg)
        elif suite == "miml_check":
            cfg = dict(folds=2 if args.quick else 5)
            res = miml_check(cfg["folds"], args.quick)
            md = miml_check_markdown(res, cfg)
        else:
            cfg = dict(folds=2 if args.quick else 5)
            res = miml_text(cfg["folds"], args.quick, MIML_SETTINGS)
            md = miml_markdown(res, cfg)
        total = time.perf_counter() - start
        md += ["", f"Total run time {total / 60:.1f} min on one torch/BLAS thread (wall clock; the seconds above "
               "include waiting for a shared CPU). Command: "
               f"`OMP_NUM_THREADS=1 python benchmarks/bench_text_mil.py --suite {suite}"
               f"{f' --seeds {args.seeds}' if suite == 'reuters' and args.seeds > 1 else ''}`."]  # fmt: skip
        write(f"text_mil_{suite}{suffix}", dict(config=cfg, results=res, total_seconds=total), "\n".join(md))


if __name__ == "__main__":
    main()
