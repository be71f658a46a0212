"""SentenceBagVectorizer and sparse bags in MILMultitaskClassifier.

SentenceBagVectorizer takes documents (str), not the 2-D arrays of
``parametrize_with_checks``, so its scikit-learn citizenship (clone,
get/set_params, pickling, not-fitted errors, Pipeline and GridSearchCV) is
tested here directly, as for MILMultitaskClassifier in test_mil.py.
"""

import gzip
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_ssl import MILMultitaskClassifier, SentenceBagVectorizer
from sk_ssl.mil import _SparseBagDataset

TEXT = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "text"
REUTERS = TEXT / "reuters21578" / "reuters21578.jsonl.gz"

EARNINGS = (
    "COBANCO INC <CBCO> YEAR NET\n"
    "Shr 34 cts vs 1.19 dlrs\n"
    "    Net 807,000 vs 2,858,000\n"
    "    Assets 510.2 mln vs 479.7 mln\n"
    "    Note: 4th qtr not available. Year includes 1985\n"
    "extraordinary gain from tax carry forward of 132,000 dlrs, or\n"
    "five cts per shr."
)
PROSE = (
    "CHAMPION PRODUCTS <CH> APPROVES STOCK SPLIT\n"
    "Champion Products Inc said its\n"
    "board of directors approved a two-for-one stock split of its\n"
    "common shares for shareholders of record as of April 1, 1987.\n"
    "    The U.S. company also said its board voted to recommend to\n"
    "shareholders an increase in the authorized capital stock. It did not say more."
)
FAST = dict(n_components=16, hidden_dims=(32,), attention_dim=16, batch_size=16, learning_rate=3e-3, random_state=0,
            device="cpu")  # fmt: skip


def test_split_copes_with_tables_headlines_and_wrapped_prose():
    sentences = SentenceBagVectorizer().get_sentences([EARNINGS, PROSE])
    assert sentences[0] == [
        "COBANCO INC <CBCO> YEAR NET",
        "Shr 34 cts vs 1.19 dlrs",
        "Net 807,000 vs 2,858,000",
        "Assets 510.2 mln vs 479.7 mln",
        "Note: 4th qtr not available.",
        "Year includes 1985 extraordinary gain from tax carry forward of 132,000 dlrs, or five cts per shr.",
    ]
    assert sentences[1] == [
        "CHAMPION PRODUCTS <CH> APPROVES STOCK SPLIT",
        # A short first line followed by wrapped prose is joined; "Inc" and "U.S." do not end a sentence.
        "Champion Products Inc said its board of directors approved a two-for-one stock split of its common shares "
        "for shareholders of record as of April 1, 1987.",
        "The U.S. company also said its board voted to recommend to shareholders an increase in the authorized "
        "capital stock.",
        "It did not say more.",
    ]
    # Punctuation only: the earnings table collapses into two "sentences".
    assert len(SentenceBagVectorizer(split="punctuation").get_sentences([EARNINGS])[0]) == 2
    assert len(SentenceBagVectorizer(split="lines").get_sentences([EARNINGS])[0]) == 7
    quoted = SentenceBagVectorizer(short_line_length=0).get_sentences(['He said "we agree." Talks end (today.) Fine'])
    assert quoted == [['He said "we agree."', "Talks end (today.)", "Fine"]]
    custom = SentenceBagVectorizer(split=lambda doc: doc.split(",")).get_sentences(["a, b, c"])
    assert custom == [["a", " b", " c"]]


def test_bags_align_with_documents_and_sentences():
    docs = [EARNINGS, PROSE, "", "   \n  "]
    vec = SentenceBagVectorizer()
    bags = vec.fit_transform(docs)
    sentences = vec.get_sentences(docs)
    assert len(bags) == 4
    assert [bag.shape[0] for bag in bags] == [len(s) for s in sentences] == [6, 4, 1, 1]
    assert all(sp.issparse(bag) and bag.format == "csr" and bag.shape[1] == vec.n_features_out_ for bag in bags)
    assert bags[2].nnz == 0  # an empty document is one blank sentence, so bags stay aligned with labels
    assert vec.n_sentences_ == 12
    # fit_transform == fit then transform; rows follow get_sentences.
    again = vec.fit(docs).transform(docs)
    assert all(np.allclose(a.toarray(), b.toarray()) for a, b in zip(bags, again))
    vocabulary = vec.get_feature_names_out()
    row = bags[0][1].toarray().ravel()
    assert set(vocabulary[row > 0]) == {"shr", "34", "cts", "vs", "19", "dlrs"}


