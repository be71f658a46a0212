"""PretextEmbedder: the classic self-supervised pretext tasks (rotation, jigsaw, colorization, mask estimation,
column-block permutation)."""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from ._base import EmbedderMixin, _TorchEstimatorBase
from ._docstrings import _fill_doc
from ._tabular import _check_nan_columns, _unit_moments
from .objectives import _build_objective, _objective_names

__all__ = ["PretextEmbedder"]


@_fill_doc
class PretextEmbedder(EmbedderMixin, _TorchEstimatorBase):
    """Self-supervised embedding from a pretext task: rotation, jigsaw, colorization, mask or block permutation.

    ``fit`` turns each unlabelled sample into a task whose answer the data
    itself holds (how it was rotated, how its tiles were shuffled, what its
    colours were, which of its cells were corrupted) and trains the encoder
    plus a small head to solve it. ``transform`` returns the encoder's output
    on the unmodified input. Pretext tasks are the classic methods that came
    before contrastive learning; they usually trail it under a linear probe
    (see "Choosing a method" in the user guide) but need no negatives, no
    augmentation design and, for rotation, no hyperparameter.

    The table tasks take mixed tables as they are: categorical columns (see
    ``categorical_features``) and NaN cells, which enter the encoder as the
    training mean plus a missing indicator (one channel per column that held
    NaN in ``fit``).

    Parameters
    ----------
    objective : {"auto", "rotation", "jigsaw", "colorization", "mask_estimation", "block_permutation"}, default="auto"
        The pretext task; the resolved choice is ``objective_``.
        ``"rotation"`` (Gidaris et al., 2018; square images): each image in
        its four rotations by 0/90/180/270 degrees, predict which.
        ``"jigsaw"`` (Noroozi & Favaro, 2016; images): shuffle a grid of
        tiles by one of ``n_permutations`` permutations, predict which.
        ``"colorization"`` (Zhang et al., 2016; RGB images): the encoder sees
        the grey image (also in ``transform``), a decoder predicts the
        colours. ``"mask_estimation"`` (VIME's mask estimator, Yoon et al.,
        2020; tables): redraw cells from their column's marginal, predict
        which were redrawn. ``"block_permutation"`` (tables): split the
        columns into ``n_blocks`` contiguous blocks, replace one block of
        each row by another row's values, predict which block.
        ``"auto"`` is ``"rotation"`` for images and
        ``"mask_estimation"`` for tables.
    n_components : int, default=256
        Embedding dimension (the encoder's output width).
    encoder : {"auto", "mlp", "cnn", "resnet18"}, nn.Module class or instance, default="auto"
        ``"auto"`` picks ``"mlp"`` for tabular rows, ``"cnn"`` for images up to
        32 px and ``"resnet18"`` above. A class is called as
        ``encoder(input_shape, n_components)``; an instance is deep-copied
        and must map ``(N, *input_shape)`` to ``(N, n_components)`` (for
        ``"colorization"`` the input has one channel, the grey image). See
        :mod:`sk_ssl.encoders`.
    corruption_rate : float or "auto", default="auto"
        ``"mask_estimation"`` only: probability that a cell is redrawn
        (``"auto"``: 0.3, VIME's). Resolved as ``corruption_rate_``.
    n_blocks : int or "auto", default="auto"
        ``"block_permutation"`` only: the number of contiguous column blocks
        (classes), at most the number of columns (``"auto"``: 4, or the
        number of columns if fewer). Resolved as ``n_blocks_``.
    grid_size : int or "auto", default="auto"
        ``"jigsaw"`` only: tiles per side (``"auto"``: 3 for images of at
        least 24 px a side, else 2). Resolved as ``grid_size_``.
    n_permutations : int or "auto", default="auto"
        ``"jigsaw"`` only: size of the permutation set, the number of
        classes (``"auto"``: 24; all of them if fewer exist). The set is
        chosen greedily for large Hamming distances, as in the paper.
        Resolved as ``n_permutations_``.
    image_shape : tuple of int (C, H, W) or None, default=None
        %(image_shape)s
    channel_order : {"auto", "first", "last"}, default="auto"
        %(channel_order)s
    include_input : bool, default=False
        Append the standardized input features to the embedding in
        ``transform`` (categorical columns as their integer codes).
    categorical_features : "from_dtype", array-like or None, default="from_dtype"
        Table tasks only: the categorical columns, as in
        ``HistGradientBoostingClassifier``. ``"from_dtype"``: the ``category``,
        ``object``/``string`` and ``bool`` columns of a pandas DataFrame (none
        for arrays), so a raw DataFrame goes straight in. Or a boolean mask,
        column indices, or column names. None: no categorical columns
        (non-numeric columns are then an error). Each categorical column gets
        a vocabulary in ``fit`` (the 100 most frequent categories; rarer ones
        and categories unseen in ``fit`` share a reserved "unknown" code, with
        a warning at ``transform`` that counts them; missing values a
        reserved "missing" code) and a learned embedding in the encoder.
        ``"mask_estimation"`` redraws codes from their frequencies (and NaN
        cells of numeric columns, "missing", with their share);
        ``"block_permutation"`` swaps codes between rows like any value.
        The image tasks refuse categorical columns.
    max_epochs : int, default=100
        %(max_epochs)s
    batch_size : int, default=128
        Samples per step (``"rotation"`` encodes four rotations of each).
    learning_rate : float, default=1e-3
        %(learning_rate)s
    weight_decay : float, default=0.0
        %(weight_decay)s
    early_stopping : bool, default=False
        %(early_stopping)s
    warm_start : bool, default=False
        %(warm_start)s
    validation_fraction : float, default=0.1
        %(validation_fraction)s
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
        Seeds weight initialisation, shuffling and the pretext draws.
        %(random_state)s

    Attributes
    ----------
    module_ : PretextModel
        The trained torch model (encoder, task head and the task's parts).
    objective_ : str
        The pretext task that ran (``objective`` with "auto" resolved).
    corruption_rate_ : float or None
        The corruption rate of ``"mask_estimation"``; None otherwise.
    n_blocks_ : int or None
        The column blocks of ``"block_permutation"``; None for other tasks.
    grid_size_ : int or None
        The jigsaw grid; None for other tasks.
    n_permutations_ : int or None
        The number of jigsaw permutations (classes); None for other tasks.
    history_ : skorch.History
        Per-epoch records: ``train_loss``, ``valid_loss`` (with early
        stopping), ``dur``.
    n_iter_ : int
        Number of epochs run.
    channel_order_ : {"first", "last"} or None
        Channel order of the fitted images' input, None for tabular data.
    image_shape_ : tuple of int or None
        Resolved image shape, None for tabular data.
    n_features_in_ : int
        Number of features seen in ``fit`` (pixels, for images).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen in ``fit``, when X had string column names.
    categorical_features_ : ndarray of bool of shape (`n_features_in_`,) or None
        %(categorical_features_)s
    categories_ : list of (ndarray or None) or None
        %(categories_)s
    nan_features_ : ndarray of bool of shape (`n_features_in_`,) or None
        Tables: the numeric columns that held NaN in ``fit``, each with a
        missing-indicator channel at the encoder's input; None when none did.

    See Also
    --------
    ContrastiveEmbedder : Contrastive methods, usually stronger under a linear probe.
    MaskedAutoencoder : Masked reconstruction (VIME with its decoder, SimMIM).

    References
    ----------
    .. [1] Gidaris, Singh, Komodakis. "Unsupervised Representation Learning by
       Predicting Image Rotations." ICLR 2018.
    .. [2] Noroozi, Favaro. "Unsupervised Learning of Visual Representations
       by Solving Jigsaw Puzzles." ECCV 2016.
    .. [3] Zhang, Isola, Efros. "Colorful Image Colorization." ECCV 2016.
    .. [4] Yoon, Zhang, Jordon, van der Schaar. "VIME: Extending the Success of
       Self- and Semi-supervised Learning to Tabular Domain." NeurIPS 2020.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sk_ssl import PretextEmbedder
    >>> X, y = load_digits(return_X_y=True)
    >>> emb = PretextEmbedder(objective="rotation", image_shape=(1, 8, 8), n_components=32,
    ...                       max_epochs=2, random_state=0)
    >>> emb.fit_transform(X[:200]).shape
    (200, 32)
    >>> emb.objective_
    'rotation'
    """

    _parameter_constraints = {
        **_TorchEstimatorBase._parameter_constraints,
        "objective": [StrOptions({"auto", *_objective_names("pretext")})],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "encoder": [StrOptions({"auto", "mlp", "cnn", "resnet18"}), type, nn.Module],
        "corruption_rate": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="neither")],
        "n_blocks": [StrOptions({"auto"}), Interval(Integral, 2, None, closed="left")],
        "grid_size": [StrOptions({"auto"}), Interval(Integral, 2, None, closed="left")],
        "n_permutations": [StrOptions({"auto"}), Interval(Integral, 2, None, closed="left")],
        "image_shape": [tuple, list, None],
        "channel_order": [StrOptions({"auto", "first", "last"})],
        "include_input": ["boolean"],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
    }

    _min_samples_reason = "the per-feature scale of the training data needs at least two rows"

    def __init__(
        self,
        *,
        objective="auto",
        n_components=256,
        encoder="auto",
        corruption_rate="auto",
        n_blocks="auto",
        grid_size="auto",
        n_permutations="auto",
        image_shape=None,
        channel_order="auto",
        include_input=False,
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
        self.objective = objective
        self.n_components = n_components
        self.encoder = encoder
        self.corruption_rate = corruption_rate
        self.n_blocks = n_blocks
        self.grid_size = grid_size
        self.n_permutations = n_permutations
        self.image_shape = image_shape
        self.channel_order = channel_order
        self.include_input = include_input
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

    def fit(self, X, y=None):
        """Train the encoder and the task head on X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), images, or sequence of image paths
            Images as ``(n_samples, C, H, W)``, ``(n_samples, H, W, C)`` or
            ``(n_samples, H, W)`` arrays, or as paths (see "Data formats").
            Training data: numbers; for the table tasks, NaN marking missing
            cells (no infinity, no column entirely NaN) and DataFrame columns
            of ``categorical_features`` as they are.
        y : None
            Ignored; present for Pipeline compatibility.

        Returns
        -------
        self : PretextEmbedder
            The fitted estimator.
        """
        return self._fit_embedder(X)

    # NaN in tables: a missing indicator per column with NaN in fit (sk_ssl._tabular); images stay complete.
    @property
    def _allow_nan(self):
        # Tables only: with image_shape the input is images (4-D input without it is caught by _nan_in_images).
        return getattr(self, "image_shape", None) is None

    _nan_in_images = False

    def _check_fit_input(self, X, *, reset, continuing=False):
        if reset:  # 4-D images and image files skip the table encoding: no vocabularies from an earlier fit
            self.categorical_features_ = self.categories_ = self.nan_features_ = None
        X = self._validate_X(X, reset=reset, continuing=continuing)
        if self.image_shape_ is not None and getattr(self, "categories_", None) is not None:
            raise ValueError(
                f"PretextEmbedder(objective={self.objective!r}) got images (image_shape={self.image_shape_}) from a "
                "table with categorical columns, whose codes are not pixels. Pass numeric pixels (e.g. "
                "X.to_numpy(dtype=float) of the pixel columns), or use a table task: objective='mask_estimation' "
                "or 'block_permutation' without image_shape."
            )
        _check_nan_columns(X, type(self).__name__)
        return X

    def _input_moments(self, X):
        # partial_fit's running statistics keep the code columns unstandardized.
        return [_unit_moments(self, moments) for moments in super()._input_moments(X)]

    def _build(self, X, y=None):
        data = "tabular" if self.image_shape_ is None else "image"
        name = self.objective if self.objective != "auto" else {"tabular": "mask_estimation", "image": "rotation"}[data]
        # Set by the tasks that have them.
        self.corruption_rate_ = self.n_blocks_ = self.grid_size_ = self.n_permutations_ = None
        return _build_objective(self, name, data, X)
