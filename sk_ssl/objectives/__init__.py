"""Self-supervised objectives: one module per method, selected by name.

Each module holds one method's composition: the views or corruption it trains
on, the heads it adds to the encoder, its loss and the **named outputs** of its
model (a dict of tensors; each objective documents their shapes in
``outputs``). The criterion checks the names once per step, in one place
(:func:`~sk_ssl.objectives._contract.check_outputs`), with an error that names
the objective. Estimators pick an objective with their ``objective``
parameter; adding a method is one module here plus one line in ``_REGISTRY``.
"""

from . import barlow_twins, byol, cross_modal, cross_view, dino, mae, moco, scarf, simclr, simmim, supervised, vicreg, vime
from . import block_permutation, colorization, hybrid, jigsaw, mask_estimation, rotation

__all__ = []  # objectives are chosen by name, through the estimators' ``objective`` parameter

_REGISTRY = {
    objective.name: objective
    for objective in (
        scarf.SCARF(),
        simclr.SimCLR(),
        vicreg.VICReg(),
        barlow_twins.BarlowTwins(),
        byol.BYOL(),
        moco.MoCoV2(),
        moco.MoCoV3(),
        dino.DINO(),
        vime.VIME(),
        simmim.SimMIM(),
        mae.MAE(),
        cross_view.CrossView(),
        cross_modal.CrossModalReconstruction(),
        supervised.Classification(),
        supervised.Regression(),
        supervised.MultiTaskBags(),
        rotation.Rotation(),
        jigsaw.Jigsaw(),
        colorization.Colorization(),
        mask_estimation.MaskEstimation(),
        block_permutation.BlockPermutation(),
    )
}


def _objective_names(family):
    """The registered objectives of one family, for an estimator's ``objective`` parameter."""
    return {name for name, objective in _REGISTRY.items() if objective.family == family}


def _get_objective(name, data, estimator):
    """The registered objective ``name`` for ``data`` ("tabular" or "image"); a clear error otherwise."""
    objective = _REGISTRY[name]
    if data not in objective.data:
        raise ValueError(
            f"{estimator}(objective={name!r}) is defined for {' and '.join(objective.data)} input, but X is "
            f"{data} data. Use objective='auto' or one made for {data} data."
        )
    return objective


def _build_model(name, est, X):
    """Build ``(model, criterion)`` of objective ``name``, which the estimator does not let users choose.

    For the cross-view objective (MultiViewEmbedder) and the supervised heads
    (fine-tuners, MIL): no ``objective_`` or other resolved attributes are set.
    """
    return _REGISTRY[name].build(est, X)


def _build_objective(est, name, data, X):
    """Build ``(model, criterion)`` of objective ``name`` for ``est``; record what was resolved.

    Sets ``est.objective_`` and the attributes the objective resolves from
    "auto" parameters (e.g. ``temperature_``, ``mask_ratio_``).
    """
    objective = _get_objective(name, data, type(est).__name__)
    est.objective_ = name
    for attribute, value in objective.resolved(est).items():
        setattr(est, attribute, value)
    return objective.build(est, X)


def _build_hybrid(est, data, X):
    """Build the hybrid of ``est.objective`` (a (two-view, masked) pair) with ``est.loss_weights``.

    Sets ``objective_`` (the pair), ``loss_weights_`` and what the parts resolve.
    """
    estimator = type(est).__name__
    if getattr(est, "categorical_features_", None) is not None:
        raise ValueError(
            f"objective={est.objective!r}: the hybrid's masked part reconstructs numeric columns and cannot read "
            "categorical ones. One-hot encode them first (OneHotEncoder in a ColumnTransformer) and pass "
            "categorical_features=None, or use a single objective."
        )
    names, weights = hybrid.check_hybrid(
        est.objective, est.loss_weights, (_objective_names("two_view"), _objective_names("masked")), estimator
    )
    objectives = [_get_objective(name, data, estimator) for name in names]
    est.objective_, est.loss_weights_ = names, weights
    return hybrid.build_hybrid(est, objectives, names, weights, X)


def _check_single_objective(est):
    """For a single (not hybrid) ``objective``: ``loss_weights`` must be "auto"; ``loss_weights_`` is None."""
    if est.loss_weights != "auto":
        raise ValueError(
            f"loss_weights={est.loss_weights!r} weighs the two losses of a hybrid objective, but "
            f"objective={est.objective!r} is a single one. Pass a pair, e.g. objective=('scarf', 'vime'), "
            "or leave loss_weights='auto'."
        )
    est.loss_weights_ = None
    vars(est).pop("mask_ratio_", None)  # left by an earlier hybrid fit
