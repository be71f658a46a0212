"""
Documents as bags of sentences: which sentences drove which topic
=================================================================

A news article is a *bag* of sentences, and it is labelled as a whole: a
Reuters article may be about crude oil *and* shipping at once, without
saying which sentence is about what. :class:`~sk_ssl.SentenceBagVectorizer`
turns raw articles into bags of TF-IDF sentence vectors (it splits
headlines, table rows and wrapped prose apart), and
:class:`~sk_ssl.MILMultitaskClassifier` learns all topics at once from the
bags: one shared sentence encoder, one attention pooling and one head per
topic. The sparse TF-IDF bags go in as they are; only one padded batch at a
time is densified (and sparse features are not centred, see the user guide).

``instance_weights`` then says, for each article and each topic, how much
each sentence weighed in that topic's decision: a per-topic highlight of the
article.

The data is :func:`~sk_ssl.datasets.load_reuters_sample`, 761 Reuters-21578
articles with 8 topics, bundled with sk_ssl. Reduced settings for the
gallery: 40 epochs (2 in the test suite's quick mode). The full benchmark on
ModApte-90 (90 topics, 7,770 training articles) is
``benchmarks/bench_text_mil.py``.
"""

# %%
import os
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline

from sk_ssl import MILMultitaskClassifier, SentenceBagVectorizer
from sk_ssl.datasets import load_reuters_sample

QUICK = os.environ.get("SK_SSL_EXAMPLE_QUICK") == "1"  # tiny settings for the test suite

data = load_reuters_sample()
docs, Y, topics = np.array(data.data, dtype=object), data.target, data.target_names
train, test = data.split == "train", data.split == "test"
print(f"{train.sum()} training and {test.sum()} test articles; topics: {topics}")

pipe = make_pipeline(
    SentenceBagVectorizer(),
    MILMultitaskClassifier(
        n_components=64, hidden_dims=(128,), attention_dim=64, learning_rate=1e-3, batch_size=16,
        max_epochs=2 if QUICK else 40, random_state=0,
    ),
)  # fmt: skip
pipe.fit(list(docs[train]), Y[train])

# %%
# Topic F1 on the held-out articles
# ---------------------------------
Y_pred = pipe.predict(list(docs[test]))
for j, topic in enumerate(topics):
    print(f"{topic:>9}: F1 {f1_score(Y[test][:, j], Y_pred[:, j], zero_division=0):.2f}")
print(f"micro-F1 over all topics: {f1_score(Y[test], Y_pred, average='micro', zero_division=0):.3f}")

# %%
# Per-topic sentence weights of one article
# -----------------------------------------
# A test article about Soviet tankers carrying Kuwaiti oil, labelled both
# ``crude`` and ``ship``. Each column holds one topic's attention over the
# article's sentences (it sums to one); the column title gives the predicted
# probability of the topic. A topic's column shows where its head looked even
# when the topic is not predicted: with the full settings the model finds
# ``ship`` but misses ``crude`` on this article, although the ``crude``
# column points at the sentence about Kuwait's oil exports.
article = int(np.flatnonzero(data.ids == 16366)[0])
vectorizer, clf = pipe[0], pipe[-1]
sentences = vectorizer.get_sentences([docs[article]])[0]
bags = vectorizer.transform([docs[article]])
weights = clf.instance_weights(bags)[0]  # (n_sentences, n_topics)
proba = clf.predict_proba(bags)[0]
print("true topics:", [t for t, y in zip(topics, Y[article]) if y])
for j in np.argsort(proba)[::-1][:2]:
    best = int(np.argmax(weights[:, j]))
    print(f"{topics[j]} (p={proba[j]:.2f}) looks most at: {sentences[best]!r}")

labels = [textwrap.shorten(s, 70, placeholder=" ...") for s in sentences]
fig, ax = plt.subplots(figsize=(11, 0.35 * len(sentences) + 1.5), layout="constrained")
ax.imshow(weights, cmap="Oranges", aspect="auto", vmin=0)
ax.set_yticks(range(len(sentences)), labels, fontsize=8)
ax.set_xticks(range(len(topics)), [f"{t}\np={p:.2f}" for t, p in zip(topics, proba)], fontsize=8)
ax.xaxis.tick_top()
ax.set_title(f"Reuters article {data.ids[article]}: per-topic attention over its sentences", fontsize=10)
plt.show()
