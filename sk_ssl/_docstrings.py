"""The parameter descriptions the estimators share, written once.

imbalanced-learn's ``Substitution`` pattern: an estimator's docstring keeps
each parameter's ``name : type, default=...`` line (defaults differ between
estimators) and writes ``%(name)s`` where the shared description goes, and
:func:`_fill_doc` puts it in when the class is defined. An estimator with
something to add writes it after the placeholder, on the same line.
"""

import re

_SHARED = {
    "image_shape": (
        "Read each row of a 2-D X as an image of this shape (row-major, as\n"
        "``load_digits().data`` with ``(1, 8, 8)``). One entry may be -1 and is\n"
        "inferred. 4-D input ``(n, C, H, W)`` or ``(n, H, W, C)`` and 3-D grey\n"
        "stacks ``(n, H, W)`` need no ``image_shape``. For image files (X a\n"
        "sequence of paths) it gives the channels (1 grey, 3 RGB) and the size\n"
        "every file is resized to; None takes the first file's. See \"Data\n"
        "formats\" in the user guide."
    ),
    "channel_order": (
        "Axis order of 4-D image input: ``\"first\"`` is ``(n, C, H, W)``,\n"
        "``\"last\"`` is ``(n, H, W, C)`` (Pillow, Keras, ``np.stack`` of\n"
        "photos). ``\"auto\"`` infers it only when unambiguous (a channel axis\n"
        "of at most 4 that is smaller than both image sides) and raises\n"
        "otherwise, naming both readings. The decision is kept as\n"
        "``channel_order_`` and ``transform`` expects the same order."
    ),
    # The tail of ``encoder``'s description where an estimator takes a backbone instance as it is.
    "encoder_instance": (
        "An ``nn.Module`` instance is your own backbone (e.g. a torchvision\n"
        "ResNet with its ``fc`` replaced by ``nn.Identity()``, pretrained\n"
        "weights loaded on your side): ``fit`` trains a deep copy of it (the\n"
        "instance passed in is never modified) and ``transform`` uses that\n"
        "copy. It must map ``(N, *input_shape)`` to ``(N, n_components)``, so\n"
        "set ``n_components`` to its output width (a dry forward pass checks\n"
        "it and names the width otherwise). Such an estimator clones and\n"
        "pickles, but ``save`` refuses it (the safe format holds no code)."
    ),
    "max_epochs": "Training epochs (passes over X).",
    "learning_rate": "AdamW learning rate.",
    "weight_decay": "AdamW weight decay.",
    "early_stopping": (
        "Hold out ``validation_fraction`` of X and stop when the validation loss\n"
        "has not improved for ``n_iter_no_change`` epochs; the best weights are\n"
        "restored."
    ),
    "validation_fraction": "Share of X held out when ``early_stopping=True``.",
    "n_iter_no_change": "Patience of early stopping, in epochs.",
    "warm_start": (
        "When True and the estimator is already fitted, ``fit`` trains the\n"
        "fitted model for ``max_epochs`` more epochs (``history_`` and\n"
        "``n_iter_`` grow, the AdamW moments carry over) instead of starting\n"
        "over."
    ),
    "device": "``\"auto\"`` trains on CUDA when available, else CPU.",
    "accelerator": (
        "Train through Hugging Face Accelerate, e.g. on several GPUs for one fit\n"
        "under ``accelerate launch`` (see \"Scaling out\" in the user guide). The\n"
        "accelerator then chooses the device and mixed precision, and\n"
        "``batch_size`` is per process. None trains on ``device``."
    ),
    "verbose": "0 silent, 1 a progress bar over epochs with the losses, 2 a table row\nper epoch.",
    "callbacks": "Extra skorch callbacks (e.g. ``skorch.callbacks.LRScheduler``).",
    "random_state": "A fixed value makes a CPU fit repeatable; the global torch RNG is left\nuntouched.",
    # Fitted attributes of the embedders that take tables with categorical columns.
    "categorical_features_": (
        "The categorical columns resolved from ``categorical_features``; None\n"
        "when there are none."
    ),
    "categories_": (
        "Per column, the categories with their own code (code ``2 + k`` for\n"
        "``categories_[j][k]``; 0 is missing, 1 unknown), None for numeric\n"
        "columns; None when there are no categorical columns."
    ),
}

# Parameter descriptions sit 8 spaces deep in a class docstring.
_INDENT = " " * 8


def _fill_doc(obj):
    """Put the shared parameter descriptions into ``obj``'s docstring; return ``obj``.

    Parameters
    ----------
    obj : class or function
        Its docstring holds ``%(name)s`` placeholders for names of ``_SHARED``.
        Only those placeholders are replaced, so a plain percent sign ("75 %")
        needs no escaping; an unknown placeholder is an error.

    Returns
    -------
    obj : class or function
        The same object, with its docstring filled in.
    """

    def shared(match):
        name = match.group(1)
        if name not in _SHARED:
            raise KeyError(f"{obj.__qualname__}'s docstring names an unknown shared parameter %({name})s")
        return _SHARED[name].replace("\n", "\n" + _INDENT)

    obj.__doc__ = re.sub(r"%\((\w+)\)s", shared, obj.__doc__)
    return obj
