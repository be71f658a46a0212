"""Small multiple-instance learning benchmarks bundled with sk_ssl.

Like ``sklearn.datasets.load_digits``, these loaders read files shipped inside
the package (about 3.3 MB in all) and never download anything. See
``sk_ssl/datasets/data/README.md`` for sources, licences and attribution.
"""

import gzip
import json
from importlib import resources

import numpy as np
from sklearn.utils import Bunch

__all__ = [
    "load_mil",
    "load_musk1",
    "load_musk2",
    "load_fox",
    "load_tiger",
    "load_elephant",
    "load_miml_scene",
    "load_reuters_sample",
]

MIL_DATASETS = ("musk1", "musk2", "fox", "tiger", "elephant", "miml_scene")

_DESCR = {
    "musk1": "MUSK1: 92 molecules (47 musk), conformations as instances, 166 features. UCI Musk "
    "(Dietterich, Lathrop, Lozano-Perez 1997), CC BY 4.0. Raw feature values.",
    "musk2": "MUSK2: 102 molecules (39 musk), 6598 conformations, 166 features. UCI Musk 2 (Dietterich, "
    "Lathrop, Lozano-Perez 1997), CC BY 4.0. Features z-scored over the whole set (the only copy available).",
    "fox": "FOX: 200 Corel images (100 with a fox), segmented regions as instances, 230 features. "
    "Andrews, Tsochantaridis, Hofmann, NIPS 2002.",
    "tiger": "TIGER: 200 Corel images (100 with a tiger), regions as instances, 230 features. "
    "Andrews, Tsochantaridis, Hofmann, NIPS 2002.",
    "elephant": "ELEPHANT: 200 Corel images (100 with an elephant), regions as instances, 230 features. "
    "Andrews, Tsochantaridis, Hofmann, NIPS 2002.",
    "miml_scene": "MIML scene: 2000 images, 9 regions each, 15 features; 5 labels (desert, mountains, sea, "
    "sunset, trees), 1.24 per image. Zhou & Zhang, NIPS 2006.",
}


def load_mil(name, *, return_X_y=False):
    """Load one bundled multiple-instance benchmark.

    Parameters
    ----------
    name : {"musk1", "musk2", "fox", "tiger", "elephant", "miml_scene"}
        The data set.
    return_X_y : bool, default=False
        Return ``(bags, y)`` instead of a Bunch.

    Returns
    -------
    data : Bunch
        ``bags`` (list of ``(n_instances_i, n_features)`` float64 arrays),
        ``target`` (``(n_bags,)`` 0/1, or ``(n_bags, 5)`` 0/1 for
        ``miml_scene``), ``instances`` (all instances stacked), ``bag_ids``
        (bag of each instance), ``target_names`` (labels of ``miml_scene``,
        else ``["negative", "positive"]``) and ``DESCR``.
    (bags, y) : tuple
        With ``return_X_y=True``.

    Examples
    --------
    >>> from sk_ssl.datasets import load_mil
    >>> data = load_mil("fox")
    >>> len(data.bags), data.bags[0].shape[1], data.target.shape
    (200, 230, (200,))
    """
    if name not in MIL_DATASETS:
        raise ValueError(f"Unknown MIL data set {name!r}; use one of {list(MIL_DATASETS)}.")
    with resources.files(__package__).joinpath("data", f"{name}.npz").open("rb") as f:
        npz = np.load(f)
        X, bag_ids, y = npz["X"], npz["bag_ids"], npz["y"]
        names = [str(n) for n in npz["label_names"]] if "label_names" in npz.files else ["negative", "positive"]
    # Files store bags contiguously, in order of first appearance.
    starts = np.flatnonzero(np.r_[True, bag_ids[1:] != bag_ids[:-1]])
    bags = np.split(X, starts[1:])
    if return_X_y:
        return bags, y
    return Bunch(bags=bags, target=y, instances=X, bag_ids=bag_ids, target_names=names, DESCR=_DESCR[name])


def load_musk1(*, return_X_y=False):
    """MUSK1 (92 bags, 166 features); see :func:`load_mil`."""
    return load_mil("musk1", return_X_y=return_X_y)


def load_musk2(*, return_X_y=False):
    """MUSK2 (102 bags, 166 features); see :func:`load_mil`."""
    return load_mil("musk2", return_X_y=return_X_y)


def load_fox(*, return_X_y=False):
    """FOX (200 bags, 230 features); see :func:`load_mil`."""
    return load_mil("fox", return_X_y=return_X_y)


def load_tiger(*, return_X_y=False):
    """TIGER (200 bags, 230 features); see :func:`load_mil`."""
    return load_mil("tiger", return_X_y=return_X_y)


def load_elephant(*, return_X_y=False):
    """ELEPHANT (200 bags, 230 features); see :func:`load_mil`."""
    return load_mil("elephant", return_X_y=return_X_y)


def load_miml_scene(*, return_X_y=False):
    """MIML scene (2000 bags of 9 instances, 15 features, 5 labels); see :func:`load_mil`."""
    return load_mil("miml_scene", return_X_y=return_X_y)


REUTERS_TOPICS = ["acq", "crude", "earn", "grain", "interest", "money-fx", "ship", "trade"]


def load_reuters_sample(*, return_X_y=False):
    """A small sample of Reuters-21578 news articles (raw text) with 8 topics, multi-label.

    761 ModApte-90 articles (580 of the ModApte training split, 181 of its test
    split) that carry at least one of 8 topics (acq, crude, earn, grain,
    interest, money-fx, ship, trade), about 105 per topic; 110 carry two or
    more. For examples and tests of documents as bags of sentences (see
    :class:`~sk_ssl.SentenceBagVectorizer`); the full collection is the
    benchmark's. Reuters-21578, Distribution 1.0: free to distribute for
    research purposes; see ``sk_ssl/datasets/data/README.md``.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(documents, Y)`` instead of a Bunch.

    Returns
    -------
    data : Bunch
        ``data`` (list of str: title, newline, body as hard-wrapped in the
        original), ``target`` (``(761, 8)`` 0/1), ``target_names``, ``split``
        (``"train"`` or ``"test"`` per article, the ModApte split), ``ids``
        (Reuters NEWID) and ``DESCR``.
    (documents, Y) : tuple
        With ``return_X_y=True``.

    Examples
    --------
    >>> from sk_ssl.datasets import load_reuters_sample
    >>> data = load_reuters_sample()
    >>> len(data.data), data.target.shape, data.target_names[:3]
    (761, (761, 8), ['acq', 'crude', 'earn'])
    """
    with resources.files(__package__).joinpath("data", "reuters_sample.jsonl.gz").open("rb") as f:
        rows = [json.loads(line) for line in gzip.open(f, "rt", encoding="utf-8")]
    docs = [row["text"] for row in rows]
    Y = np.array([[int(t in row["labels"]) for t in REUTERS_TOPICS] for row in rows])
    if return_X_y:
        return docs, Y
    return Bunch(
        data=docs,
        target=Y,
        target_names=list(REUTERS_TOPICS),
        split=np.array([row["split"] for row in rows]),
        ids=np.array([row["id"] for row in rows]),
        DESCR="Reuters-21578 (Distribution 1.0) sample: 761 ModApte-90 articles, 8 topics, multi-label. Free "
        "distribution for research purposes only (Reuters Ltd. and Carnegie Group, Inc.).",
    )