def test_any_vectorizer_or_callable():
    docs = [EARNINGS, PROSE]
    hashed = SentenceBagVectorizer(vectorizer=HashingVectorizer(n_features=64)).fit(docs)
    assert hashed.transform(docs)[0].shape == (6, 64)
    assert list(hashed.get_feature_names_out()[:2]) == ["sentencebagvectorizer0", "sentencebagvectorizer1"]
    counts = SentenceBagVectorizer(vectorizer=CountVectorizer(binary=True)).fit(docs)
    assert counts.transform(docs)[1].max() == 1

    def encoder(sentences):  # e.g. a pretrained sentence encoder: list of str -> (n, d)
        return np.array([[len(s), s.count(" ")] for s in sentences], dtype=float)

    bags = SentenceBagVectorizer(vectorizer=encoder).fit_transform(docs)
    assert isinstance(bags[0], np.ndarray) and bags[0].shape == (6, 2)
    assert bags[0][1, 0] == len("Shr 34 cts vs 1.19 dlrs")

    with pytest.raises(ValueError, match="one row per sentence"):
        SentenceBagVectorizer(vectorizer=lambda s: np.zeros(len(s))).fit(docs)


@pytest.mark.parametrize(
    "X, match",
    [
        ("one document", "wrap it in a list"),
        ([EARNINGS, None], "document 1 is a NoneType"),
        (np.array([[EARNINGS]]), "1-D sequence"),
    ],
)
def test_bad_documents_are_clear_errors(X, match):
    with pytest.raises(ValueError, match=match):
        SentenceBagVectorizer().fit(X)


def test_clone_params_pickle_and_not_fitted():
    vec = SentenceBagVectorizer(vectorizer=CountVectorizer(), short_line_length=10)
    with pytest.raises(NotFittedError):
        vec.transform([EARNINGS])
    assert clone(vec).get_params()["short_line_length"] == 10
    vec.set_params(vectorizer__lowercase=False)
    vec.fit([EARNINGS, PROSE])
    assert "CHAMPION" in vec.get_feature_names_out()
    restored = pickle.loads(pickle.dumps(vec))
    np.testing.assert_allclose(restored.transform([PROSE])[0].toarray(), vec.transform([PROSE])[0].toarray())
    with pytest.raises(ValueError, match="short_line_length"):
        SentenceBagVectorizer(short_line_length=-1).fit([EARNINGS])


# ------------------------------------------------------------------ sparse bags in MILMultitaskClassifier
def _sparse_witness_bags(seed, n_bags=80, n_features=30):
    """Sparse bags (one active feature per instance); label 1 iff the bag holds an instance of feature 0."""
    rng = np.random.RandomState(seed)
    bags, y = [], []
    for _ in range(n_bags):
        size = rng.randint(3, 9)
        columns = rng.randint(1, n_features, size=size)
        label = int(rng.rand() < 0.5)
        if label:
            columns[rng.randint(size)] = 0
        bags.append(sp.csr_matrix((rng.uniform(0.5, 1.5, size), (np.arange(size), columns)), shape=(size, n_features)))
        y.append(label)
    return bags, np.array(y)


def test_sparse_bags_learn_and_predict_like_their_dense_copy():
    bags, y = _sparse_witness_bags(0)
    test_bags, test_y = _sparse_witness_bags(1, n_bags=60)
    clf = MILMultitaskClassifier(max_epochs=30, **FAST).fit(bags, y)
    assert clf.n_features_in_ == 30
    assert clf.score(test_bags, test_y) >= 0.9
    dense = [bag.toarray() for bag in test_bags]
    np.testing.assert_allclose(clf.decision_function(dense), clf.decision_function(test_bags), rtol=1e-5, atol=1e-5)
    # One sparse table with bag_ids is the same input.
    ids = np.repeat(np.arange(len(test_bags)), [b.shape[0] for b in test_bags])
    np.testing.assert_array_equal(clf.predict(sp.vstack(test_bags), bag_ids=ids), clf.predict(test_bags))
    # Per-task attention weights over each bag's instances; the witness gets the most.
    weights = clf.instance_weights(test_bags)
    positives = np.flatnonzero(test_y == 1)
    witness_first = [np.argmax(weights[i][:, 0]) == test_bags[i][:, 0].nonzero()[0][0] for i in positives]
    assert np.mean(witness_first) >= 0.9


