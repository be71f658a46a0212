"""MILMultitaskClassifier: multiple-instance, multi-task classification of bags."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import ClassifierMixin, clone
from sklearn.metrics import accuracy_score
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from ._base import _TorchEstimatorBase, _check_float32_range, _class_codes, _to_device
from ._docstrings import _fill_doc
from ._tabular import (
    _adopt_pretrainer_encoding,
    _coded_pretraining,
    _template_rows,
    _unstandardized_codes,
    _with_code_embedding,
)
from .encoders import make_encoder
from .objectives import _build_model

__all__ = ["MILMultitaskClassifier"]

_POOLINGS = ("attention", "gated_attention", "mean", "max", "instance_max", "transformer", "dsmil")


class _BagDataset(torch.utils.data.Dataset):
    """Ragged bags of instances, packed: a batch is its bags' instances, bag after bag.

    All instances sit in one ``(n_instances, ...)`` tensor on the training
    device, bag after bag; a batch gathers the rows of its bags into
    ``{"lengths": (B,), "instances": (N, ...)}`` (``N`` the batch's
    instances), so bags of any sizes share one step without padding (see
    :mod:`sk_ssl._ragged`).

    Parameters
    ----------
    instances : torch.Tensor of shape (n_instances, ...)
        Instances of all bags, bag after bag.
    lengths : torch.Tensor of int of shape (n_bags,)
        Instances per bag (each >= 1).
    y : torch.Tensor of shape (n_bags, ...) or None
        Bag targets.
    """

    def __init__(self, instances, lengths, y=None):
        self.instances = instances
        self.lengths = torch.as_tensor(lengths, dtype=torch.long, device=instances.device)
        self.starts = torch.cumsum(self.lengths, 0) - self.lengths
        self.y = y
        # On the host, a batch is its bags' slices concatenated: no row index
        # to build and no gather (see batch). (start, stop) of every bag.
        self._bounds = None
        if self.instances.device.type == "cpu":
            self._bounds = torch.stack([self.starts, self.starts + self.lengths], 1).numpy()

    def __len__(self):
        return len(self.lengths)

    def batch(self, indices):
        indices = indices.to(self.lengths.device)
        lengths = self.lengths[indices]
        if self._bounds is not None and len(indices):  # CPU: each bag is a contiguous slice
            bounds = self._bounds[indices.numpy()].tolist()
            instances = torch.cat([self.instances[start:stop] for start, stop in bounds])
        else:  # accelerators: one gather kernel, no host round trip per batch
            instances = self.instances.index_select(0, _packed_rows(self.starts[indices], lengths))
        X = {"lengths": lengths, "instances": instances}
        y = None if self.y is None else self.y[indices.to(self.y.device)]
        return X, y

    def __getitem__(self, index):
        return self.batch(torch.as_tensor([index]))


def _packed_rows(starts, lengths):
    """Rows ``starts[i] .. starts[i] + lengths[i] - 1`` of every bag ``i``, concatenated."""
    offsets = torch.cumsum(lengths, 0) - lengths  # where each bag starts in the batch
    shift = torch.repeat_interleave(starts - offsets, lengths)
    return torch.arange(len(shift), device=lengths.device) + shift


@_fill_doc
class MILMultitaskClassifier(ClassifierMixin, _TorchEstimatorBase):
    """Multiple-instance classifier of bags, for one task or several at once.

    A sample is a *bag*: a 2-D array ``(n_instances_i, n_features)`` whose
    size may differ from bag to bag; only the bag has a label. A shared
    instance encoder embeds every instance, then each task pools the bag's
    embeddings with its own pooling (one attention head per task for
    ``pooling="attention"``) and classifies the pooled vector with its own
    head. Tasks learn together through the shared encoder; a missing label
    (NaN or -1 in a column of a 2-D ``y``) is left out of that task's loss, so
    partly labelled bags still train the encoder and the other tasks.

    Training steps hold ``batch_size`` bags at once, packed: their instances
    are encoded together and attention or mean pooling reduces each bag with
    segment operations (other poolings see the batch padded and masked), so
    batching never changes a prediction. Instance
    features are standardized internally with the training instances'
    statistics; sparse instances (scipy CSR, e.g. from
    :class:`SentenceBagVectorizer`) are not centred and share one scale (see
    the Notes).

    Parameters
    ----------
    pooling : {"attention", "gated_attention", "mean", "max", "instance_max", "transformer", "dsmil"}, \
            default="attention"
        How a task turns a bag's instance embeddings into one vector.
        ``"attention"`` and ``"gated_attention"``: attention-weighted mean
        (Ilse et al., 2018). ``"mean"``, ``"max"``: feature-wise mean or max of
        the embeddings. ``"instance_max"``: the head scores every instance and
        the bag takes the highest score (mi-Net); the only choice that obeys
        the standard MIL assumption by construction (a bag is positive only
        through a positive instance), see the user guide. ``"transformer"``:
        a class token attends over the instances through a transformer block
        (TransMIL spirit, Shao et al., 2021), so instances interact and the
        bag can depend on combinations of them. ``"dsmil"``: DSMIL's dual
        stream (Li et al., 2021): the critical (top-scoring) instance's score,
        averaged with a bag score that attends to instances by their
        similarity to the critical one. See
        :class:`~sk_ssl.encoders.SelfAttentionPooling` and
        :class:`~sk_ssl.encoders.DualStreamPooling`.
    n_components : int, default=128
        Width of the instance embeddings (the encoder's output).
    hidden_dims : tuple of int, default=(256, 128)
        Hidden layer widths of the default MLP instance encoder; ignored by the
        other encoders.
    attention_dim : int, default=128
        Width of each attention network (attention poolings; the query width
        for ``"dsmil"``).
    dropout : float, default=0.0
        Dropout on the instance embeddings during training.
    encoder : {"auto", "mlp", "cnn", "resnet18"}, nn.Module class or instance, default="auto"
        Instance encoder; ``"auto"`` is an MLP for feature vectors and a CNN
        for images (``image_shape``). A class is called as
        ``encoder(input_shape, n_components)``; see :mod:`sk_ssl.encoders`.
        %(encoder_instance)s
    instance_encoder : sk_ssl embedder or None, default=None
        Self-supervised initialisation of the instance encoder, e.g.
        ``ContrastiveEmbedder(n_components=128)``. A fitted embedder (for
        instance one fitted on *all* instances, labelled bags or not) lends a
        copy of its encoder and standardization; an unfitted one is cloned and
        fitted on the training instances first. ``n_components``,
        ``hidden_dims`` and ``encoder`` are then taken from it. The copy is
        fine-tuned; the embedder passed in is left unchanged.
    image_shape : tuple of int (C, H, W) or None, default=None
        Read each instance (a row of a bag) as an image of this shape; one entry
        may be -1.
    channel_order : {"auto", "first", "last"}, default="auto"
        %(channel_order)s
    categorical_features : "from_dtype", array-like or None, default="from_dtype"
        Instance features that are categories, as in
        :class:`ContrastiveEmbedder`: ``"from_dtype"`` takes the
        ``category``, ``object``/``string`` and ``bool`` columns of DataFrame
        bags (or of the table given with ``bag_ids``); or a boolean mask,
        indices or names. Each gets a vocabulary (``categories_``; unknown
        categories at predict share a reserved code, with a warning that
        counts them) and a learned embedding in the instance encoder. A
        fitted ``instance_encoder``'s vocabularies are used as they are; an
        unfitted one is fitted on the coded instances with these. NaN in
        numeric instance features is accepted (a missing indicator per
        column with NaN in ``fit``, see "Data formats").
    max_epochs : int, default=100
        Training epochs (passes over the bags).
    batch_size : int, default=16
        Bags per training step.
    learning_rate : float, default=5e-4
        %(learning_rate)s
    weight_decay : float, default=1e-4
        %(weight_decay)s
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the bags and stop when their loss
        has not improved for ``n_iter_no_change`` epochs; the best weights are
        restored.
    warm_start : bool, default=False
        %(warm_start)s
        Kept from the first fit: ``classes_`` and ``n_tasks_`` (y may not bring
        a new class or task), the instance standardization and the
        ``instance_encoder_`` (not fitted again); instances must have the same
        features.
    validation_fraction : float, default=0.1
        Share of bags held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        %(n_iter_no_change)s
    device : str or torch.device, default="auto"
        %(device)s
    accelerator : accelerate.Accelerator or None, default=None
        %(accelerator)s
    verbose : int, default=0
        %(verbose)s
    callbacks : list of skorch callbacks or None, default=None
        %(callbacks)s
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling and dropout; a fixed value makes a CPU
        fit repeatable.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,) or list of ndarray
        Class labels; a list with one array per task when ``y`` is 2-D.
    n_tasks_ : int
        Number of tasks (columns of a 2-D ``y``; 1 for a 1-D ``y``).
    module_ : MILModel
        The trained torch model.
    instance_encoder_ : estimator or None
        The fitted embedder whose encoder initialised the model.
    history_ : skorch.History
        Per-epoch records: ``train_loss``, ``valid_loss`` (with early
        stopping), ``dur``.
    n_iter_ : int
        Number of epochs run.
    channel_order_ : {"first", "last"} or None
        Channel order of the fitted images' input (``"first"`` for flat rows
        and 3-D grey stacks), None for tabular data.
    image_shape_ : tuple of int or None
        Resolved image shape of an instance, None for feature vectors.
    n_features_in_ : int
        Number of features per instance seen in ``fit``.
    categorical_features_ : ndarray of bool of shape (`n_features_in_`,) or None
        The categorical instance features; None when there are none.
    categories_ : list of (ndarray or None) or None
        Per instance feature, the categories with their own code (see
        :class:`ContrastiveEmbedder`); None without categorical features.
    nan_features_ : ndarray of bool of shape (`n_features_in_`,) or None
        The numeric instance features that held NaN in ``fit`` (each gets a
        missing indicator); None when none did.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Instance feature names, when the instances came as DataFrames with
        string column names.

    See Also
    --------
    ContrastiveEmbedder : Self-supervised instance encoder for ``instance_encoder``.
    sklearn.neural_network.MLPClassifier : Same multi-label target conventions.

    Notes
    -----
    Input forms for ``X``: a list (or 1-D object array) of 2-D bags; a 3-D
    array ``(n_bags, n_instances, n_features)`` of equal-size bags; or one 2-D
    table of instances (array or DataFrame) with ``bag_ids``, one id per row.
    With ``bag_ids``, bags are ordered by first appearance of their id, and
    ``y`` follows that order. Cross-validation splits samples, so give
    ``GridSearchCV`` / ``cross_val_score`` a list of bags.

    Sparse instances (bags as scipy sparse matrices, or one sparse table with
    ``bag_ids``) stay sparse on the host; each training or inference batch is
    densified on its own (its bags' rows only) and moved to the device,
    so a 100k-column TF-IDF matrix is never densified as a whole (the first
    layer of the instance encoder is still dense: ``n_features x
    hidden_dims[0]`` weights; a ``TruncatedSVD`` step before the model keeps
    it small). Standardizing sparse instances does not centre them (that
    would fill every zero) and divides all features by one shared scale, the
    root mean per-feature variance, which keeps TF-IDF's relative weights.

    Targets: a 1-D ``y`` is one task (binary or multiclass), ``classes_`` an
    array, ``predict`` returns ``(n_bags,)``. A 2-D ``y`` is ``n_tasks`` tasks;
    ``classes_`` is a list, ``predict`` returns ``(n_bags, n_tasks)``. In a 2-D
    ``y``, NaN, None and -1 mean "no label" (so encode labels as 0/1, not
    -1/1). ``predict_proba`` and ``decision_function`` follow
    ``MLPClassifier``: for a single binary task ``(n_bags, 2)`` and
    ``(n_bags,)``; when every task is binary, ``(n_bags, n_tasks)`` of positive
    class probabilities or logits; with a multiclass task among several, a list
    with one array per task (as ``MultiOutputClassifier``).

    References
    ----------
    .. [1] Ilse, Tomczak, Welling. "Attention-based Deep Multiple Instance
       Learning." ICML 2018.
    .. [2] Wang, Yan, Tang, Bai, Liu. "Revisiting Multiple Instance Neural
       Networks." Pattern Recognition 2018 (mi-Net, MI-Net).
    .. [3] Raff, Holt. "Reproducibility in Multiple Instance Learning: A Case
       For Algorithmic Unit Tests." NeurIPS 2023.
    .. [4] Shao, Bian, Chen, Wang, Zhang, Ji, Zhang. "TransMIL: Transformer
       based Correlated Multiple Instance Learning for Whole Slide Image
       Classification." NeurIPS 2021.
    .. [5] Li, Li, Eliceiri. "Dual-stream Multiple Instance Learning Network
       for Whole Slide Image Classification with Self-supervised Contrastive
       Learning." CVPR 2021.

    Examples
    --------
    >>> from sk_ssl import MILMultitaskClassifier
    >>> from sk_ssl.datasets import load_musk1
    >>> bags, y = load_musk1(return_X_y=True)
    >>> clf = MILMultitaskClassifier(max_epochs=3, random_state=0).fit(bags, y)
    >>> clf.predict(bags[:4]).shape
    (4,)
    >>> [w.shape for w in clf.instance_weights(bags[:2])]
    [(4, 1), (4, 1)]
    """

    _parameter_constraints = {
        **_TorchEstimatorBase._parameter_constraints,
        "pooling": [StrOptions(set(_POOLINGS))],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_dims": [tuple, list],
        "attention_dim": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "encoder": [StrOptions({"auto", "mlp", "cnn", "resnet18"}), type, nn.Module],
        "instance_encoder": [HasMethods(["fit", "transform"]), None],
        "image_shape": [tuple, list, None],
        "channel_order": [StrOptions({"auto", "first", "last"})],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
    }

    # NaN in tabular instances: missing indicators (sk_ssl._tabular); image instances stay complete.
    @property
    def _allow_nan(self):
        # Tables only: with image_shape the input is images (4-D input without it is caught by _nan_in_images).
        return getattr(self, "image_shape", None) is None

    _nan_in_images = False
    _min_samples = 2
    _min_samples_reason = "a classifier needs bags of at least two classes"
    # Bags per inference step (packed, see sk_ssl._ragged).
    _inference_batch_size = 128

    def __init__(
        self,
        *,
        pooling="attention",
        n_components=128,
        hidden_dims=(256, 128),
        attention_dim=128,
        dropout=0.0,
        encoder="auto",
        instance_encoder=None,
        image_shape=None,
        channel_order="auto",
        categorical_features="from_dtype",
        max_epochs=100,
        batch_size=16,
        learning_rate=5e-4,
        weight_decay=1e-4,
        early_stopping=False,
        warm_start=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        device="auto",
        accelerator=None,
        verbose=0,
        callbacks=None,
        random_state=None,
    ):
        self.pooling = pooling
        self.n_components = n_components
        self.hidden_dims = hidden_dims
        self.attention_dim = attention_dim
        self.dropout = dropout
        self.encoder = encoder
        self.instance_encoder = instance_encoder
        self.image_shape = image_shape
        self.channel_order = channel_order
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

    # ------------------------------------------------------------------ input
    def _check_bags(self, X, bag_ids, *, reset, continuing=False):
        """Validate bags; return ``(instances (n_instances, n_features), lengths (n_bags,))``.

        Instances come bag after bag, each bag's rows in their given order.
        """
        name = type(self).__name__
        if bag_ids is not None:
            if getattr(X, "ndim", None) != 2:
                raise ValueError(
                    f"With bag_ids, X must be one 2-D table of instances (n_instances, n_features); got "
                    f"{type(X).__name__} of shape {getattr(X, 'shape', None)}. Pass a list of bags without bag_ids "
                    "instead."
                )
            ids = np.asarray(bag_ids)
            if ids.ndim != 1 or len(ids) != X.shape[0]:
                raise ValueError(
                    f"bag_ids must hold one bag id per row of X: got shape {ids.shape} for {X.shape[0]} rows."
                )
            try:
                _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
            except TypeError as exc:  # e.g. None next to ints: ids that cannot be sorted
                raise TypeError(
                    f"bag_ids must be comparable ids of one kind (e.g. all ints or all strings); got {exc}."
                ) from exc
            rank = np.empty(len(first), dtype=np.intp)
            rank[np.argsort(first, kind="stable")] = np.arange(len(first))
            codes = rank[inverse.ravel()]
            order = np.argsort(codes, kind="stable")
            lengths = np.bincount(codes, minlength=len(first))
            if sp.issparse(X):
                stacked = sp.csr_matrix(X)[order]
            else:
                stacked = X.iloc[order] if hasattr(X, "iloc") else np.asarray(X)[order]
        else:
            table = isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype != object
            if hasattr(X, "iloc") or sp.issparse(X) or table:
                raise ValueError(
                    f"X is one 2-D table, but {name} needs bags: pass bag_ids (the bag of each row), or a list of "
                    "2-D bags (n_instances_i, n_features)."
                )
            if isinstance(X, np.ndarray) and X.ndim == 3:
                bags = list(X)
            elif isinstance(X, (list, tuple)) or (isinstance(X, np.ndarray) and X.ndim == 1):
                bags = list(X)
            else:
                raise ValueError(
                    f"{name} expects a list of 2-D bags, a 3-D array of equal-size bags, or a 2-D table with "
                    f"bag_ids; got {type(X).__name__}."
                )
            if not bags:
                raise ValueError(f"X holds no bags; {name} needs at least one.")
            bags = [bag if hasattr(bag, "iloc") or sp.issparse(bag) else np.asarray(bag) for bag in bags]
            for i, bag in enumerate(bags):
                # Image instances may come as (n_i, C, H, W), (n_i, H, W, C) or grey (n_i, H, W): the shared
                # image input path (sk_ssl._images) reads them once stacked.
                if bag.ndim not in (2, 3, 4) or bag.ndim != bags[0].ndim:
                    raise ValueError(
                        f"Bag {i} has shape {bag.shape}; every bag must be 2-D (n_instances, n_features), or hold "
                        "images of one layout (n_instances, C, H, W), (n_instances, H, W, C) or (n_instances, H, W). "
                        "Wrap a single instance as [[...]]."
                    )
                if bag.shape[0] == 0:
                    raise ValueError(f"Bag {i} has no instances. Drop empty bags (and their labels) before {name}.")
                if bag.shape[1:] != bags[0].shape[1:]:
                    what = (
                        f"{bag.shape[1]} features but bag 0 has {bags[0].shape[1]}"
                        if bag.ndim == 2
                        else f"instances of shape {bag.shape[1:]} but bag 0 has {bags[0].shape[1:]}"
                    )
                    raise ValueError(f"Bag {i} has {what}: all instances must share the same features.")
            lengths = np.array([bag.shape[0] for bag in bags])
            if all(hasattr(bag, "iloc") for bag in bags):
                import pandas as pd

                stacked = pd.concat(bags, ignore_index=True)
            elif any(sp.issparse(bag) for bag in bags):  # stays sparse: densified one batch at a time
                stacked = sp.vstack([sp.csr_matrix(bag) for bag in bags], format="csr")
            else:
                stacked = np.concatenate([np.asarray(bag) for bag in bags])
        if reset and len(lengths) < self._min_samples:  # a continued fit (continuing=True) may take one bag
            raise ValueError(
                f"Found {len(lengths)} bag(s) while a minimum of {self._min_samples} is required by {name}: "
                f"{self._min_samples_reason}."
            )
        validate = self._validate_sparse if sp.issparse(stacked) else self._validate_X
        instances = validate(stacked, reset=reset, continuing=continuing)
        return instances, lengths

    def _validate_X(self, X, *, reset, continuing=False):
        if reset and self.instance_encoder is not None:  # a fitted instance_encoder's vocabularies
            self._fixed_encoding = _adopt_pretrainer_encoding(self, self.instance_encoder, X, "instance_encoder")
            try:
                return super()._validate_X(X, reset=reset)
            finally:
                del self._fixed_encoding
        return super()._validate_X(X, reset=reset, continuing=continuing)

    def _validate_sparse(self, X, *, reset, continuing=False):
        """Validate sparse instances; return them as a float CSR matrix (never densified as a whole)."""
        if continuing:
            with self._continue_hint():
                return self._validate_sparse(X, reset=False)
        if self.image_shape is not None:
            raise ValueError(
                "Sparse instances cannot be read as images (image_shape is set); pass dense bags, or set "
                "image_shape=None."
            )
        X = validate_data(self, X, reset=reset, accept_sparse="csr", dtype=[np.float64, np.float32])
        _check_float32_range(X.data, type(self).__name__)
        if reset:
            self.image_shape_ = None
        return X

    def _bag_dataset(self, instances, lengths, codes=None, device=torch.device("cpu")):
        """Training or inference dataset of the bags: sparse instances stay on the host, densified per batch."""
        if sp.issparse(instances):
            return _SparseBagDataset(instances, lengths, None if codes is None else torch.as_tensor(codes))
        return _BagDataset(_to_device(instances, device), lengths, _to_device(codes, device))

    def _check_targets(self, y, n_bags, *, reset=True, min_classes=2):
        """Set ``classes_``/``n_tasks_``; return codes ``(n_bags, n_tasks)`` (float, -1 = missing).

        A continued fit (``reset=False``) keeps the fitted ``classes_`` and
        ``n_tasks_``: y may hold fewer classes, not new ones, and codes index
        the fitted classes. ``min_classes`` is the fewest classes a task needs.
        """
        if not reset:
            fitted = self.classes_, self.n_tasks_
            try:
                codes = self._check_targets(y, n_bags, min_classes=1)
                new = self._classes_per_task
            finally:
                self.classes_, self.n_tasks_ = fitted
            old = self._classes_per_task
            if len(new) != len(old):
                raise ValueError(
                    f"y has {len(new)} task(s) but the fitted model has {len(old)}. warm_start=True continues the "
                    "fitted model, which needs the same tasks; set warm_start=False to fit from scratch."
                )
            for task, (old_classes, new_classes) in enumerate(zip(old, new)):
                to_old = _class_codes(
                    new_classes, old_classes, name=f"Task {task} of y",
                    fix="warm_start=True continues the fitted model, whose output layer is fixed; set "
                    "warm_start=False to fit from scratch with the new classes.",
                )  # fmt: skip
                column = codes[:, task]
                codes[:, task] = np.where(column >= 0, to_old[np.maximum(column, 0).astype(int)], -1)
            return codes
        y = np.asarray(y, dtype=None if getattr(y, "dtype", None) is not None else object)
        if y.ndim == 1 and y.dtype == object:
            y = np.asarray(y.tolist())
        if y.ndim not in (1, 2) or len(y) != n_bags:
            raise ValueError(
                f"y must have shape (n_bags,) or (n_bags, n_tasks) with n_bags={n_bags}; got shape {y.shape}."
            )
        if y.ndim == 1:
            if y.dtype.kind == "f" and np.isnan(y).any():
                raise ValueError(
                    "y holds NaN. For a single task drop the unlabelled bags; missing labels (NaN or -1) are "
                    "supported in a 2-D y of shape (n_bags, n_tasks)."
                )
            check_classification_targets(y)
            self.classes_, codes = np.unique(y, return_inverse=True)
            if len(self.classes_) < min_classes:
                raise ValueError(f"y has a single class {self.classes_[0]!r}; {self._min_samples_reason}.")
            self.n_tasks_ = 1
            return codes.reshape(-1, 1).astype(np.float32)
        self.classes_, columns = [], []
        for task in range(y.shape[1]):
            column = y[:, task]
            missing = _missing(column)
            if missing.all():
                raise ValueError(
                    f"Task {task} of y has no labels at all (every entry is NaN, None or -1). Drop that column or "
                    "label some of its bags."
                )
            values = np.asarray(column[~missing].tolist()) if column.dtype == object else column[~missing]
            check_classification_targets(values)
            classes = np.unique(values)
            if len(classes) < min_classes:
                raise ValueError(
                    f"Task {task} of y has a single class {classes[0]!r} among its labels; every task needs two "
                    "classes. Drop that column or add bags of another class."
                )
            codes = np.full(n_bags, -1.0, dtype=np.float32)
            codes[~missing] = np.searchsorted(classes, values)
            self.classes_.append(classes)
            columns.append(codes)
        self.n_tasks_ = y.shape[1]
        return np.column_stack(columns)

    # --------------------------------------------------------------- training
    def fit(self, X, y, bag_ids=None):
        """Train on labelled bags.

        Parameters
        ----------
        X : list of array-like of shape (n_instances_i, n_features), or array-like
            Bags: a list (or 1-D object array) of 2-D bags, a 3-D array of
            equal-size bags, or one 2-D table of instances with ``bag_ids``.
        y : array-like of shape (n_bags,) or (n_bags, n_tasks)
            Bag labels; in a 2-D ``y``, NaN, None or -1 marks a missing label.
        bag_ids : array-like of shape (n_instances,) or None, default=None
            Bag of each row when X is one table of instances.

        Returns
        -------
        self : MILMultitaskClassifier
            The fitted estimator.
        """
        self._validate_params()
        continuing = self._continues_fit()
        instances, lengths = self._check_bags(X, bag_ids, reset=not continuing, continuing=continuing)
        codes = self._check_targets(y, len(lengths), reset=not continuing)
        if not continuing:  # a continued fit keeps its instance encoder
            self.instance_encoder_ = self._fit_instance_encoder(instances)
        dataset = self._bag_dataset(instances, lengths, codes, self._training_device())
        return self._train(dataset, codes, continuing=continuing)

    def _fit_instance_encoder(self, instances):
        embedder = self.instance_encoder
        if embedder is None:
            return None
        if not hasattr(embedder, "export_encoder"):
            raise ValueError(
                f"instance_encoder={type(embedder).__name__} has no export_encoder(), so no sk_ssl encoder to "
                "reuse; pass an sk_ssl embedder such as ContrastiveEmbedder."
            )
        if not hasattr(embedder, "module_"):
            embedder = clone(embedder)
            with _coded_pretraining(self, embedder):  # the instances hold codes already
                embedder.fit(instances)
        embedder.export_encoder()  # raises a clear error for an embedder without a single encoder
        if embedder.n_features_in_ != self.n_features_in_:
            raise ValueError(
                f"instance_encoder was fitted on {embedder.n_features_in_} features but the bags' instances have "
                f"{self.n_features_in_}. Fit it on the same instance features."
            )
        return embedder

    def _build(self, X, y=None):
        return _build_model("multitask_bags", self, X)

    def _instance_encoder(self, X):
        """``(encoder, input_shape, mean, scale, width)`` of the instances: pretrained, or new and standardized on X."""
        if self.instance_encoder_ is not None:
            pretrained = self.instance_encoder_.export_encoder()
            mean, scale = pretrained.mean.flatten().cpu(), pretrained.scale.flatten().cpu()
            return pretrained.encoder.train(), pretrained.input_shape, mean, scale, self.instance_encoder_.n_components
        if sp.issparse(X.instances):
            mean, scale = _sparse_standardization(X.instances)
        else:
            mean, scale = self._standardization(X.instances.cpu().numpy())
        input_shape = self._input_shape
        resolved = "mlp" if self.encoder == "auto" and len(input_shape) == 1 else self.encoder
        kwargs = {"hidden_dims": tuple(self.hidden_dims)} if resolved == "mlp" else {}
        if len(input_shape) == 1:  # categorical features and missing indicators (sk_ssl._tabular)
            mean, scale = _unstandardized_codes(self, mean, scale)
            build = lambda e, shape, w: make_encoder(e, shape, w, **kwargs)  # noqa: E731
            encoder = _with_code_embedding(self, build, resolved, input_shape[0], self.n_components)
        else:
            encoder = make_encoder(resolved, input_shape, self.n_components, **kwargs)
        return encoder, input_shape, mean, scale, self.n_components

    def _template_fit_data(self):
        # Two one-instance bags; _build reads only their shape (and the classes).
        return _BagDataset(torch.as_tensor(_template_rows(self, self.n_features_in_)), [1, 1]), None

    @property
    def _classes_per_task(self):
        return self.classes_ if isinstance(self.classes_, list) else [self.classes_]

    # -------------------------------------------------------------- inference
    def _dataset(self, X, bag_ids):
        check_is_fitted(self)
        instances, lengths = self._check_bags(X, bag_ids, reset=False)
        return self._bag_dataset(instances, lengths)

    def _task_logits(self, X, bag_ids):
        check_is_fitted(self)
        logits = self._map_batches(lambda batch: self.module_(**batch), self._dataset(X, bag_ids))
        n_logits = [1 if len(c) == 2 else len(c) for c in self._classes_per_task]
        return np.split(logits, np.cumsum(n_logits)[:-1], axis=1)

    def _per_task(self, per_task, binary_column):
        """Shape per-task outputs by the conventions in the Notes."""
        if not isinstance(self.classes_, list):
            return per_task[0]
        if all(len(c) == 2 for c in self.classes_):
            return np.column_stack([binary_column(out) for out in per_task])
        return per_task

    def decision_function(self, X, bag_ids=None):
        """Bag logits.

        Parameters
        ----------
        X : list of array-like, or array-like
            Bags, in any form ``fit`` accepts.
        bag_ids : array-like of shape (n_instances,) or None, default=None
            Bag of each row when X is one table of instances.

        Returns
        -------
        scores : ndarray or list of ndarray
            Single task: ``(n_bags,)`` (binary, logit of ``classes_[1]``) or
            ``(n_bags, n_classes)``. Several binary tasks: ``(n_bags,
            n_tasks)``. Otherwise a list with one such array per task.
        """
        per_task = [out[:, 0] if out.shape[1] == 1 else out for out in self._task_logits(X, bag_ids)]
        return self._per_task(per_task, lambda out: out)

    def predict_proba(self, X, bag_ids=None):
        """Class probabilities of bags.

        Parameters
        ----------
        X : list of array-like, or array-like
            Bags, in any form ``fit`` accepts.
        bag_ids : array-like of shape (n_instances,) or None, default=None
            Bag of each row when X is one table of instances.

        Returns
        -------
        proba : ndarray or list of ndarray
            Single task: ``(n_bags, n_classes)``. Several binary tasks:
            ``(n_bags, n_tasks)`` of positive class probabilities (as
            ``MLPClassifier`` for multi-label y). Otherwise a list with one
            ``(n_bags, n_classes_j)`` array per task.
        """
        per_task = []
        for logits in self._task_logits(X, bag_ids):
            t = torch.from_numpy(logits)
            if logits.shape[1] == 1:
                p = torch.sigmoid(t)
                per_task.append(torch.cat([1 - p, p], dim=1).numpy())
            else:
                per_task.append(torch.softmax(t, dim=1).numpy())
        return self._per_task(per_task, lambda proba: proba[:, 1])

    def predict(self, X, bag_ids=None):
        """Predict bag labels.

        Parameters
        ----------
        X : list of array-like, or array-like
            Bags, in any form ``fit`` accepts.
        bag_ids : array-like of shape (n_instances,) or None, default=None
            Bag of each row when X is one table of instances.

        Returns
        -------
        y_pred : ndarray of shape (n_bags,) or (n_bags, n_tasks)
            Labels from ``classes_`` (per task for a 2-D ``y``).
        """
        labels = []
        for logits, classes in zip(self._task_logits(X, bag_ids), self._classes_per_task):
            codes = (logits[:, 0] > 0).astype(int) if logits.shape[1] == 1 else logits.argmax(1)
            labels.append(classes[codes])
        return labels[0] if not isinstance(self.classes_, list) else np.column_stack(labels)

    def score(self, X, y, sample_weight=None, bag_ids=None):
        """Accuracy; subset accuracy over the labelled tasks for a 2-D ``y``.

        Parameters
        ----------
        X : list of array-like, or array-like
            Bags, in any form ``fit`` accepts.
        y : array-like of shape (n_bags,) or (n_bags, n_tasks)
            True labels; in a 2-D ``y`` missing labels (NaN, None, -1) are
            ignored, and a bag without any label is skipped.
        sample_weight : array-like of shape (n_bags,) or None, default=None
            Bag weights.
        bag_ids : array-like of shape (n_instances,) or None, default=None
            Bag of each row when X is one table of instances.

        Returns
        -------
        score : float
            Share of bags whose every labelled task is predicted right.
        """
        y_pred = self.predict(X, bag_ids=bag_ids)
        if not isinstance(self.classes_, list):
            return float(accuracy_score(y, y_pred, sample_weight=sample_weight))
        y = np.asarray(y, dtype=None if getattr(y, "dtype", None) is not None else object)
        labelled = np.column_stack([~_missing(y[:, task]) for task in range(y.shape[1])])
        correct = np.all((y == y_pred) | ~labelled, axis=1)
        keep = labelled.any(axis=1)
        weights = None if sample_weight is None else np.asarray(sample_weight)[keep]
        return float(np.average(correct[keep], weights=weights))

    def instance_weights(self, X, bag_ids=None):
        """How much each instance contributed to its bag's prediction, per task.

        Attention weights for the attention poolings; ``1 / n_i`` for
        ``"mean"``; for ``"max"`` and ``"instance_max"`` the share of pooled
        features (or of the task's logits) at which the instance is the bag's
        maximum; for ``"transformer"`` the class token's attention in the
        last block; for ``"dsmil"`` the bag stream's attention (similarity to
        the critical instance). Each bag's column sums to one.

        For documents from :class:`SentenceBagVectorizer`, rows are the
        sentences of :meth:`SentenceBagVectorizer.get_sentences`: which
        sentences drove which label.

        Parameters
        ----------
        X : list of array-like, or array-like
            Bags, in any form ``fit`` accepts.
        bag_ids : array-like of shape (n_instances,) or None, default=None
            Bag of each row when X is one table of instances.

        Returns
        -------
        weights : list of ndarray of shape (n_instances_i, n_tasks)
            One array per bag, rows in the bag's instance order (with
            ``bag_ids``: bags by first appearance, rows in table order).
        """
        dataset = self._dataset(X, bag_ids)
        # One row per instance, not per bag: ragged.
        flat = self._map_batches(lambda batch: self.module_.instance_weights(**batch), dataset, ragged=True)
        return np.split(flat, np.cumsum(dataset.lengths.numpy())[:-1])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.input_tags.sparse = True  # bags as sparse matrices, or one sparse table with bag_ids
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.classifier_tags.multi_label = True
        return tags


def _missing(column):
    """Missing-label mask of one task's column: NaN, None or -1."""
    column = np.asarray(column)
    if column.dtype.kind == "f":
        return np.isnan(column) | (column == -1)
    if column.dtype.kind in "iub":
        return column == -1
    return np.array([v is None or (isinstance(v, Real) and (v != v or v == -1)) for v in column], dtype=bool)


