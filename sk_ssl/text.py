"""SentenceBagVectorizer: documents (str) to bags of sentence vectors, for MIL."""

import re
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

__all__ = ["SentenceBagVectorizer"]

# A sentence ends at ., ! or ? (optionally followed by closing quotes or brackets) before whitespace and
# an upper-case letter, a digit, a quote or a bracket. "Inc. said" (lower case next) does not split.
_SENTENCE_END = re.compile(r"(?<=[.!?])([\"')\]]*)\s+(?=[\"'(\[]?[A-Z0-9])")
# Single capitals and common abbreviations before a full stop that do not end a sentence ("U.S. Treasury").
_NO_END = re.compile(
    r"(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|Prof|St|Inc|Co|Corp|Ltd|Jr|Sr|No|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|"
    r"Nov|Dec|vs|etc|approx|dept|est|fig|govt))\.$",
)
_INDENTED = re.compile(r"^\s+\S")


def _split_lines(text, short_line_length):
    """Blocks of text that no sentence crosses.

    Newswire and plain-text articles are hard-wrapped: a line break inside a
    paragraph is usually just wrapping. A block ends at a blank line, before
    an indented line (a new paragraph), after a line written in capitals (a
    headline) and between two short lines (rows of a table such as ``Shr 34
    cts vs 1.19 dlrs``). A short line followed by a long one is the start of
    wrapped prose (e.g. the first body line after a removed dateline).
    """
    lines = text.splitlines()
    blocks, current = [], []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            if current:
                blocks.append(" ".join(current))
            current = []
            continue
        if current and _INDENTED.match(line):  # an indented line opens a paragraph
            blocks.append(" ".join(current))
            current = []
        current.append(stripped)
        letters = [c for c in stripped if c.isalpha()]
        headline = len(letters) >= 3 and all(c.isupper() for c in letters)
        following = lines[i + 1].strip() if i + 1 < len(lines) else ""
        short_pair = len(stripped) < short_line_length and len(following) < short_line_length
        if headline or short_pair:
            blocks.append(" ".join(current))
            current = []
    if current:
        blocks.append(" ".join(current))
    return blocks


def _split_punctuation(text):
    """Sentences of a block at sentence punctuation, keeping abbreviations such as ``U.S.`` together."""
    pieces, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if _NO_END.search(text[start : match.start()]):
            continue
        pieces.append(text[start : match.start()] + match.group(1))  # closing quotes stay with their sentence
        start = match.end()
    pieces.append(text[start:])
    return [" ".join(p.split()) for p in pieces if p.strip()]


