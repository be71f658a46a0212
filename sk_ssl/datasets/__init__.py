"""Small multiple-instance learning benchmarks bundled with sk_ssl.

Like ``sklearn.datasets.load_digits``, these loaders read files shipped inside
the package (about 3.3 MB in all) and never download anything. See
``sk_ssl/datasets/data/README.md`` for sources, licences and attribution.
"""

from importlib import resources

import numpy as np
from sklearn.utils import Bunch

__all__ = ["load_mil", "load_musk1", "load_musk2", "load_fox", "load_tiger", "load_elephant", "load_miml_scene"]

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
