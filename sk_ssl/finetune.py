"""Fine-tuning a self-supervised encoder on few labels (semi-supervised use).

``FineTuneClassifier`` and ``FineTuneRegressor`` pretrain an sk_ssl embedder on
every row of ``X`` (labelled or not), then train its encoder plus a linear
head on the labelled rows. Unlabelled rows are marked the way
:mod:`sklearn.semi_supervised` marks them: ``y == -1`` for classification,
``y`` NaN for regression.
"""

import contextlib
from numbers import Real

import numpy as np
import torch
from sklearn.base import ClassifierMixin, RegressorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d

from ._base import _TorchEstimatorBase, _check_float32_range, _class_codes
from ._docstrings import _fill_doc
from ._tabular import _adopt_pretrainer_encoding, _coded_pretraining
from .contrastive import ContrastiveEmbedder
from .exceptions import TrainingDivergedError
from .models import FineTuneModel
from .objectives import _build_model
from .objectives.target_aware import _pretraining as _target_aware_pretraining

__all__ = ["FineTuneClassifier", "FineTuneRegressor"]


_PARAMETERS_DOC = """pretrainer : sk_ssl embedder or None, default=None
        The self-supervised estimator whose encoder is fine-tuned, e.g.
        ``ContrastiveEmbedder(corruption_rate=0.3)`` or ``MaskedAutoencoder()``
        (any sk_ssl embedder whose ``module_`` is an
        :class:`~sk_ssl.models.SSLModel`). None uses ``ContrastiveEmbedder()``.
        Its parameters tune as ``pretrainer__<name>`` in ``GridSearchCV``.

        * **Unfitted** (the default): ``fit`` clones it and pretrains the clone
          on every row of the X given to ``fit``, labelled or not. Only those
          rows: under ``cross_val_score`` or ``GridSearchCV`` the validation
          rows never reach pretraining (inductive). For *transductive*
          pretraining, pass the rows you will predict in ``fit`` as well, with
          ``y = -1`` (or NaN).
        * **Fitted**: pretraining is skipped and a copy of its encoder is
          fine-tuned (a warm start from its weights); the embedder itself is never
          modified. Note that ``clone`` (and so ``GridSearchCV`` and
          ``cross_val_score``) returns an unfitted copy, which then pretrains
          again on each training split.
    pretrain : bool or "target_aware", default=True
        True pretrains the (unfitted) pretrainer self-supervised, without the
        labels. ``"target_aware"`` pretrains it on the same rows with a
        supervised head added to its objective (Rubachev et al., 2022): the
        labelled rows' loss (cross-entropy, or squared error for the
        regressor) is added to the self-supervised loss, rescaled to its
        running magnitude, and unlabelled rows enter the self-supervised loss
        only; the head is dropped after pretraining and fine-tuning starts as
        with True. It needs an unfitted pretrainer (a fitted one is not
        pretrained again) with a single encoder (ContrastiveEmbedder,
        MaskedAutoencoder or PretextEmbedder) and rows given as an array,
        not image files; the pretrainer's own ``fit`` is unchanged (it
        ignores ``y``). False skips pretraining altogether: the
        pretrainer's network is built with random weights and trained on the
        labelled rows only (the "same network from scratch" baseline).
    freeze_encoder : bool, default=False
        Train the head only and keep the pretrained encoder fixed (a linear
        probe inside the estimator). False fine-tunes the encoder too.
    encoder_lr_factor : float, default=0.1
        The encoder's learning rate is ``encoder_lr_factor * learning_rate``
        (the head's is ``learning_rate``), so fine-tuning adapts the
        pretrained weights without erasing them. 1.0 trains all at one rate.
    categorical_features : "from_dtype", array-like or None, default="from_dtype"
        The categorical columns of a table, as in ``HistGradientBoostingClassifier``
        (see :class:`ContrastiveEmbedder`): ``"from_dtype"`` takes the
        ``category``, ``object``/``string`` and ``bool`` columns of a
        DataFrame, so a raw mixed frame goes straight in. The fine-tuner and
        its pretrainer share one encoding (``categories_``): with an unfitted
        pretrainer it is resolved here from X and given to the pretrainer
        (whose own ``categorical_features`` must then be the default or the
        same); with a **fitted** pretrainer the pretrainer's vocabularies are
        used, X must have its columns, and a column this parameter marks as
        categorical that the pretrainer read as numeric (or the reverse) is
        an error.
    max_epochs : int, default=100
        Epochs of fine-tuning (passes over the labelled rows).
    batch_size : int, default=128
        Labelled samples per step.
    learning_rate : float, default=1e-3
        AdamW learning rate of the head.
    weight_decay : float, default=0.0
        %(weight_decay)s
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the *labelled* rows (stratified
        by class for the classifier), or use ``X_val, y_val`` given to
        ``fit``, and stop when their loss has not improved for
        ``n_iter_no_change`` epochs; the best weights are restored.
    warm_start : bool, default=False
        When True and the estimator is already fitted, ``fit`` fine-tunes the
        fitted model for ``max_epochs`` more epochs (``history_`` and
        ``n_iter_`` grow, the AdamW moments carry over) instead of starting
        over; there is no second pretraining. Kept from the first fit:
        ``pretrainer_``, ``classes_`` (y may not bring a new class) or
        ``y_mean_`` and ``y_scale_``, the standardization; X must have the
        same features.
    validation_fraction : float, default=0.1
        Share of the labelled rows held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        %(n_iter_no_change)s
    device : str or torch.device, default="auto"
        Device of the fine-tuning stage (the pretrainer uses its own
        ``device``).
    accelerator : accelerate.Accelerator or None, default=None
        %(accelerator)s
        Applies to the fine-tuning stage; the pretrainer uses its own
        ``accelerator``.
    verbose : int, default=0
        %(verbose)s
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks of the fine-tuning stage.
    random_state : int, RandomState instance or None, default=None
        Seeds the head's initialisation, shuffling and the validation split,
        and, when the pretrainer's own ``random_state`` is None, its
        pretraining too."""

