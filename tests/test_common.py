"""scikit-learn's estimator checks on every sk_ssl estimator configuration."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_ssl import ContrastiveEmbedder, FineTuneClassifier, FineTuneRegressor, MaskedAutoencoder, MultiViewEmbedder

# Small, fast configurations: the checks fit dozens of times.
FAST = dict(max_epochs=2, batch_size=32, n_components=8, random_state=0, device="cpu")

FINETUNE = dict(max_epochs=10, batch_size=32, learning_rate=1e-2, encoder_lr_factor=1.0, random_state=0, device="cpu")

ESTIMATORS = [
    ContrastiveEmbedder(**FAST),
    ContrastiveEmbedder(numeric_embedding="pwl", **FAST),
    ContrastiveEmbedder(numeric_embedding="periodic", **FAST),
    # Images of one row: image_shape=(1, 1, -1) accepts whatever n_features the
    # checks use, so the whole image path (CNN, crops, NT-Xent) is checked too.
    ContrastiveEmbedder(image_shape=(1, 1, -1), **FAST),
    MaskedAutoencoder(**FAST),
    # SimMIM path on one-row images: blocks of 1 x 1 pixels.
    MaskedAutoencoder(image_shape=(1, 1, -1), **FAST),
    # Even and odd columns as two views: slices adapt to the checks' n_features
    # (one feature leaves the "odd" view empty, a clear "1 feature(s)" error).
    MultiViewEmbedder(views=[("even", slice(0, None, 2)), ("odd", slice(1, None, 2))], **FAST),
    MultiViewEmbedder(views=[("even", slice(0, None, 2)), ("odd", slice(1, None, 2))], fusion="attention", **FAST),
    # Fine-tuning: a one-epoch contrastive pretrainer, then a short fine-tune
    # (enough epochs for the checks' score thresholds on their easy problems).
    FineTuneClassifier(pretrainer=ContrastiveEmbedder(**{**FAST, "max_epochs": 1}), **FINETUNE),
    FineTuneRegressor(pretrainer=MaskedAutoencoder(**{**FAST, "max_epochs": 1}), **FINETUNE),
]

EXPECTED_FAILURES = {}

# MultiViewEmbedder's table views take NaN in single cells (missing indicators,
# issue 16), so the pickle check's scattered NaN passes: no expected failure.
MULTIVIEW_EXPECTED_FAILURES = {}

# FineTuneClassifier follows sklearn.semi_supervised: y == -1 marks an
# unlabelled row. This check labels its classes {-1, 1}, so it sees one class.
FINETUNE_EXPECTED_FAILURES = {
    "check_classifiers_classes": "-1 marks unlabelled rows (sklearn.semi_supervised convention); "
    "the check's {-1, 1} labels read as one class plus unlabelled rows",
    # Softmax of float32 logits: CPU matmul kernels differ by batch size in the
    # last bits (~1e-6 relative), above the check's rtol=1e-7 on probabilities.
    "check_methods_subset_invariance": "float32 inference differs by ~1e-6 relative between batch sizes",
}


def _expected_failures(estimator):
    if isinstance(estimator, MultiViewEmbedder):
        return {**EXPECTED_FAILURES, **MULTIVIEW_EXPECTED_FAILURES}
    if isinstance(estimator, FineTuneClassifier):
        return {**EXPECTED_FAILURES, **FINETUNE_EXPECTED_FAILURES}
    return EXPECTED_FAILURES


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_every_registered_estimator_is_checked():
    """The registry (sk_ssl.all_estimators) is the list; MIL is checked in test_mil.py (bags, not rows)."""
    from sk_ssl import all_estimators

    checked = {type(est).__name__ for est in ESTIMATORS} | {"MILMultitaskClassifier"}
    assert checked == set(all_estimators())
