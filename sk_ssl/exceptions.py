"""Errors and warnings raised by sk_ssl estimators (like ``sklearn.exceptions``)."""


class TrainingDivergedError(ValueError):
    """Raised by ``fit`` when a training loss or weight becomes NaN or infinite.

    When at least one epoch finished with finite losses, the estimator is
    left fitted with the weights of the last such epoch; otherwise it is not
    fitted. The message names the epoch and the usual fixes (a lower
    ``learning_rate``, scaled features).
    """


class TrainingInterruptedWarning(UserWarning):
    """Warned by ``fit`` when training is interrupted (e.g. Ctrl-C) after at least one epoch.

    The estimator is left fitted with early stopping's best weights, or else
    with those of the last completed epoch; the message says which.
    """


__all__ = ["TrainingDivergedError", "TrainingInterruptedWarning"]