_ATTRIBUTES_DOC = """pretrainer_ : sk_ssl embedder or None
        The fitted embedder whose encoder was fine-tuned (the given one when
        it was already fitted); None when ``pretrain=False``.
    pretraining_ : {"self_supervised", "target_aware", "given", "none"}
        How the encoder was pretrained in ``fit``: self-supervised here,
        target-aware here (``pretrain="target_aware"``), taken from a fitted
        ``pretrainer`` ("given"), or not at all (``pretrain=False``).
    module_ : FineTuneModel
        The fine-tuned torch model (backbone encoder and head).
    history_ : skorch.History
        Per-epoch records of fine-tuning: ``train_loss``, ``valid_loss``,
        ``dur``.
    n_iter_ : int
        Epochs of fine-tuning run.
    channel_order_ : {"first", "last"} or None
        Channel order of 4-D image input, read with the pretrainer's
        ``channel_order`` and ``image_shape``; None for tabular data.
    image_shape_ : tuple of int or None
        Image shape resolved by the pretrainer, None for tabular data.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen in ``fit``, when X had string column names.
    categorical_features_ : ndarray of bool of shape (`n_features_in_`,) or None
        The categorical columns (shared with the pretrainer); None when there
        are none.
    categories_ : list of (ndarray or None) or None
        Per column, the categories with their own code (see
        :class:`ContrastiveEmbedder`); None without categorical columns.
    nan_features_ : ndarray of bool of shape (`n_features_in_`,) or None
        Tabular, with a pretrainer that accepts NaN: the columns that held
        NaN in ``fit``; None when none did."""


def _is_fitted(estimator):
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