def test_sparse_standardization_is_one_shared_scale_without_centring():
    bags, y = _sparse_witness_bags(0)
    clf = MILMultitaskClassifier(max_epochs=1, **FAST).fit(bags, y)
    scaler = StandardScaler(with_mean=False).fit(sp.vstack(bags))  # per-feature variances, sparse
    assert not clf.module_.mean.any()
    np.testing.assert_allclose(clf.module_.scale.flatten().numpy(), np.sqrt(scaler.var_.mean()), rtol=1e-5)


def test_sparse_dataset_densifies_one_packed_batch():
    bags, _ = _sparse_witness_bags(0, n_bags=5)
    dataset = _SparseBagDataset(sp.vstack(bags), [b.shape[0] for b in bags])
    import torch

    X, _ = dataset.batch(torch.tensor([3, 1]))
    lengths = [bags[3].shape[0], bags[1].shape[0]]
    assert X["lengths"].tolist() == lengths
    assert X["instances"].shape == (sum(lengths), 30)
    np.testing.assert_array_equal(X["instances"].numpy(), sp.vstack([bags[3], bags[1]]).toarray().astype(np.float32))
    assert sp.issparse(dataset.instances)


def test_sparse_bags_reject_images():
    bags, y = _sparse_witness_bags(0, n_bags=10)
    with pytest.raises(ValueError, match="cannot be read as images"):
        MILMultitaskClassifier(image_shape=(1, 5, 6), max_epochs=1, **FAST).fit(bags, y)


def test_sparse_bags_take_an_instance_encoder_pretrained_on_sparse_instances():
    import torch

    from sk_ssl import ContrastiveEmbedder

    bags, y = _sparse_witness_bags(0)
    test_bags, test_y = _sparse_witness_bags(1, n_bags=60)
    instances = sp.vstack(bags).tocsr()
    embedder = ContrastiveEmbedder(n_components=16, max_epochs=2, random_state=0, device="cpu").fit(instances)
    # The MIL model starts from the embedder's encoder and its standardization, on densified sparse rows.
    clf = MILMultitaskClassifier(instance_encoder=embedder, max_epochs=1, **{**FAST, "learning_rate": 1e-12})
    clf.fit(bags, y)
    rows = instances[:5]
    np.testing.assert_allclose(
        clf.module_.encode(torch.tensor(rows.toarray(), dtype=torch.float32)).detach().numpy(),
        embedder.transform(rows),
        rtol=1e-5,
        atol=1e-6,
    )
    # Fine-tuned, it learns the witness; an unfitted embedder is fitted on the sparse training instances.
    clf = MILMultitaskClassifier(instance_encoder=embedder, max_epochs=30, **FAST).fit(bags, y)
    assert clf.score(test_bags, test_y) >= 0.9
    clf = MILMultitaskClassifier(instance_encoder=ContrastiveEmbedder(n_components=8, max_epochs=1, device="cpu"),
                                 max_epochs=1, **FAST).fit(bags, y)  # fmt: skip
    assert hasattr(clf.instance_encoder_, "module_") and np.isfinite(clf.predict_proba(test_bags)).all()


# ------------------------------------------------------------------ real documents through a Pipeline
@pytest.fixture(scope="module")
def reuters_subset():
    if not REUTERS.exists():
        pytest.skip("Reuters-21578 (../shared/data/text) is not available")
    topics = ["crude", "grain", "money-fx"]
    docs, Y = [], []
    with gzip.open(REUTERS, "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if d["modapte90"] and d["split"] == "train" and set(d["labels"]) & set(topics):
                docs.append(d["text"])
                Y.append([int(t in d["labels"]) for t in topics])
            if len(docs) == 150:
                break
    return docs, np.array(Y)


def test_pipeline_from_documents_and_grid_search_over_both_steps(reuters_subset):
    docs, Y = reuters_subset
    pipe = make_pipeline(SentenceBagVectorizer(), MILMultitaskClassifier(max_epochs=15, **FAST))
    pipe.fit(docs[:100], Y[:100])
    Y_pred = pipe.predict(docs[100:])
    assert Y_pred.shape == (50, 3)
    assert np.mean(Y_pred == Y[100:]) >= 0.85  # per-label accuracy; majority labels give about 0.7
    search = GridSearchCV(
        pipe,
        {
            "sentencebagvectorizer__split": ["auto", "punctuation"],
            "milmultitaskclassifier__pooling": ["attention", "mean"],
        },
        cv=2,
    )
    search.fit(docs[:100], Y[:100])
    assert set(search.best_params_) == {"sentencebagvectorizer__split", "milmultitaskclassifier__pooling"}
    assert search.best_estimator_.predict(docs[100:]).shape == (50, 3)
