"""scikit-learn's estimator checks on every sk_ssl estimator configuration."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_ssl import FineTuneClassifier, MultiViewEmbedder, all_estimators
from sk_ssl._testing import _tested_estimators

# One fast configuration per estimator and input kind (sk_ssl/_testing.py):
# tables, one-row images (image_shape=(1, 1, -1) takes any n_features), views,
# fine-tuning after a one-epoch pretrainer. MIL reads bags: checked in test_mil.py.
ESTIMATORS = [estimator for _, estimator in _tested_estimators(rows_only=True)]

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


# The ViT's linear layers run on (N * L, D) token matrices: CPU matmul kernels
# block them differently by batch size, ~1e-7 absolute in float32 embeddings.
VIT_EXPECTED_FAILURES = {
    "check_methods_subset_invariance": "float32 transformer inference differs by ~1e-7 between batch sizes",
}


def _expected_failures(estimator):
    if getattr(estimator, "objective", None) == "mae" or str(getattr(estimator, "encoder", "")).startswith("vit"):
        return {**EXPECTED_FAILURES, **VIT_EXPECTED_FAILURES}
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
    checked = {type(est).__name__ for est in ESTIMATORS} | {"MILMultitaskClassifier"}
    assert checked == set(all_estimators())
    assert {type(est).__name__ for _, est in _tested_estimators()} == set(all_estimators())