class _FineTuneBase(_TorchEstimatorBase):
    """Pretrain an embedder on all rows, then fine-tune encoder + head on the labelled ones."""

    _parameter_constraints = {
        **_TorchEstimatorBase._parameter_constraints,
        "pretrainer": [HasMethods(["fit", "transform"]), None],
        "pretrain": ["boolean", StrOptions({"target_aware"})],
        "freeze_encoder": ["boolean"],
        "encoder_lr_factor": [Interval(Real, 0, None, closed="left")],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
    }
    _min_samples_reason = "fine-tuning needs labelled rows to learn from"

    def __init__(
        self,
        *,
        pretrainer=None,
        pretrain=True,
        freeze_encoder=False,
        encoder_lr_factor=0.1,
        categorical_features="from_dtype",
        max_epochs=100,
        batch_size=128,
        learning_rate=1e-3,
        weight_decay=0.0,
        early_stopping=True,
        warm_start=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        device="auto",
        accelerator=None,
        verbose=0,
        callbacks=None,
        random_state=None,
    ):
        self.pretrainer = pretrainer
        self.pretrain = pretrain
        self.freeze_encoder = freeze_encoder
        self.encoder_lr_factor = encoder_lr_factor
        self.categorical_features = categorical_features
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.warm_start = warm_start
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.accelerator = accelerator
        self.verbose = verbose
        self.callbacks = callbacks
        self.random_state = random_state

    @property
    def _template(self):
        return self.pretrainer if self.pretrainer is not None else ContrastiveEmbedder()

    def _image_params(self):
        # Images are read the way the pretrainer reads them (its image_shape and channel_order).
        template = self._template
        if _is_fitted(template) and getattr(template, "image_shape_", None) is not None:
            return template.image_shape_, getattr(template, "channel_order_", None) or "first"
        return getattr(template, "image_shape", None), getattr(template, "channel_order", "auto")

    def _as_pretrainer_input(self, pretrainer, X):
        """X (validated flat rows) for ``pretrainer``: images as (n, C, H, W), already in channels-first order."""
        if self.image_shape_ is None or not isinstance(X, np.ndarray):  # tables, or image files as they are
            return X
        if "channel_order" in pretrainer.get_params(deep=False):
            pretrainer.set_params(channel_order="first")
        return X.reshape(len(X), *self.image_shape_)

    def _validate_X(self, X, *, reset, continuing=False):
        if reset:  # the table encoding: a fitted pretrainer's, or resolved here (sk_ssl._tabular)
            self._fixed_encoding = _adopt_pretrainer_encoding(self, self._template, X)
            try:
                return super()._validate_X(X, reset=reset)
            finally:
                del self._fixed_encoding
        return super()._validate_X(X, reset=reset, continuing=continuing)

    @property
    def _nan_in_images(self):
        return bool(getattr(self._template, "_nan_in_images", True))

    @property
    def _allow_nan(self):
        # NaN is accepted where the pretrainer accepts it (MaskedAutoencoder).
        return bool(getattr(self._template, "_allow_nan", False))

    @property
    def _accept_sparse(self):
        # Sparse X is kept sparse where the pretrainer keeps it so (see _sparse.py).
        return bool(getattr(self._template, "_accept_sparse", False))

    # ---------------------------------------------------------------- fitting
    def _fit(self, X, y_all, labelled, validation=None, continuing=False):
        """Pretrain on all rows of X, then fine-tune on ``X[labelled]`` against ``y_all[labelled]``.

        ``validation`` is an optional ``(X_val, targets_val)`` pair of
        validated, labelled rows used for early stopping instead of a hold-out.
        A continued fit (``continuing``, see ``_continues_fit``) skips pretraining and
        fine-tunes the fitted model further.
        """
        backbone = None  # a continued fit fine-tunes the fitted model, no pretraining
        if not continuing:
            try:
                backbone = self._backbone(X, y_all, labelled)
            except (TrainingDivergedError, KeyboardInterrupt) as exc:
                # A refit must not keep the previous fit's model next to new classes_.
                self._forget_fit()
                if isinstance(exc, TrainingDivergedError):
                    raise TrainingDivergedError(
                        f"Pretraining with pretrainer={type(self._template).__name__}() diverged, so fine-tuning did "
                        f"not start and {type(self).__name__} is not fitted. {exc}"
                    ) from exc
                raise
        X_labelled = X[labelled]
        if self.early_stopping and validation is None and X_labelled.shape[0] < 2:
            raise ValueError(
                f"early_stopping holds out labelled rows for validation but y has only {X_labelled.shape[0]} labelled "
                "row(s). Label more rows or use early_stopping=False."
            )
        self._pending_backbone = backbone
        try:
            stratify = y_all[labelled] if isinstance(self, ClassifierMixin) else None
            if hasattr(X_labelled, "with_targets"):  # image files: the targets travel with the dataset
                X_labelled = X_labelled.with_targets(y_all[labelled])
            self._train(X_labelled, y_all[labelled], validation=validation, stratify=stratify, continuing=continuing)
        finally:
            del self._pending_backbone
        return self

    def _backbone(self, X, y_all, labelled):
        """The encoder to fine-tune: pretrained here, taken from a fitted pretrainer, or freshly built."""
        template = self._template
        target_aware = isinstance(self.pretrain, str) and self.pretrain == "target_aware"
        if not self.pretrain:
            pretrainer, model = self._untrained_backbone(X, self._seed())
            self.pretrainer_, self.pretraining_ = None, "none"
        elif _is_fitted(template):
            if target_aware:
                raise ValueError(
                    f"pretrain='target_aware' pretrains the pretrainer with the labels, but pretrainer="
                    f"{type(template).__name__}() is already fitted, and a fitted pretrainer is never pretrained "
                    "again. Pass an unfitted pretrainer (sklearn.base.clone(pretrainer)), or pretrain=True to "
                    "fine-tune the fitted one."
                )
            if template.n_features_in_ != X.shape[1]:
                raise ValueError(
                    f"The fitted pretrainer saw {template.n_features_in_} features but X has {X.shape[1]}. Pass data "
                    "of the pretrainer's layout, or an unfitted pretrainer to pretrain on this X."
                )
            pretrainer = self.pretrainer_ = template
            self.pretraining_ = "given"
        else:
            pretrainer = clone(template)
            if self.random_state is not None and getattr(pretrainer, "random_state", 0) is None:
                pretrainer.set_params(random_state=self._seed())
            with _coded_pretraining(self, pretrainer), self._target_aware(pretrainer, y_all, labelled, target_aware):
                pretrainer.fit(self._as_pretrainer_input(pretrainer, X))  # X holds codes: the pretrainer adopts them
            self.pretrainer_ = pretrainer
            self.pretraining_ = "target_aware" if target_aware else "self_supervised"
        self.image_shape_ = pretrainer.image_shape_
        if pretrainer is not self.pretrainer_:  # pretrain=False: the network built above, untrained
            return FineTuneModel.strip(model.float())
        if not hasattr(pretrainer, "export_encoder"):
            raise ValueError(
                f"pretrainer={type(template).__name__}() has no export_encoder(), so it has no encoder to fine-tune. "
                "Use ContrastiveEmbedder, MaskedAutoencoder or PretextEmbedder."
            )
        return pretrainer.export_encoder()  # a copy: the pretrainer's own model stays as it was

    def _target_aware(self, pretrainer, y_all, labelled, enabled):
        """Context of the pretrainer's fit: with ``enabled``, its objective gets a supervised head on the labels."""
        if not enabled:
            return contextlib.nullcontext()
        classifier = isinstance(self, ClassifierMixin)
        targets = np.where(labelled, y_all, -1.0 if classifier else np.nan)
        return _target_aware_pretraining(pretrainer, targets, "classification" if classifier else "regression",
                                         self._n_outputs)  # fmt: skip

    def _untrained_backbone(self, X, seed):
        """``(pretrainer, model)``: a clone of the pretrainer and its network, built on X with random weights."""
        pretrainer = clone(self._template)
        X_in = self._as_pretrainer_input(pretrainer, X)
        pretrainer._validate_params()
        with _coded_pretraining(self, pretrainer):
            X_p = pretrainer._validate_X(X_in, reset=True)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model, _ = pretrainer._build(X_p)
        return pretrainer, model

    def _rebuild_module(self, return_criterion=False):
        # The backbone's architecture is the fitted pretrainer's network, or
        # (pretrain=False) the one the pretrainer builds for this layout.
        if self.pretrainer_ is not None:
            self._pending_backbone = self.pretrainer_.export_encoder()
        else:
            X, _ = self._template_fit_data()
            self._pending_backbone = FineTuneModel.strip(self._untrained_backbone(X, seed=0)[1].float())
        try:
            return super()._rebuild_module(return_criterion)
        finally:
            del self._pending_backbone

    def _build(self, X, y=None):
        # The backbone (pretrained, or untrained with pretrain=False) is self._pending_backbone.
        return _build_model(self._objective, self, X)

    def _net_params(self):
        if self.freeze_encoder or self.encoder_lr_factor == 1:
            return {}
        return {"optimizer__param_groups": [("backbone.*", {"lr": self.learning_rate * self.encoder_lr_factor})]}

    def _outputs(self, X):
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._map_batches(lambda x: self.module_(x).float(), X)

    def _check_labelled(self, labelled):
        if not labelled.any():
            raise ValueError(
                f"y has no labelled rows: every target is {self._unlabelled_marker}, the mark of an unlabelled row. "
                f"{type(self).__name__} needs some labels to fine-tune on; to learn from unlabelled rows alone "
                "use the pretrainer (e.g. ContrastiveEmbedder) directly."
            )

    def _validation_data(self, X_val, y_val, encode):
        """Validated ``(X_val, targets)`` for early stopping, or None when not given."""
        if X_val is None and y_val is None:
            return None
        if X_val is None or y_val is None:
            raise ValueError("Pass both X_val and y_val (labelled validation rows for early stopping), or neither.")
        X_val = self._validate_X(X_val, reset=False)
        y_val = column_or_1d(y_val, warn=True)
        check_consistent_length(X_val, y_val)
        if hasattr(X_val, "with_targets"):  # image files: a dataset that yields its targets
            return X_val.with_targets(encode(y_val))
        return X_val, encode(y_val)

    def _require_y(self, y):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None. Mark unlabelled rows "
                f"with {self._unlabelled_marker}."
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


