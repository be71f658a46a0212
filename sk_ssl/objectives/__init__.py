"""Self-supervised objectives: one module per method, selected by name.

Each module holds one method's composition: the views or corruption it trains
on, the heads it adds to the encoder, its loss and the **named outputs** of its
model (a dict of tensors; each objective documents their shapes in
``outputs``). The criterion checks the names once per step, in one place
(:func:`~sk_ssl.objectives._contract.check_outputs`), with an error that names
the objective. Estimators pick an objective with their ``objective``
parameter; adding a method is one module here plus one line in ``_REGISTRY``.
"""

from . import barlow_twins, byol, cross_modal, cross_view, scarf, simclr, simmim, supervised, vicreg, vime

__all__ = []  # objectives are chosen by name, through the estimators' ``objective`` parameter

_REGISTRY = {
    objective.name: objective
    for objective in (
        scarf.SCARF(),
        simclr.SimCLR(),
        vicreg.VICReg(),
        barlow_twins.BarlowTwins(),
        byol.BYOL(),
        vime.VIME(),
        simmim.SimMIM(),
        cross_view.CrossView(),
        cross_modal.CrossModalReconstruction(),
        supervised.Classification(),
        supervised.Regression(),
        supervised.MultiTaskBags(),
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



def _objective_loss(name, *args):
    """The checked criterion of objective ``name`` whose model the estimator builds itself (MIL, fine-tuners, multi-view)."""
    return _REGISTRY[name].loss(*args)


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
