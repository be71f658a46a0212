"""The papers' per-step schedules of the momentum-teacher objectives (BYOL, MoCo, DINO).

* :func:`cosine_momentum`: the target/key/teacher network's EMA momentum rises
  from its base value to 1.0 along a half cosine over the training steps
  (BYOL, Grill et al. 2020, eq. 5; MoCo v3; DINO).
* :func:`teacher_temperature`: DINO's teacher temperature warms up linearly
  from 0.04 to 0.07 (Caron et al. 2021 use the first 30 epochs of 100-800;
  here the first 30 % of the horizon, so a short run also reaches 0.07) and
  stays there.

The model counts its optimizer steps (``after_step``); the **horizon** (total
steps) is set when the objective builds the model: the estimator's
``max_epochs`` times the batches per epoch (:func:`horizon`). A continued fit
(``warm_start``, ``partial_fit``) keeps counting: past the horizon the
momentum stays 1.0 (the teacher is frozen, as at the end of the paper's
schedule) and the temperature 0.07. With ``schedule="constant"`` the momentum
and the teacher temperature stay at their base values (the library's behaviour
before the schedules).
"""

import math

WARMUP_FRACTION = 0.3
TEACHER_TEMPERATURES = (0.04, 0.07)
SCHEDULES = ("paper", "constant")


def cosine_momentum(base, step, total):
    """EMA momentum after optimizer step ``step`` of ``total``: ``1 - (1 - base) (cos(pi step / total) + 1) / 2``.

    ``base`` at step 0, 1.0 from ``step >= total`` on (``total <= 0``: ``base``).

    Examples
    --------
    >>> from sk_ssl.objectives._schedules import cosine_momentum
    >>> [round(cosine_momentum(0.99, s, 4), 4) for s in range(5)]
    [0.99, 0.9915, 0.995, 0.9985, 1.0]
    """
    if total <= 0:
        return base
    progress = min(step / total, 1.0)
    return 1.0 - (1.0 - base) * (math.cos(math.pi * progress) + 1.0) / 2.0


def teacher_temperature(step, total, start=TEACHER_TEMPERATURES[0], end=TEACHER_TEMPERATURES[1],
                        warmup=WARMUP_FRACTION):  # fmt: skip
    """DINO's teacher temperature at step ``step``: linear ``start -> end`` over ``warmup * total`` steps, then ``end``.

    Examples
    --------
    >>> from sk_ssl.objectives._schedules import teacher_temperature
    >>> [round(teacher_temperature(s, 10), 3) for s in (0, 1, 3, 9)]
    [0.04, 0.05, 0.07, 0.07]
    """
    steps = warmup * total
    if steps <= 0:
        return end
    return start + (end - start) * min(step / steps, 1.0)


def horizon(est, X):
    """Total optimizer steps of ``est``'s fit on ``X``: ``max_epochs`` x batches per epoch (the last partial dropped).

    With early stopping the fit may stop sooner (the schedule then ends below 1.0).
    """
    n = X.shape[0] if hasattr(X, "shape") else len(X)  # sparse matrices have no len
    if getattr(est, "early_stopping", False):
        n = n - int(math.ceil(n * est.validation_fraction))
    batches = max(1, n // est.batch_size)
    return int(est.max_epochs) * batches


def resolve(est, objective):
    """``schedule_`` of ``est`` for the momentum objective ``objective``: its default for "auto", else the choice."""
    schedule = getattr(est, "schedule", "auto")
    return DEFAULTS[objective] if schedule == "auto" else schedule


# The "auto" choice per objective (measured on digits: docs/objectives.md, "Schedules").
DEFAULTS = {"byol": "constant", "moco_v2": "constant", "moco_v3": "constant", "dino": "constant"}


def configure(model, est, X, objective):
    """Set the model's schedule (``schedule``, ``horizon``) and record ``est.schedule_``; returns the model."""
    schedule = resolve(est, objective)
    est.schedule_ = schedule
    model.schedule = schedule or "constant"
    model.horizon = horizon(est, X)
    return model


def _check_schedule(est):
    """After the build: ``schedule="paper"`` needs an objective with a momentum network; a clear error otherwise."""
    if est.schedule == "paper" and est.schedule_ is None:
        raise ValueError(
            f"schedule='paper' schedules the momentum network of 'byol', 'moco_v2', 'moco_v3' or 'dino', but "
            f"objective={est.objective_!r} has none. Leave schedule='auto' or choose one of those objectives."
        )