# How to mark unlabelled rows when y holds missing labels; an error message's suggestion (tested).
_MISSING_LABEL_FIX = (
    "Mark unlabelled rows with -1 (sklearn.semi_supervised's convention), e.g. "
    "y = np.where(pd.isna(y), -1, y).astype(object) (with string labels -1 or '-1' both mark unlabelled rows)."
)


def _labelled_rows(y):
    """Boolean mask of the labelled rows: every label but -1 (also the string ``"-1"``).

    None and NaN labels are an error that says how to mark unlabelled rows:
    they must not become a class, and reading them as unlabelled would guess.
    """
    if y.dtype.kind in "iuf":
        if y.dtype.kind == "f" and np.isnan(y).any():
            raise ValueError(f"y has NaN labels. {_MISSING_LABEL_FIX}")
        return np.asarray(y != -1, dtype=bool)
    if y.dtype.kind in "US":
        return np.asarray(y != y.dtype.type("-1"), dtype=bool)
    if y.dtype.kind == "O":
        missing = np.array([_is_missing(v) for v in y], dtype=bool)
        if missing.any():
            raise ValueError(f"y has {int(missing.sum())} None or NaN label(s). {_MISSING_LABEL_FIX}")
        return np.array([not (_is_marker(v)) for v in y], dtype=bool)
    return np.ones(len(y), dtype=bool)