def _sparse_standardization(X):
    """No centring and one scale shared by all features, for sparse instances.

    Subtracting the mean would make every zero of a sparse row non-zero, so
    the mean stays 0. The scale is one number for all features, the root of
    the mean per-feature variance (computed from sparse sums): the rows keep
    the vectorizer's relative weights (e.g. TF-IDF's IDF and L2 norm), while
    their overall size matches standardized dense features. A per-feature
    scale (``StandardScaler(with_mean=False)``) would blow rare words up by
    the inverse of their tiny standard deviation; on the bundled Reuters
    sample it lost 8 points of micro-F1 (0.68 vs 0.76).
    """
    n = X.shape[0]
    mean = np.asarray(X.sum(axis=0), dtype=np.float64).ravel() / n
    mean_sq = np.asarray(X.multiply(X).sum(axis=0), dtype=np.float64).ravel() / n
    variance = np.maximum(mean_sq - mean**2, 0.0).mean()
    scale = np.sqrt(variance) if variance > 1e-16 else 1.0
    return np.zeros(X.shape[1], dtype=np.float32), np.full(X.shape[1], scale, dtype=np.float32)


class _SparseBagDataset(_BagDataset):
    """Bags whose instances are rows of one scipy CSR matrix kept on the host.

    Like ``_BagDataset`` (same ``batch`` output:
    ``{"lengths": (B,), "instances": (N, F)}``), but only the rows of one
    batch's bags are densified; the engine then moves that batch to the
    device. The whole matrix is never densified.
    """

    def __init__(self, instances, lengths, y=None):
        self.instances = sp.csr_matrix(instances, dtype=np.float32)
        self.lengths = torch.as_tensor(lengths, dtype=torch.long)
        self.starts = torch.cumsum(self.lengths, 0) - self.lengths
        self.y = y

    def batch(self, indices):
        indices = indices.cpu()
        lengths = self.lengths[indices]
        rows = _packed_rows(self.starts[indices], lengths).numpy()
        X = {"lengths": lengths, "instances": torch.from_numpy(self.instances[rows].toarray())}
        return X, None if self.y is None else self.y[indices]