def _split_sentences(text, split="auto", short_line_length=40):
    """Sentences of one document, as :class:`SentenceBagVectorizer` splits it (see its ``split``)."""
    if split == "lines":
        return [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    blocks = _split_lines(text, short_line_length) if split == "auto" else [text]
    return [sentence for block in blocks for sentence in _split_punctuation(block)]


class SentenceBagVectorizer(TransformerMixin, BaseEstimator):
    """Turn documents into bags of sentence vectors, for multiple-instance learning.

    Each document (a str) is split into sentences, and each sentence becomes
    one row (an *instance*) of the document's bag. The sentence vectors come
    from a scikit-learn text vectorizer fitted on the training sentences
    (TF-IDF by default; ``HashingVectorizer`` for large corpora: no
    vocabulary to fit or store) or from a callable such as your own sentence
    encoder. Placed before :class:`MILMultitaskClassifier` in a Pipeline,
    raw documents go straight to a model that learns several labels at once::

        make_pipeline(SentenceBagVectorizer(), MILMultitaskClassifier()).fit(docs, Y)

    Parameters
    ----------
    vectorizer : sklearn text vectorizer, callable or None, default=None
        How a sentence becomes a vector. None is
        ``TfidfVectorizer(sublinear_tf=True, min_df=2)`` (``min_df=1`` when
        fitted on fewer than 50 sentences). An estimator with
        ``fit``/``transform`` (e.g. ``TfidfVectorizer``, ``CountVectorizer``,
        ``HashingVectorizer``, or a Pipeline ending in ``TruncatedSVD``) is
        cloned and fitted on the training sentences; its output (sparse or
        dense) is kept as it is, and :class:`MILMultitaskClassifier` accepts
        sparse bags without densifying them as a whole. Its first layer is
        dense, ``n_features x hidden_dims[0]`` weights, so bound the width:
        ``TfidfVectorizer(max_features=20000)``,
        ``HashingVectorizer(n_features=2**14)`` (its default ``2**20`` columns
        would need a 1 GB first layer), or a ``TruncatedSVD`` step. A callable is called
        as ``vectorizer(list_of_sentences)`` and must return a 2-D array with
        one row per sentence; it is not fitted (e.g. a pretrained sentence
        encoder).
    split : {"auto", "punctuation", "lines"} or callable, default="auto"
        How a document becomes sentences. ``"auto"``: first into blocks at
        blank lines, before indented lines (a new paragraph), after lines
        written in capitals (headlines) and between two lines shorter than
        ``short_line_length`` characters (table rows such as Reuters' ``Shr 34
        cts vs 1.19 dlrs``, which carry no sentence punctuation), then each
        block at sentence
        punctuation (., ! or ? followed by a capital or a digit; common
        abbreviations such as ``U.S.`` or ``Inc.`` do not end a sentence).
        ``"punctuation"``: punctuation only (line breaks are spaces).
        ``"lines"``: one sentence per non-empty line. A callable maps one
        document (str) to its list of sentences.
    short_line_length : int, default=40
        With ``split="auto"``, a line break between two lines shorter than
        this ends a sentence. Prose hard-wrapped at about 65 columns (Reuters,
        BBC) has longer lines; set 0 for text whose line breaks are only
        wrapping.

    Attributes
    ----------
    vectorizer_ : estimator or callable
        The fitted vectorizer (the callable itself for a callable).
    n_features_out_ : int
        Width of each sentence vector.
    n_sentences_ : int
        Number of sentences ``fit`` saw.

    See Also
    --------
    MILMultitaskClassifier : Learns document labels from the bags.
    sklearn.feature_extraction.text.TfidfVectorizer : The default sentence vectorizer.

    Notes
    -----
    Input: an iterable of str, one per document (as scikit-learn's text
    vectorizers take); a single str is an error, not a document of letters.
    Output of ``transform``: a list with one bag per document, each of shape
    ``(n_sentences_i, n_features_out_)``, scipy CSR when the vectorizer
    returns sparse rows. A document without any sentence (empty or blank)
    becomes a bag of one all-blank sentence, so that the list of bags stays
    aligned with the documents and their labels.

    :meth:`get_sentences` returns the sentences themselves, in the order of
    the bags' rows, e.g. to show ``MILMultitaskClassifier.instance_weights``
    next to the text.

    References
    ----------
    .. [1] Kotzias, Denil, de Freitas, Smyth. "From Group to Individual Labels
       using Deep Features." KDD 2015 (documents as bags of sentences).
    .. [2] Zhou, Zhang. "Multi-Instance Multi-Label Learning with Application
       to Scene Classification." NIPS 2006 (MIML; text as bags of segments).

    Examples
    --------
    >>> from sk_ssl import SentenceBagVectorizer
    >>> docs = ["OIL PRICES RISE\\nCrude rose two dlrs. Traders said supply was tight.",
    ...         "GRAIN EXPORTS\\nWheat sales to China rose.\\n    Shipments start in May."]
    >>> vec = SentenceBagVectorizer().fit(docs)
    >>> bags = vec.transform(docs)
    >>> [bag.shape[0] for bag in bags]
    [3, 3]
    >>> vec.get_sentences(docs)[0]
    ['OIL PRICES RISE', 'Crude rose two dlrs.', 'Traders said supply was tight.']
    """

    _parameter_constraints = {
        "vectorizer": [HasMethods(["fit", "transform"]), callable, None],
        "split": [StrOptions({"auto", "punctuation", "lines"}), callable],
        "short_line_length": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, *, vectorizer=None, split="auto", short_line_length=40):
        self.vectorizer = vectorizer
        self.split = split
        self.short_line_length = short_line_length

    def _check_documents(self, X):
        name = type(self).__name__
        if isinstance(X, (str, bytes)):
            raise ValueError(
                f"{name} expects an iterable of documents (str), got a single {type(X).__name__}; wrap it in a "
                "list: [document]."
            )
        if hasattr(X, "ndim") and X.ndim != 1:
            raise ValueError(
                f"{name} expects a 1-D sequence of documents (str), got an array of shape {X.shape}. Select the "
                "text column (e.g. df['text'])."
            )
        try:
            docs = list(X)
        except TypeError as exc:
            raise ValueError(f"{name} expects an iterable of documents (str), got {type(X).__name__}.") from exc
        bad = [i for i, doc in enumerate(docs) if not isinstance(doc, str)]
        if bad:
            raise ValueError(
                f"Every document must be a str; document {bad[0]} is a {type(docs[bad[0]]).__name__} "
                f"({len(bad)} non-str document(s) in all). Decode bytes and replace missing texts (None, NaN) "
                "with '' before vectorizing."
            )
        return docs

    def _sentences(self, docs):
        """Sentences of each document; a document without any gets one blank sentence."""
        per_doc = []
        for i, doc in enumerate(docs):
            if callable(self.split):
                sentences = list(self.split(doc))
                if not all(isinstance(s, str) for s in sentences):
                    raise ValueError(
                        f"split returned a non-str sentence for document {i}; it must return a list of str."
                    )
            else:
                sentences = _split_sentences(doc, self.split, self.short_line_length)
            per_doc.append(sentences or [""])
        return per_doc

    def get_sentences(self, X):
        """Sentences of each document, in the order of the rows of its bag.

        Parameters
        ----------
        X : iterable of str
            Documents.

        Returns
        -------
        sentences : list of list of str
            One list per document (a document without sentences: ``[""]``).
        """
        return self._sentences(self._check_documents(X))

    def _vectorize(self, sentences, fit):
        if self._plain_function:
            rows = self.vectorizer(sentences)
            rows = rows if sp.issparse(rows) else np.asarray(rows)
            if rows.ndim != 2 or rows.shape[0] != len(sentences):
                raise ValueError(
                    f"vectorizer returned shape {getattr(rows, 'shape', None)} for {len(sentences)} sentences; a "
                    "callable vectorizer must return a 2-D array with one row per sentence."
                )
            if fit:
                self.vectorizer_ = self.vectorizer
            return rows
        if fit:
            if self.vectorizer is None:
                from sklearn.feature_extraction.text import TfidfVectorizer

                self.vectorizer_ = TfidfVectorizer(sublinear_tf=True, min_df=2 if len(sentences) >= 50 else 1)
            else:
                self.vectorizer_ = clone(self.vectorizer)
            return self.vectorizer_.fit_transform(sentences)
        return self.vectorizer_.transform(sentences)

    @property
    def _plain_function(self):
        """Whether ``vectorizer`` is a function (fits nothing) rather than an sklearn vectorizer."""
        return callable(self.vectorizer) and not hasattr(self.vectorizer, "fit")

    def _to_bags(self, rows, per_doc):
        if sp.issparse(rows):
            rows = sp.csr_matrix(rows)
        lengths = np.array([len(s) for s in per_doc])
        stops = np.cumsum(lengths)
        starts = stops - lengths
        return [rows[start:stop] for start, stop in zip(starts, stops)]

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Split the documents into sentences and fit the vectorizer on them.

        Parameters
        ----------
        X : iterable of str
            Training documents.
        y : None
            Ignored.

        Returns
        -------
        self : SentenceBagVectorizer
            The fitted transformer.
        """
        self._fit(X)
        return self

    def _fit(self, X, all_rows=False):
        """Fit; return ``(rows, per_doc)``, rows of every sentence unless a plain function only needed one."""
        per_doc = self._sentences(self._check_documents(X))
        sentences = [s for doc in per_doc for s in doc]
        if self._plain_function and not all_rows:
            sentences = sentences[:1]  # only the width is learnt
        rows = self._vectorize(sentences, fit=True)
        self.n_sentences_ = sum(len(doc) for doc in per_doc)
        self.n_features_out_ = rows.shape[1]
        return rows, per_doc

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_transform(self, X, y=None):
        """Fit, then return the bags of ``X`` (each sentence vectorized once).

        Parameters
        ----------
        X : iterable of str
            Training documents.
        y : None
            Ignored.

        Returns
        -------
        bags : list of array or sparse matrix of shape (n_sentences_i, n_features_out)
            One bag per document.
        """
        rows, per_doc = self._fit(X, all_rows=True)
        return self._to_bags(rows, per_doc)

    def transform(self, X):
        """Bags of sentence vectors, one per document.

        Parameters
        ----------
        X : iterable of str
            Documents.

        Returns
        -------
        bags : list of array or sparse matrix of shape (n_sentences_i, n_features_out)
            One bag per document; rows in the order of :meth:`get_sentences`.
        """
        check_is_fitted(self)
        per_doc = self._sentences(self._check_documents(X))
        rows = self._vectorize([s for doc in per_doc for s in doc], fit=False)
        if rows.shape[1] != self.n_features_out_:
            raise ValueError(
                f"vectorizer returned {rows.shape[1]} features per sentence but {self.n_features_out_} in fit; a "
                "callable vectorizer must return vectors of a fixed width."
            )
        return self._to_bags(rows, per_doc)

    def get_feature_names_out(self, input_features=None):
        """Names of the sentence features (the vectorizer's, e.g. the TF-IDF vocabulary).

        Parameters
        ----------
        input_features : None
            Ignored (documents have no feature names).

        Returns
        -------
        feature_names_out : ndarray of str
            The vectorizer's feature names when it has them, else
            ``sentencebagvectorizer0`` ... ``sentencebagvectorizer{n-1}``.
        """
        check_is_fitted(self)
        if hasattr(self.vectorizer_, "get_feature_names_out"):
            try:
                return np.asarray(self.vectorizer_.get_feature_names_out(), dtype=object)
            except (AttributeError, TypeError, NotImplementedError):  # e.g. HashingVectorizer has no names
                pass
        prefix = type(self).__name__.lower()
        return np.asarray([f"{prefix}{i}" for i in range(self.n_features_out_)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = True
        return tags