def _is_missing(value):
    # None, float NaN, and pandas' NA / NaT (without importing pandas).
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def _is_marker(value):
    if isinstance(value, str):
        return value == "-1"
    try:
        return bool(value == -1)
    except (TypeError, ValueError):
        return False


@_fill_doc
class FineTuneClassifier(ClassifierMixin, _FineTuneBase):
    __doc__ = (
        """Classifier that fine-tunes a self-supervised encoder; semi-supervised with ``y == -1``.

    ``fit(X, y)`` first pretrains ``pretrainer`` (by default a SCARF
    :class:`ContrastiveEmbedder`) on every row of X, then trains its encoder
    plus a linear softmax head on the rows whose label is not -1, with
    cross-entropy, a lower learning rate for the encoder than for the head
    and early stopping on held-out labelled rows. This is the SCARF protocol
    (Bahri et al., 2022), where fine-tuning, not a frozen embedding, gives the
    gains over the same network trained from scratch.

    Unlabelled rows are marked ``y == -1``, as in
    :mod:`sklearn.semi_supervised`; they are used for pretraining only and
    never reach the supervised loss. With string labels the marker is -1 in
    an object array (as in scikit-learn) or the string ``"-1"``; both mean
    unlabelled, so neither can be a class. None or NaN labels are refused
    with a message saying how to mark those rows, never made a class.

    Parameters
    ----------
    """
        + _PARAMETERS_DOC
        + """

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels seen among the labelled rows (-1 excluded).
    """
        + _ATTRIBUTES_DOC
        + """

    See Also
    --------
    FineTuneRegressor : The same for regression targets.
    sklearn.semi_supervised.SelfTrainingClassifier : Pseudo-labelling alternative.

    References
    ----------
    .. [1] Bahri, Jiang, Tay, Metzler. "SCARF: Self-Supervised Contrastive
       Learning using Random Feature Corruption." ICLR 2022.
    .. [2] Rubachev, Alekberov, Gorishniy, Babenko. "Revisiting Pretraining
       Objectives for Tabular Deep Learning." arXiv:2207.03208, 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sk_ssl import ContrastiveEmbedder, FineTuneClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> y_semi = y.copy()
    >>> y_semi[200:] = -1  # only the first 200 rows are labelled
    >>> clf = FineTuneClassifier(pretrainer=ContrastiveEmbedder(max_epochs=2), max_epochs=5, random_state=0)
    >>> clf.fit(X, y_semi).predict(X[:3]).shape
    (3,)
    >>> clf.classes_
    array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])

    Target-aware pretraining: the 200 labels also train a supervised head
    during pretraining (Rubachev et al., 2022).

    >>> ta = FineTuneClassifier(pretrainer=ContrastiveEmbedder(max_epochs=2), pretrain="target_aware",
    ...                         max_epochs=5, random_state=0).fit(X, y_semi)
    >>> ta.pretraining_
    'target_aware'
    """
    )

    _unlabelled_marker = "-1"

    def fit(self, X, y, *, X_val=None, y_val=None):
        """Pretrain on all rows of X, then fine-tune on the labelled ones.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), images, or sequence of image paths
            Images as ``(n_samples, C, H, W)``, ``(n_samples, H, W, C)`` or
            ``(n_samples, H, W)`` arrays, or as paths (see "Data formats").
            Training data, labelled and unlabelled rows.
        y : array-like of shape (n_samples,)
            Class labels; -1 marks an unlabelled row (with string labels: -1
            in an object array, or the string ``"-1"``).
        X_val, y_val : array-like or None, default=None
            Labelled validation rows for early stopping (as in
            ``HistGradientBoostingClassifier.fit``). None holds out
            ``validation_fraction`` of the labelled rows instead, stratified
            by class. Never used for pretraining.

        Returns
        -------
        self : FineTuneClassifier
            The fitted estimator.
        """
        self._validate_params()
        self._require_y(y)
        continuing = self._continues_fit()
        X = self._validate_X(X, reset=not continuing, continuing=continuing)
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        labelled = _labelled_rows(y)
        self._check_labelled(labelled)
        # Checked on the labelled rows only: an object array of string labels
        # with -1 for unlabelled rows is valid (as in sklearn.semi_supervised).
        check_classification_targets(y[labelled])
        if not continuing:
            self.classes_ = np.unique(y[labelled])
        codes = np.zeros(len(y), dtype=np.float32)
        codes[labelled] = _class_codes(
            y[labelled], self.classes_, name="y",
            fix="warm_start=True continues the fitted model, whose head is fixed; set warm_start=False to fit "
            "from scratch with the new classes.",
        )  # fmt: skip

        def encode(y_val):
            fix = "Validation rows must be labelled with classes seen in y."
            return _class_codes(y_val, self.classes_, name="y_val", fix=fix).astype(np.float32)

        return self._fit(X, codes, labelled, self._validation_data(X_val, y_val, encode), continuing)

    @property
    def _n_outputs(self):
        return len(self.classes_)

    _objective = "classification"

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), images, or sequence of image paths
            Images as ``(n_samples, C, H, W)``, ``(n_samples, H, W, C)`` or
            ``(n_samples, H, W)`` arrays, or as paths (see "Data formats").
            Data of the same layout as in ``fit``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        logits = self._outputs(X)
        return torch.softmax(torch.from_numpy(logits).double(), dim=1).numpy()

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), images, or sequence of image paths
            Images as ``(n_samples, C, H, W)``, ``(n_samples, H, W, C)`` or
            ``(n_samples, H, W)`` arrays, or as paths (see "Data formats").
            Data of the same layout as in ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        logits = self._outputs(X)
        return self.classes_[np.argmax(logits, axis=1)]


