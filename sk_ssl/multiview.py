"""MultiViewEmbedder: cross-view contrastive alignment and fusion of several views."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted
from torch import nn

from ._base import EmbedderMixin, SSLEstimatorBase
from ._sparse import _nan_counts
from ._images import _check_pixel_range, _is_path_sequence, _scale_image_columns
from ._tabular import _missing_codes_as_nan, _table_encoder, _view_codes, _view_nan_features
from .augment import ImageAugmentation, TabularCorruption
from .encoders import ProjectionHead, make_encoder
from .models import MultiViewModel, SSLModel, ViewFusion
from .objectives import _objective_loss

__all__ = ["MultiViewEmbedder"]

_VIEWS_EXAMPLE = (
    'e.g. views=[("pixels", slice(0, 240)), ("shape", [240, 241, 242])], or with DataFrame column names '
    'views=[("left", ["a", "b"]), ("right", ["c", "d"])]; add a third entry (C, H, W) to read a view as images: '
    '("image", slice(0, 784), (1, 28, 28))'
)


class MultiViewEmbedder(EmbedderMixin, SSLEstimatorBase):
    """Cross-view contrastive embedding of samples described by several views.

    Declare which columns of ``X`` form each *view* (e.g. image pixels and
    measured shape features, or two sensors), in the spirit of
    :class:`~sklearn.compose.ColumnTransformer`. ``fit`` trains one encoder
    per view so that the views of the same sample map to nearby points and
    views of different samples map apart: CLIP-style symmetric InfoNCE over
    every pair of views (Radford et al., 2021; for two views this is the
    contrastive multiview coding objective of Tian et al., 2020).
    ``transform`` returns the fused embedding (``fusion``), and
    :meth:`transform_views` the per-view embeddings.

    What the views share is what survives: view-specific noise cannot help to
    pick the matching sample in the other view, so the embedding keeps the
    shared factors, the signal that usually carries the label.

    **Missing views.** A row whose columns of one view are *all* NaN lacks that
    view: it is left out of that view's loss terms, and its fused embedding is
    computed from its remaining views (``"mean"`` and ``"attention"`` average
    over the present views; ``"concat"`` fills the missing view's block with
    the mean of the present views' embeddings, which live in one shared
    space). Rows with every view missing are an error. In a **table view**,
    NaN in only some of its columns is a missing cell: the view's encoder
    gets a missing indicator per column that held NaN (in rows that have
    the view) in ``fit``, and SCARF corruption draws "missing" as a value.
    In an image view it is an error: impute the pixels first.

    **Categorical columns** (``categorical_features``) of table views get
    vocabularies and learned embeddings as in :class:`ContrastiveEmbedder`;
    a missing category counts as a missing cell (so a view whose cells are
    all missing, categories included, is a missing view).

    **Column bookkeeping.** Views may not overlap (a column shared by two
    views lets the encoders match views by copying it instead of learning
    what the views share; an overlap is an error). Columns that belong to no
    view are ignored, like ``ColumnTransformer(remainder="drop")``; their
    indices are in ``unused_features_`` and they may hold anything numeric,
    NaN included.

    Parameters
    ----------
    views : list of tuples
        ``(name, columns)`` or ``(name, columns, image_shape)`` per view, at
        least two. ``columns`` selects the view's columns of X like
        ColumnTransformer: an int, a list or array of ints, a slice, a boolean
        mask of length ``n_features``, a column name or list of names (X a
        DataFrame; a slice of names includes its end), or a callable that takes
        X and returns one of these. ``image_shape`` ``(C, H, W)`` (one entry
        may be -1) reads the view's columns, in order, as row-major images and
        gives it a CNN. None (the default) raises an error that shows an
        example: views must be declared.

        An image view's columns are read channel-major, as
        ``X.reshape(len(X), -1)`` flattens an ``(N, C, H, W)`` array; for
        channels-last images flatten ``np.moveaxis(X, -1, 1)`` instead. There
        is no per-view channel order: flat columns carry no axes to infer it
        from, so ``image_shape`` alone says how they are read. Integer pixels
        (uint8, or columns of an integer type in a DataFrame) are scaled to
        [0, 1] as in every image estimator, so they give the same embeddings
        as the same pixels as floats in [0, 1]; tabular views are never
        rescaled. An image view's columns must share one type (all integer
        or all float), and later inputs must keep the fitted pixel scale.
    fusion : {"concat", "mean", "attention"}, default="concat"
        How ``transform`` combines the view embeddings. ``"concat"``: side by
        side, ``n_views * n_components`` columns. ``"mean"``: their mean,
        ``n_components`` columns. ``"attention"``: a weighted mean with
        learned, per-sample weights over the present views (gated attention),
        ``n_components`` columns; its weights are trained by also contrasting
        each view with the fused embedding.
    n_components : int, default=128
        Embedding width of each view's encoder.
    encoder : {"auto", "mlp", "cnn", "resnet18"}, nn.Module class or instance, default="auto"
        Encoder of every view. ``"auto"`` picks ``"mlp"`` for a view without
        ``image_shape``, ``"cnn"`` for images up to 32 px a side and
        ``"resnet18"`` above. A class is called as
        ``encoder(input_shape, n_components)``; see :mod:`sk_ssl.encoders`.
        An ``nn.Module`` instance is your own backbone (e.g. a torchvision
        ResNet with its ``fc`` replaced by ``nn.Identity()``, pretrained
        weights loaded on your side): every view trains its own deep copy of it (the
        instance passed in is never modified) and ``transform`` uses that
        copy. It must map ``(N, *input_shape)`` to ``(N, n_components)``, so
        set ``n_components`` to its output width (a dry forward pass checks
        it and names the width otherwise). Such an estimator clones and
        pickles, but ``save`` refuses it (the safe format holds no code).
    projection_dim : int, default=128
        Output width of the projection head (shared by all views), used only
        by the loss.
    temperature : float, default=0.5
        Softmax temperature of the loss; lower values (0.05-0.5) weight hard
        negatives more.
    augment : bool, default=True
        Also corrupt each view during training: SCARF corruption (values from
        the view's empirical marginals) for tabular views, random crops and
        jitter for image views. It regularises the encoders on small data.
    corruption_rate : float, default=0.3
        Fraction of each tabular view's features corrupted when
        ``augment=True``.
    categorical_features : "from_dtype", array-like or None, default="from_dtype"
        The categorical columns of X, as in :class:`ContrastiveEmbedder`
        (``"from_dtype"``: the ``category``, ``object``/``string`` and
        ``bool`` columns of a DataFrame; or a boolean mask, indices or
        names). Only table views may hold them.
    max_epochs : int, default=100
        Training epochs (passes over X).
    batch_size : int, default=128
        Samples per step; more samples give more negatives.
    learning_rate : float, default=1e-3
        AdamW learning rate.
    weight_decay : float, default=0.0
        AdamW weight decay.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of X and stop when the validation loss
        has not improved for ``n_iter_no_change`` epochs; the best weights are
        restored.
    warm_start : bool, default=False
        When True and the estimator is already fitted, ``fit`` trains the
        fitted model for ``max_epochs`` more epochs (``history_`` and
        ``n_iter_`` grow, the AdamW moments carry over) instead of starting
        over. Kept from the first fit: the views (``view_columns_``), the
        encoders, their standardization statistics and augmentations; X must
        have the same columns. See also ``partial_fit``.
    validation_fraction : float, default=0.1
        Share of X held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    device : str or torch.device, default="auto"
        ``"auto"`` trains on CUDA when available, else CPU.
    accelerator : accelerate.Accelerator or None, default=None
        Train through Hugging Face Accelerate, e.g. on several GPUs for one fit
        under ``accelerate launch`` (see "Scaling out" in the user guide). The
        accelerator then chooses the device and mixed precision, and
        ``batch_size`` is per process. None trains on ``device``.
    verbose : int, default=0
        0 silent, 1 a progress bar over epochs, 2 a table row per epoch.
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and augmentation; the global
        torch RNG is left untouched.

    Attributes
    ----------
    module_ : MultiViewModel
        The trained torch model (one encoder per view, head, fusion).
    view_names_ : list of str
        The views' names, in the order of ``views``.
    view_columns_ : dict of str to ndarray of int
        The column indices of X each view reads.
    view_image_shapes_ : dict of str to tuple or None
        Resolved image shape of each view (None for tabular views).
    unused_features_ : ndarray of int
        Indices of the columns of X that belong to no view (ignored).
    categorical_features_ : ndarray of bool of shape (`n_features_in_`,) or None
        The categorical columns; None when there are none.
    categories_ : list of (ndarray or None) or None
        Per column, the categories with their own code (see
        :class:`ContrastiveEmbedder`); None without categorical columns.
    nan_features_ : ndarray of bool of shape (`n_features_in_`,) or None
        The numeric table-view columns that held NaN (in rows that have
        their view) in ``fit``, each with a missing indicator; None when none
        did.
    history_ : skorch.History
        Per-epoch records: ``train_loss``, ``valid_loss`` (with early
        stopping), ``dur``.
    n_iter_ : int
        Number of epochs run.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen in ``fit``, when X had string column names.

    See Also
    --------
    ContrastiveEmbedder : Contrastive learning on one view (SCARF, SimCLR).
    sklearn.cross_decomposition.CCA : Linear two-view baseline.
    sklearn.compose.ColumnTransformer : The same column selection, per view.

    References
    ----------
    .. [1] Radford et al. "Learning Transferable Visual Models From Natural
       Language Supervision." ICML 2021 (CLIP).
    .. [2] Tian, Krishnan, Isola. "Contrastive Multiview Coding." ECCV 2020.
    .. [3] Ilse, Tomczak, Welling. "Attention-based Deep Multiple Instance
       Learning." ICML 2018 (the gated attention score).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sk_ssl import MultiViewEmbedder
    >>> X, y = load_digits(return_X_y=True)
    >>> views = [("top", slice(0, 32)), ("bottom", slice(32, 64))]
    >>> emb = MultiViewEmbedder(views=views, n_components=16, max_epochs=2, random_state=0)
    >>> emb.fit_transform(X[:200]).shape
    (200, 32)
    >>> {name: Z.shape for name, Z in emb.transform_views(X[:5]).items()}
    {'top': (5, 16), 'bottom': (5, 16)}
    """

    _parameter_constraints = {
        **SSLEstimatorBase._parameter_constraints,
        "views": [list, tuple, None],
        "fusion": [StrOptions({"concat", "mean", "attention"})],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "encoder": [StrOptions({"auto", "mlp", "cnn", "resnet18"}), type, nn.Module],
        "projection_dim": [Interval(Integral, 1, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "augment": ["boolean"],
        "corruption_rate": [Interval(Real, 0, 1, closed="both")],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
    }
    _allow_nan = True  # whole views may be missing (all NaN); see _view_presence

    def __init__(
        self,
        *,
        views=None,
        fusion="concat",
        n_components=128,
        encoder="auto",
        projection_dim=128,
        temperature=0.5,
        augment=True,
        corruption_rate=0.3,
        categorical_features="from_dtype",
        max_epochs=100,
        batch_size=128,
        learning_rate=1e-3,
        weight_decay=0.0,
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
        self.views = views
        self.fusion = fusion
        self.n_components = n_components
        self.encoder = encoder
        self.projection_dim = projection_dim
        self.temperature = temperature
        self.augment = augment
        self.corruption_rate = corruption_rate
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

    # ------------------------------------------------------------------ views
    def _check_input(self, X, *, reset):
        if _is_path_sequence(X):
            raise ValueError(
                "MultiViewEmbedder reads views as column groups of a 2-D table; it does not read image files. "
                "Decode them into an array first, or embed them with ContrastiveEmbedder."
            )
        if getattr(X, "ndim", 2) in (3, 4):
            raise ValueError(
                f"MultiViewEmbedder reads views as column groups of a 2-D X; got a {X.ndim}-D array. Flatten the "
                "images channel-major: (N, C, H, W) or (N, H, W) as they are (X.reshape(len(X), -1)), channels-last "
                "(N, H, W, C) with np.moveaxis(X, -1, 1).reshape(len(X), -1); and give the view an image_shape: "
                "('image', columns, (C, H, W))."
            )
        X_in = X
        X = self._validate_X(X, reset=reset)
        if reset is True:  # not when continuing (warm_start, partial_fit): the views stay
            self._resolve_views(X_in, X.shape[1])
        X = _missing_codes_as_nan(self, X)  # a missing category is a missing cell, like NaN
        # Image views: integer pixels scaled to [0, 1] like every image estimator (sk_ssl._images).
        for name in self.view_names_:
            cols = self.view_columns_[name]
            if self.view_image_shapes_[name] is None:
                continue
            where = f"MultiViewEmbedder (view {name!r})"
            scaled = _scale_image_columns(X, X_in, cols, where)
            _check_pixel_range(self, X[:, cols], scaled=scaled, reset=reset is True, name=where, view=name)
        return X

    def _resolve_views(self, X_in, n_features):
        if self.views is None or len(self.views) == 0:
            raise ValueError(f"MultiViewEmbedder needs views=[(name, columns), ...]: {_VIEWS_EXAMPLE}.")
        names, columns, shapes, owner = [], {}, {}, {}
        for entry in self.views:
            if not isinstance(entry, (tuple, list)) or len(entry) not in (2, 3) or not isinstance(entry[0], str):
                raise ValueError(
                    f"Each view must be a tuple (name, columns) or (name, columns, image_shape) with a str name; "
                    f"got {entry!r}: {_VIEWS_EXAMPLE}."
                )
            name, spec = entry[0], entry[1]
            if name in columns:
                raise ValueError(f"View name {name!r} is used twice; give every view its own name.")
            cols = self._view_columns(name, spec(X_in) if callable(spec) else spec, n_features)
            for col in cols:
                if col in owner:
                    shared = sorted(set(cols) & set(columns[owner[col]]))
                    raise ValueError(
                        f"Views {owner[col]!r} and {name!r} share column(s) {self._describe(shared)}. Each column "
                        "may belong to one view only: a shared column lets the encoders match the views by copying "
                        "it instead of learning what the views have in common. Remove it from one of the views."
                    )
                owner[col] = name
            shape = entry[2] if len(entry) == 3 else None
            if shape is not None:
                try:
                    shape = self._resolve_image_shape(len(cols), None, image_shape=shape)
                except ValueError as exc:
                    raise ValueError(f"View {name!r} ({len(cols)} columns): {exc}") from exc
            names.append(name)
            columns[name] = cols
            shapes[name] = shape
        if len(names) < 2:
            raise ValueError(
                f"MultiViewEmbedder needs at least two views to contrast; got {len(names)}. "
                "For a single view use ContrastiveEmbedder."
            )
        self.view_names_ = names
        self.view_columns_ = columns
        self.view_image_shapes_ = shapes
        self.unused_features_ = np.setdiff1d(np.arange(n_features), np.concatenate(list(columns.values())))

    def _describe(self, cols):
        names = getattr(self, "feature_names_in_", None)
        shown = [str(names[c]) for c in cols[:10]] if names is not None else [int(c) for c in cols[:10]]
        return f"{shown}{' ...' if len(cols) > 10 else ''}"

    def _view_columns(self, name, spec, n_features):
        """Column indices (sorted as given, no duplicates) selected by ``spec``."""
        feature_names = getattr(self, "feature_names_in_", None)
        where = f"View {name!r}"

        def by_name(key):
            if feature_names is None:
                raise ValueError(
                    f"{where} selects columns by name ({str(key)!r}) but X has no column names; pass a DataFrame "
                    "or select by integer index."
                )
            hits = np.flatnonzero(feature_names == key)
            if len(hits) == 0:
                shown = [str(c) for c in feature_names[:10]]
                raise ValueError(f"{where}: column {str(key)!r} is not in X (columns: {shown}{' ...' if len(feature_names) > 10 else ''}).")
            return int(hits[0])

        if isinstance(spec, slice):
            if isinstance(spec.start, str) or isinstance(spec.stop, str):
                start = 0 if spec.start is None else by_name(spec.start)
                stop = n_features if spec.stop is None else by_name(spec.stop) + 1  # label slices include the end
                idx = np.arange(n_features)[start : stop : spec.step]
            else:
                idx = np.arange(n_features)[spec]
        else:
            arr = np.asarray([spec] if isinstance(spec, (Integral, str)) else spec)
            if arr.ndim != 1:
                raise ValueError(f"{where}: columns must be one-dimensional; got shape {arr.shape}.")
            if arr.dtype == bool:
                if len(arr) != n_features:
                    raise ValueError(
                        f"{where}: a boolean mask needs one entry per column of X ({n_features}); got {len(arr)}."
                    )
                idx = np.flatnonzero(arr)
            elif arr.dtype.kind in "iu" or len(arr) == 0:
                idx = arr.astype(int)
                bad = idx[(idx >= n_features) | (idx < -n_features)]
                if len(bad):
                    raise ValueError(f"{where}: column index {int(bad[0])} is out of range for X with {n_features} columns.")
                idx = np.where(idx < 0, idx + n_features, idx)
            elif arr.dtype.kind in "UO":
                idx = np.array([by_name(key) for key in arr], dtype=int)
            else:
                raise ValueError(
                    f"{where}: columns must be ints, names, a slice, a boolean mask or a callable; got {spec!r}."
                )
        if len(idx) == 0:
            raise ValueError(f"{where} selects no columns of X, which has {n_features} feature(s).")
        if len(np.unique(idx)) != len(idx):
            raise ValueError(f"{where} lists a column twice; list each column once.")
        return np.asarray(idx, dtype=int)

    def _view_presence(self, X, *, fitting):
        """(V, N) bool: which rows have which view; errors for partial NaN and empty rows."""
        present = []
        for name in self.view_names_:
            width = len(self.view_columns_[name])
            nan = _nan_counts(X[:, self.view_columns_[name]])
            missing, partial = nan == width, (nan > 0) & (nan < width)
            if partial.any() and self.view_image_shapes_[name] is not None:  # table views: missing indicators
                rows = np.flatnonzero(partial)
                raise ValueError(
                    f"Row(s) {rows[:10].tolist()}{' ...' if len(rows) > 10 else ''} have NaN in some but not all "
                    f"pixels of image view {name!r}. An image view is either observed or missing as a whole (all "
                    "its columns NaN). Impute the missing pixels first (e.g. SimpleImputer on those columns) or set the "
                    "whole view to NaN."
                )
            if fitting and (~missing).sum() < 2:
                raise ValueError(
                    f"View {name!r} is present in {(~missing).sum()} training row(s); it needs at least 2 "
                    "to be learned. Drop the view or add rows that have it."
                )
            present.append(~missing)
        present = np.array(present)
        empty = ~present.any(axis=0)
        if empty.any():
            rows = np.flatnonzero(empty)
            raise ValueError(
                f"Row(s) {rows[:10].tolist()}{' ...' if len(rows) > 10 else ''} have every view missing (all NaN); "
                "there is nothing to embed them from. Drop those rows."
            )
        return present

    # ---------------------------------------------------------------- fitting
    def fit(self, X, y=None):
        """Train the per-view encoders on X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data: numbers, and categorical columns in table views.
            A view may be missing in a row (all its columns NaN) as long as
            every row has at least one view; a table view may also miss
            single cells.
        y : None
            Ignored; present for Pipeline compatibility.

        Returns
        -------
        self : MultiViewEmbedder
            The fitted estimator.
        """
        return self._fit_embedder(X)

    def _check_fit_input(self, X, *, reset):
        X = self._check_input(X, reset=reset)
        present = self._view_presence(X, fitting=True)
        if reset is True:
            _view_nan_features(self, X, present)
        return X

    def _input_moments(self, X):
        # partial_fit's running statistics keep each view's code columns unstandardized.
        moments = super()._input_moments(X)
        out = []
        for (count, mean, m2), name in zip(moments, self.view_names_):
            local, _, _ = _view_codes(self, self.view_columns_[name])
            if local and self.view_image_shapes_[name] is None:
                mean, m2 = np.array(mean, dtype=np.float64, copy=True), np.array(m2, dtype=np.float64, copy=True)
                mean[local], m2[local] = 0.0, np.asarray(count, dtype=np.float64)[local]
            out.append((count, mean, m2))
        return out

    def _standardized_inputs(self):
        return [
            (model, self.view_columns_[name], self.view_image_shapes_[name])
            for model, name in zip(self.module_.views, self.view_names_)
        ]

    def _build(self, X, y=None):
        models, columns, augmentations = [], [], []
        for name in self.view_names_:
            cols, shape = self.view_columns_[name], self.view_image_shapes_[name]
            view = X[:, cols]
            rows = view[_nan_counts(view) < len(cols)]
            input_shape = shape if shape is not None else (len(cols),)
            mean, scale = self._standardization(rows, image_shape=shape)
            if shape is None:  # categorical columns and missing indicators (sk_ssl._tabular)
                codes, n_codes, nan_columns = _view_codes(self, cols)
                mean, scale = np.array(mean, dtype=np.float64), np.array(scale, dtype=np.float64)
                mean[codes], scale[codes] = 0.0, 1.0
                encoder = _table_encoder(
                    make_encoder, self.encoder, len(cols), self.n_components, codes, n_codes, nan_columns
                )
            else:
                encoder = make_encoder(self.encoder, input_shape, self.n_components)
            models.append(SSLModel(encoder, input_shape, mean, scale))
            columns.append(cols)
            augmentations.append(self._augmentation(rows, shape) if self.augment else None)
        fusion = ViewFusion(self.fusion, len(models), self.n_components)
        model = MultiViewModel(
            models,
            columns,
            fusion,
            ProjectionHead(self.n_components, 256, self.projection_dim),
            augmentations=augmentations,
            fused_loss=self.fusion == "attention",
        )
        return model, _objective_loss("cross_view", self.temperature)

    def _augmentation(self, rows, shape):
        if shape is None:
            return TabularCorruption(rows, self.corruption_rate)
        side = min(shape[1:])
        return ImageAugmentation(crop_scale=(0.08, 1.0) if side >= 64 else (0.2, 1.0) if side >= 24 else (0.4, 1.0))

    # -------------------------------------------------------------- inference
    def _prepare(self, X):
        check_is_fitted(self)
        X = self._check_input(X, reset=False)
        self._view_presence(X, fitting=False)
        return X

    def transform(self, X):
        """Fused embedding of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data with the columns seen in ``fit``; a row may miss whole views.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_views * n_components) or (n_samples, n_components)
            The fused view embeddings (``n_views * n_components`` columns for
            ``fusion="concat"``). Same float dtype as X.
        """
        X = self._prepare(X)
        return self._map_batches(self.module_.encode, X, dtype=X.dtype)

    def transform_views(self, X):
        """Embedding of each view of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data with the columns seen in ``fit``.

        Returns
        -------
        embeddings : dict of str to ndarray of shape (n_samples, n_components)
            One entry per view, in the order of ``views``. Rows where the view
            is missing are NaN.
        """
        X = self._prepare(X)
        V = len(self.view_names_)
        stacked = self._map_batches(lambda x: self.module_.encode_views(x)[0].transpose(0, 1).flatten(1), X)
        stacked = stacked.reshape(X.shape[0], V, self.n_components).astype(X.dtype, copy=False)
        present = self._view_presence(X, fitting=False)
        return {
            name: np.where(present[i][:, None], stacked[:, i], np.nan).astype(X.dtype, copy=False)
            for i, name in enumerate(self.view_names_)
        }

    def view_weights(self, X):
        """Fusion weight of each view for each row of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data with the columns seen in ``fit``.

        Returns
        -------
        weights : ndarray of shape (n_samples, n_views)
            Learned attention weights (``fusion="attention"``), else uniform
            over the row's present views; 0 for missing views. Rows sum to 1.
        """
        X = self._prepare(X)
        return self._map_batches(lambda x: self.module_.fusion.weights(*self.module_.encode_views(x)).T, X)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored (checked against ``feature_names_in_`` when given).

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``multiviewembedder_<view><i>`` per view for ``fusion="concat"``,
            else ``multiviewembedder<i>``.
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features)
        prefix = type(self).__name__.lower()
        if self.module_.fusion.fusion == "concat":
            names = [f"{prefix}_{view}{i}" for view in self.view_names_ for i in range(self.n_components)]
        else:
            names = [f"{prefix}{i}" for i in range(self.n_components)]
        return np.asarray(names, dtype=object)
