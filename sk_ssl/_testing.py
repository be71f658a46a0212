"""Fast test configurations of every registered estimator (not public API).

One generator of small, quick instances, like scikit-learn's
``_construct_instances`` and imbalanced-learn's ``_tested_estimators``: the
common checks, persistence and continued-fit tests take their estimators from
here instead of keeping lists of their own, and a new estimator in
:mod:`sk_ssl._registry` without a configuration here is an error.
"""

import numpy as np

from ._registry import (
    ContrastiveEmbedder,
    FineTuneClassifier,
    FineTuneRegressor,
    MaskedAutoencoder,
    MILMultitaskClassifier,
    MultiViewEmbedder,
    PretextEmbedder,
    all_estimators,
)

# Small, fast configurations: scikit-learn's checks fit each dozens of times.
_FAST = dict(max_epochs=2, batch_size=32, n_components=8, random_state=0, device="cpu")
# Fine-tuning: enough epochs for the checks' score thresholds on their easy problems.
_FINETUNE = dict(max_epochs=10, batch_size=32, learning_rate=1e-2, encoder_lr_factor=1.0, random_state=0, device="cpu")
# Even and odd columns as two views: slices adapt to any n_features.
_TWO_VIEWS = [("even", slice(0, None, 2)), ("odd", slice(1, None, 2))]


def _configurations():
    """``{id: factory}``: every configuration, a fresh instance per call."""
    return {
        "ContrastiveEmbedder": lambda: ContrastiveEmbedder(**_FAST),
        # Images of one row: image_shape=(1, 1, -1) takes any n_features, so the
        # whole image path (CNN, crops, NT-Xent) runs on plain rows.
        "ContrastiveEmbedder-images": lambda: ContrastiveEmbedder(image_shape=(1, 1, -1), **_FAST),
        "MaskedAutoencoder": lambda: MaskedAutoencoder(**_FAST),
        # SimMIM on one-row images: blocks of 1 x 1 pixels.
        "MaskedAutoencoder-images": lambda: MaskedAutoencoder(image_shape=(1, 1, -1), **_FAST),
        # MAE and SimMIM on the ViT: one-pixel patches of one-row images.
        "MaskedAutoencoder-mae": lambda: MaskedAutoencoder(objective="mae", image_shape=(1, 1, -1), **_FAST),
        "MaskedAutoencoder-simmim_vit": lambda: MaskedAutoencoder(
            objective="simmim", encoder="vit", image_shape=(1, 1, -1), **_FAST
        ),
        "MultiViewEmbedder": lambda: MultiViewEmbedder(views=_TWO_VIEWS, **_FAST),
        "MultiViewEmbedder-attention": lambda: MultiViewEmbedder(views=_TWO_VIEWS, fusion="attention", **_FAST),
        # Cross-modal reconstruction plus cross-view InfoNCE, through the transformer fusion.
        "MultiViewEmbedder-reconstruction": lambda: MultiViewEmbedder(
            views=_TWO_VIEWS, fusion="transformer", objective=("cross_view", "reconstruction"), **_FAST
        ),
        # A one-epoch pretrainer, then a short fine-tune.
        "FineTuneClassifier": lambda: FineTuneClassifier(
            pretrainer=ContrastiveEmbedder(**{**_FAST, "max_epochs": 1}), **_FINETUNE
        ),
        # Target-aware pretraining: the labels reach the pretrainer's objective through a supervised head.
        "FineTuneClassifier-target_aware": lambda: FineTuneClassifier(
            pretrainer=ContrastiveEmbedder(**{**_FAST, "max_epochs": 1}), pretrain="target_aware", **_FINETUNE
        ),
        "FineTuneRegressor": lambda: FineTuneRegressor(
            pretrainer=MaskedAutoencoder(**{**_FAST, "max_epochs": 1}), **_FINETUNE
        ),
        # Pretext tasks: mask estimation on tables (the image tasks need square / RGB / tiled images, see test_pretext.py).
        "PretextEmbedder": lambda: PretextEmbedder(**_FAST),
        # The hybrid objective: SCARF and VIME on one encoder.
        # Momentum methods (after_step hook): MoCo v2's queue on tables, DINO's teacher and center on images.
        "ContrastiveEmbedder-moco_v2": lambda: ContrastiveEmbedder(objective="moco_v2", **_FAST),
        "ContrastiveEmbedder-dino": lambda: ContrastiveEmbedder(objective="dino", image_shape=(1, 1, -1), **_FAST),
        # Numeric feature embeddings in front of the tabular encoder.
        "ContrastiveEmbedder-pwl": lambda: ContrastiveEmbedder(numeric_embedding="pwl", **_FAST),
        "ContrastiveEmbedder-periodic": lambda: ContrastiveEmbedder(numeric_embedding="periodic", **_FAST),
        "ContrastiveEmbedder-hybrid": lambda: ContrastiveEmbedder(objective=("scarf", "vime"), **_FAST),
        "MILMultitaskClassifier": lambda: MILMultitaskClassifier(
            hidden_dims=(16,), attention_dim=8, **{**_FAST, "batch_size": 8}
        ),
    }


def _tested_estimators(rows_only=False):
    """Yield ``(id, estimator)``: a fresh, fast instance of every configuration.

    Parameters
    ----------
    rows_only : bool, default=False
        Only the estimators fitted on one 2-D X (scikit-learn's estimator
        checks); MIL reads bags.

    Yields
    ------
    id : str
        The class name, with the variant after a dash (e.g.
        ``"ContrastiveEmbedder-images"``).
    estimator : estimator instance
        Unfitted, seeded, on the CPU.

    Raises
    ------
    RuntimeError
        When a registered estimator has no configuration here.
    """
    configurations = _configurations()
    missing = set(all_estimators()) - {name.split("-")[0] for name in configurations}
    if missing:
        raise RuntimeError(f"No fast test configuration for {sorted(missing)}: add one to sk_ssl/_testing.py.")
    for name, make in configurations.items():
        estimator = make()
        if rows_only and isinstance(estimator, MILMultitaskClassifier):
            continue
        yield name, estimator


def _fit_args(estimator, X):
    """The positional arguments that fit ``estimator`` on the rows of ``X`` (2-D float array).

    Embedders take ``(X,)``; the fine-tuners ``(X, y)`` with y from the first
    column (two classes, or the value); MIL ``(bags, y)`` with bags of four
    consecutive rows.
    """
    X = np.asarray(X)
    if isinstance(estimator, FineTuneClassifier):
        return X, (X[:, 0] > np.median(X[:, 0])).astype(int)
    if isinstance(estimator, FineTuneRegressor):
        return X, X[:, 0].astype(np.float64)
    if isinstance(estimator, MILMultitaskClassifier):
        bags = [X[start : start + 4] for start in range(0, len(X), 4)]
        return bags, np.array([int(bag[:, 0].max() > 0) for bag in bags])
    return (X,)


def _tested_estimator(name, **params):
    """A fresh instance of configuration ``name`` (an id of :func:`_tested_estimators`), with ``params`` set.

    For tests that need one estimator in a particular setting, e.g.
    ``_tested_estimator("MaskedAutoencoder", include_input=True)``.
    """
    return dict(_tested_estimators())[name].set_params(**params)