@_fill_doc
class FineTuneRegressor(RegressorMixin, _FineTuneBase):
    __doc__ = (
        """Regressor that fine-tunes a self-supervised encoder; semi-supervised with NaN targets.

    ``fit(X, y)`` first pretrains ``pretrainer`` (by default a SCARF
    :class:`ContrastiveEmbedder`) on every row of X, then trains its encoder
    plus a linear head on the rows whose target is not NaN, with the mean
    squared error on targets standardized internally (predictions are in the
    original units), a lower learning rate for the encoder than for the head
    and early stopping on held-out labelled rows.

    Unlabelled rows are marked ``y = NaN``; they are used for pretraining
    only and never reach the supervised loss. One target per row.

    Parameters
    ----------
    """
        + _PARAMETERS_DOC
        + """

    Attributes
    ----------
    y_mean_, y_scale_ : float
        Mean and standard deviation of the labelled targets, used to
        standardize them in training.
    """
        + _ATTRIBUTES_DOC
        + """

    See Also
    --------
    FineTuneClassifier : The same for class labels.

    References
    ----------
    .. [1] Bahri, Jiang, Tay, Metzler. "SCARF: Self-Supervised Contrastive
       Learning using Random Feature Corruption." ICLR 2022.
    .. [2] Rubachev, Alekberov, Gorishniy, Babenko. "Revisiting Pretraining
       Objectives for Tabular Deep Learning." arXiv:2207.03208, 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_diabetes
    >>> from sk_ssl import ContrastiveEmbedder, FineTuneRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> y_semi = y.copy()
    >>> y_semi[100:] = np.nan  # only the first 100 rows are labelled
    >>> reg = FineTuneRegressor(pretrainer=ContrastiveEmbedder(max_epochs=2), max_epochs=5, random_state=0)
    >>> reg.fit(X, y_semi).predict(X[:3]).shape
    (3,)
    """
    )

    _unlabelled_marker = "NaN"

    def fit(self, X, y, *, X_val=None, y_val=None):
        """Pretrain on all rows of X, then fine-tune on the rows with a target.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), images, or sequence of image paths
            Images as ``(n_samples, C, H, W)``, ``(n_samples, H, W, C)`` or
            ``(n_samples, H, W)`` arrays, or as paths (see "Data formats").
            Training data, labelled and unlabelled rows.
        y : array-like of shape (n_samples,)
            Targets; NaN marks an unlabelled row.
        X_val, y_val : array-like or None, default=None
            Validation rows with finite targets for early stopping. None holds
            out ``validation_fraction`` of the labelled rows instead. Never used
            for pretraining.

        Returns
        -------
        self : FineTuneRegressor
            The fitted estimator.
        """
        self._validate_params()
        self._require_y(y)
        continuing = self._continues_fit()
        X = self._validate_X(X, reset=not continuing, continuing=continuing)
        y = column_or_1d(y, warn=True)
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"FineTuneRegressor needs numeric targets (NaN for unlabelled rows): {exc}") from exc
        check_consistent_length(X, y)
        if np.isinf(y).any():
            raise ValueError("y contains infinity. Use NaN to mark an unlabelled row, finite values otherwise.")
        _check_float32_range(y, type(self).__name__, "y")
        labelled = ~np.isnan(y)
        self._check_labelled(labelled)
        if not continuing:  # a continued fit keeps the target scaling its head learned
            self.y_mean_ = float(y[labelled].mean())
            self.y_scale_ = float(y[labelled].std()) or 1.0
        targets = np.where(labelled, (np.nan_to_num(y) - self.y_mean_) / self.y_scale_, 0.0).astype(np.float32)

        def encode(y_val):
            y_val = y_val.astype(np.float64)
            if not np.isfinite(y_val).all():
                raise ValueError("y_val contains NaN or infinity; validation rows need finite targets.")
            with np.errstate(over="ignore"):
                scaled = ((y_val - self.y_mean_) / self.y_scale_).astype(np.float32)
            if not np.isfinite(scaled).all():
                raise ValueError(
                    "y_val holds values so far outside the range of y that they overflow float32 once standardized "
                    "by y's mean and std. Check y_val for huge values or wrong units."
                )
            return scaled

        return self._fit(X, targets, labelled, self._validation_data(X_val, y_val, encode), continuing)

    _n_outputs = 1

    _objective = "regression"

    def predict(self, X):
        """Predicted targets, in the units of ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), images, or sequence of image paths
            Images as ``(n_samples, C, H, W)``, ``(n_samples, H, W, C)`` or
            ``(n_samples, H, W)`` arrays, or as paths (see "Data formats").
            Data of the same layout as in ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        out = self._outputs(X)[:, 0].astype(np.float64)
        return out * self.y_scale_ + self.y_mean_
