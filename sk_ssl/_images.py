"""The one input path for images: arrays (layout, channel order, pixel type) and image files.

Every image-capable estimator's input check (``_TorchEstimatorBase._validate_X``)
calls :func:`_image_rows` before the generic numeric validation. It turns

* 4-D arrays ``(N, C, H, W)`` or ``(N, H, W, C)`` (the order inferred only when
  unambiguous, else set by ``channel_order`` or ``image_shape``),
* 3-D grey stacks ``(N, H, W)``,
* 2-D flat rows (with ``image_shape``; channel-major, as ``X.reshape(N, -1)``
  of an ``(N, C, H, W)`` array),

into flat channel-major rows, and scales integer pixels to [0, 1] (uint8 by
255, other unsigned types by their maximum). Integer *tabular* data (2-D, no
image shape) is never rescaled.

Image *files* (a sequence of paths) become an :class:`_ImageFiles` dataset
(:func:`_file_rows`): the engine's ``batch(indices)`` protocol, decoded with
Pillow a batch at a time, ahead of the training loop in DataLoader workers
(its ``iter_batches``, which the engine's ``_BatchLoader`` calls), with the
standardization statistics from one streaming pass.
"""

import os

import numpy as np
import torch

from ._stats import _dense_moments, _merge_moments

# A channel axis this small, and smaller than both sides, reads as channels.
_MAX_AUTO_CHANNELS = 4

_ORDER_HINT = (
    "Pass channel_order='first' for (N, C, H, W) or channel_order='last' for (N, H, W, C), "
    "or image_shape=(C, H, W)."
)


def _readings(shape):
    """``{"first": (C, H, W), "last": (C, H, W)}``: both readings of a 4-D array's sample shape."""
    a, b, c = shape
    return {"first": (a, b, c), "last": (c, a, b)}


def _plausible(chw):
    channels, height, width = chw
    return channels <= _MAX_AUTO_CHANNELS and channels < min(height, width)


def _matches(spec, chw):
    """Whether ``image_shape`` ``spec`` (entries may be -1) fits ``chw``."""
    return len(spec) == 3 and all(s == -1 or s == v for s, v in zip(spec, chw))


def _describe(order, chw):
    c, h, w = chw
    if order == "first":
        return f"channels first (N, C, H, W): {c} channel(s) of {h}x{w} pixels"
    return f"channels last (N, H, W, C): {c} channel(s) of {h}x{w} pixels"


def _resolve_order(shape, *, channel_order, image_shape, name):
    """The channel order ("first" or "last") of a 4-D input of sample ``shape`` at fit time."""
    readings = _readings(shape)
    if channel_order != "auto":
        chw = readings[channel_order]
        if image_shape is not None and not _matches(image_shape, chw):
            raise ValueError(
                f"X has shape (n, {', '.join(map(str, shape))}), which with channel_order={channel_order!r} reads as "
                f"(C, H, W) = {chw}, but image_shape={tuple(image_shape)}. Make them agree, or drop one of them."
            )
        return channel_order
    if image_shape is not None:
        fits = [order for order, chw in readings.items() if _matches(image_shape, chw)]
        if len(fits) == 1:
            return fits[0]
        if not fits:
            raise ValueError(
                f"image_shape={tuple(image_shape)} fits neither reading of X's samples of shape {shape}: "
                f"{_describe('first', readings['first'])}, or {_describe('last', readings['last'])}. "
                "image_shape is (C, H, W), whatever the order of X's axes."
            )
    else:
        fits = [order for order, chw in readings.items() if _plausible(chw)]
        if len(fits) == 1:
            return fits[0]
    raise ValueError(
        f"{name} cannot tell the channel axis of X with samples of shape {shape}: it could be "
        f"{_describe('first', readings['first'])}, or {_describe('last', readings['last'])}. "
        f"{_ORDER_HINT} (Without them, a channel axis of at most {_MAX_AUTO_CHANNELS} that is smaller than both "
        "image sides is recognised.)"
    )


def _pixel_divisor(dtype, X, name):
    """What integer pixels are divided by (None: not integer, keep the values)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "u":
        return float(np.iinfo(dtype).max)
    if dtype.kind == "i":
        if X.size and (X.min() < 0 or X.max() > 255):
            raise ValueError(
                f"{name} got images of signed integer type {dtype} with values in [{X.min()}, {X.max()}]. Integer "
                "pixels are read as 8-bit (0-255) unless their type says otherwise (uint8, uint16): pass them as "
                "that unsigned type, or as floats scaled the way you want (e.g. in [0, 1])."
            )
        return 255.0
    return None


def _scaled(X, divisor):
    """Float32 ``X / divisor`` (the same values as float32 input already in [0, 1] would have)."""
    out = X.astype(np.float32)
    np.divide(out, np.float32(divisor), out=out)
    return out


def _image_rows(X, *, image_shape, channel_order, fitted, name):
    """Flat channel-major rows of an image input, with what was decided.

    Parameters
    ----------
    X : array-like
        The input as given.
    image_shape : tuple or None
        The estimator's ``image_shape`` parameter (may hold one -1).
    channel_order : {"auto", "first", "last"}
        The estimator's ``channel_order`` parameter.
    fitted : tuple or None
        ``(image_shape_, channel_order_)`` of the fitted estimator (``transform``
        and other checks against the fitted layout), or None at fit time.
    name : str
        The estimator's class name, for messages.

    Returns
    -------
    X : array-like
        Flat rows (an ndarray) for array images, X itself otherwise. Integer
        pixels are scaled to float32 in [0, 1].
    shape_from_array : tuple or None
        ``(C, H, W)`` read from a 3-D or 4-D input, None for 2-D input.
    order : {"first", "last"} or None
        The channel order of a 4-D input ("first" for 3-D and flat-row
        images), None for tabular data.
    """
    ndim = getattr(X, "ndim", None)
    if ndim is None and isinstance(X, (list, tuple)):
        X = np.asarray(X)
        ndim = X.ndim
    if fitted is not None:
        fitted_shape, fitted_order = fitted
        is_image = fitted_shape is not None
    else:
        is_image = image_shape is not None or ndim in (3, 4)
    if not is_image:
        return X, None, None, False
    if ndim in (3, 4):
        X = np.asarray(X)
    shape_from_array = None
    order = "first"
    if ndim == 4:
        sample = tuple(X.shape[1:])
        if fitted is not None:
            order = fitted_order
            if order is None:  # fitted on image files: any one order that gives the fitted shape
                fits = [o for o, chw in _readings(sample).items() if chw == tuple(fitted_shape)]
                order = fits[0] if len(fits) == 1 else channel_order if channel_order != "auto" else "first"
            chw = _readings(sample)[order]
            if chw != tuple(fitted_shape):
                other = "last" if order == "first" else "first"
                hint = (
                    f" It reads as {_describe(other, _readings(sample)[other])} in the other order: "
                    f"{name} keeps the order it was fitted with, so transpose X "
                    f"(np.moveaxis) to channels {order}."
                    if _readings(sample)[other] == tuple(fitted_shape)
                    else ""
                )
                raise ValueError(
                    f"X holds images of shape {chw} ({_describe(order, chw)}) but {name} was fitted on "
                    f"{tuple(fitted_shape)} (C, H, W).{hint}"
                )
        else:
            order = _resolve_order(sample, channel_order=channel_order, image_shape=image_shape, name=name)
        if order == "last":
            X = np.ascontiguousarray(np.moveaxis(X, -1, 1))
        shape_from_array = tuple(X.shape[1:])
    elif ndim == 3:
        shape_from_array = (1, *X.shape[1:])
        X = X[:, None]
    divisor = _pixel_divisor(X.dtype, X, name) if hasattr(X, "dtype") else None
    if divisor is None and hasattr(X, "dtypes"):  # a DataFrame of pixel columns
        kinds = {np.dtype(dt).kind for dt in X.dtypes if hasattr(dt, "kind")}
        if kinds and kinds <= {"u", "i"}:
            values = X.to_numpy()
            divisor = _pixel_divisor(values.dtype, values, name)
            if divisor is not None:
                X = X.astype(np.float32) / np.float32(divisor)
                return X, shape_from_array, order, True
    if shape_from_array is not None:
        X = X.reshape(len(X), -1)
    if divisor is not None:
        X = _scaled(X, divisor)
    return X, shape_from_array, order, divisor is not None


def _check_pixel_range(estimator, X, *, scaled, reset, name, view=None):
    """Catch pixels on another scale than in fit (e.g. fit on uint8, transform on floats in 0..255).

    At fit, keeps whether the training images were integer pixels (scaled to
    [0, 1]) and their largest value; later inputs must be on the same scale.
    ``view``: the name of an image view (column group) of a multi-view
    estimator, whose scale is kept per view.
    """
    if not isinstance(X, np.ndarray) or not X.size:
        return
    largest = float(np.nanmax(X)) if not np.isnan(X).all() else 0.0
    if reset:
        if view is None:
            estimator._pixel_scale = (scaled, largest)
        else:
            estimator.__dict__.setdefault("_view_pixel_scales", {})[view] = (scaled, largest)
        return
    if view is None:
        fitted = getattr(estimator, "_pixel_scale", None)  # absent after sk_ssl.load: not checked then
    else:
        fitted = getattr(estimator, "_view_pixel_scales", {}).get(view)
    if fitted is None:
        return
    was_scaled, fitted_largest = fitted
    if fitted_largest <= 1.0 and largest > 2.0 and not scaled:
        raise ValueError(
            f"X holds pixel values up to {largest:.4g}, but {name} was fitted on images in [0, 1]"
            f"{' (integer pixels, which sk_ssl divides by 255)' if was_scaled else ''}. Pass the images the same "
            "way: the uint8 array as it is, or floats divided by 255."
        )
    if scaled and fitted_largest > 2.0:
        raise ValueError(
            f"X holds integer pixels, which sk_ssl scales to [0, 1], but {name} was fitted on float pixels up to "
            f"{fitted_largest:.4g}. Pass them as at fit (e.g. X.astype(np.float32)), or fit on the integer images."
        )



def _scale_image_columns(X, X_in, columns, name):
    """Divide the integer-pixel ``columns`` of the validated 2-D ``X`` to [0, 1], as :func:`_image_rows` does.

    For column groups read as images (the image views of a multi-view
    estimator): whether the pixels are integers is read from the input as
    given, ``X_in`` (an array or a DataFrame), since validation turns every
    column into floats. ``X`` must be validation's own copy (integer input
    always is one); it is scaled in place. Returns whether it was scaled.
    """
    dtypes = getattr(X_in, "dtypes", None)
    if dtypes is not None and hasattr(X_in, "columns"):  # a DataFrame: the view's own column types
        kinds = {np.dtype(dt).kind if isinstance(dt, np.dtype) else getattr(dt, "kind", "O") for dt in
                 dtypes.iloc[columns]}  # fmt: skip
        if kinds & {"u", "i"} and not kinds <= {"u", "i"}:
            raise ValueError(
                f"{name}: some of the columns are integer pixels and some floats. sk_ssl scales integer pixels to "
                "[0, 1] and keeps float pixels as they are, so mixed columns would be on two scales. Give all of "
                "them one type (e.g. X[cols].astype('uint8'), or floats in [0, 1])."
            )
        if not kinds <= {"u", "i"}:
            return False
        dtype = np.result_type(*[np.dtype(getattr(dt, "numpy_dtype", dt)) for dt in dtypes.iloc[columns]])
    else:
        dtype = np.asarray(X_in).dtype if isinstance(X_in, (list, tuple)) else getattr(X_in, "dtype", None)
        if dtype is None or np.dtype(dtype).kind not in "ui":
            return False
    divisor = _pixel_divisor(dtype, X[:, columns], name)
    if divisor is None:
        return False
    X[:, columns] = X[:, columns] / divisor
    return True


def _as_given_layout(rows, shape, channel_order, image_shape):
    """Flat channel-major ``rows`` back in the layout of an input of ``shape`` (e.g. for ``reconstruct``)."""
    if shape is None or len(shape) not in (3, 4) or image_shape is None:
        return rows
    images = rows.reshape(len(rows), *image_shape)
    if len(shape) == 3:
        return images[:, 0]
    return np.moveaxis(images, 1, -1) if channel_order == "last" else images


# ------------------------------------------------------------------- files
_GREY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F", "La"}
_PILLOW_HINT = "Reading images from files needs Pillow: pip install 'sk_ssl[images]' (or pip install pillow)."


def _default_num_workers():
    """Background decoding processes: one core is left to the model, at most 4."""
    return max(0, min(4, (os.cpu_count() or 1) - 1))


def _is_path_sequence(X):
    """Whether X is a sequence of image paths (list, tuple, 1-D array or pandas Series of str / PathLike)."""
    if isinstance(X, _ImageFiles):
        return True
    if isinstance(X, (str, bytes, os.PathLike)):
        return False
    if hasattr(X, "iloc") and getattr(X, "ndim", 2) == 1:  # a pandas Series
        values = list(X)
    elif isinstance(X, np.ndarray):
        if X.ndim != 1 or X.dtype.kind not in "OU":
            return False
        values = list(X)
    elif isinstance(X, (list, tuple)):
        values = X
    else:
        return False
    return len(values) > 0 and isinstance(values[0], (str, os.PathLike))


def _pillow():
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - Pillow is in the test environment
        raise ImportError(_PILLOW_HINT) from exc
    return Image


class _ImageFiles(torch.utils.data.Dataset):
    """Image files decoded a batch at a time: the engine's ``batch(indices)`` dataset protocol.

    Each image is read with Pillow, converted to RGB (3 channels) or L
    (1 channel), resized to ``(H, W)`` when ``resize`` (else its size must be
    ``(H, W)``) and returned as flat channel-major float32 rows in [0, 1], the
    values a uint8 array of the same images gives. :meth:`iter_batches`
    decodes in ``num_workers`` background processes (a torch DataLoader), at
    most two batches per worker ahead, so memory stays a few batches whatever
    the number of files.

    Parameters
    ----------
    paths : list of str
    image_shape : tuple of int (C, H, W)
        C is 1 (grey) or 3 (RGB).
    resize : bool
        Resize every image to ``(H, W)``; False makes a different size an error.
    targets : torch.Tensor or None
        Per-file targets returned with each batch (fine-tuning).
    num_workers : int or None
        None: :func:`_default_num_workers`.
    """

    dtype = np.dtype(np.float32)
    device = torch.device("cpu")

    def __init__(self, paths, image_shape, resize, targets=None, num_workers=None):
        self.paths = list(paths)
        self.image_shape = tuple(int(v) for v in image_shape)
        self.resize = resize
        self.targets = targets
        self.num_workers = _default_num_workers() if num_workers is None else num_workers
        self._moments_cache = None

    # ---------------------------------------------------------- construction
    @classmethod
    def from_input(cls, X, *, image_shape, fitted_shape, resize, name):
        """The dataset for the path sequence X; the shape from ``image_shape``, the fitted one, or the first file."""
        if isinstance(X, _ImageFiles):
            if fitted_shape is not None and X.image_shape != tuple(fitted_shape):
                raise ValueError(
                    f"X holds images of shape {X.image_shape} but {name} was fitted on {tuple(fitted_shape)}."
                )
            return X
        paths = list(X)
        bad = [i for i, p in enumerate(paths) if not isinstance(p, (str, os.PathLike))]
        if bad:
            raise ValueError(
                f"X looks like a list of image paths, but entry {bad[0]} is a {type(paths[bad[0]]).__name__} "
                f"({paths[bad[0]]!r}). Pass only str or pathlib.Path entries, or an array of pixels."
            )
        paths = [os.fspath(p) for p in paths]
        Image = _pillow()
        if fitted_shape is not None:
            shape = tuple(fitted_shape)
        elif image_shape is not None:
            shape = tuple(image_shape)
            if len(shape) != 3 or shape[0] not in (1, 3) or any(not isinstance(v, (int, np.integer)) or v < 1
                                                               for v in shape):
                raise ValueError(
                    f"For image files, image_shape=(C, H, W) gives the channels (1: grey, 3: RGB) and the size every "
                    f"image is resized to; got {tuple(image_shape)}."
                )
        else:
            with _opened(Image, paths[0]) as image:
                channels = 1 if image.mode in _GREY_MODES else 3
                shape = (channels, image.height, image.width)
        return cls(paths, shape, resize=resize)

    def subset(self, indices):
        """The files at ``indices`` (int array, bool mask or slice), with their targets."""
        order = np.arange(len(self))[indices]
        targets = None if self.targets is None else self.targets[torch.as_tensor(order)]
        out = type(self)([self.paths[i] for i in order], self.image_shape, self.resize, targets, self.num_workers)
        return out

    def with_targets(self, y):
        """The same files, each with its target (a float32 tensor, as the engine's array datasets hold them)."""
        targets = torch.tensor(np.asarray(y, dtype=np.float32))
        return type(self)(self.paths, self.image_shape, self.resize, targets, self.num_workers)

    # --------------------------------------------------------------- reading
    def __len__(self):
        return len(self.paths)

    @property
    def shape(self):
        """``(n_files, C * H * W)``: the flat rows this dataset yields."""
        return (len(self.paths), int(np.prod(self.image_shape)))

    @property
    def ndim(self):
        return 2

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            return self.batch(torch.as_tensor([int(key)]))
        return self.subset(key)

    def __array__(self, dtype=None, copy=None):
        rows = self.decode(range(len(self)))
        return rows if dtype is None else rows.astype(dtype)

    def decode(self, indices):
        """Flat float32 rows in [0, 1] of the files at ``indices``."""
        return _scaled(self.decode_uint8(indices), 255.0)

    def decode_uint8(self, indices):
        """Flat channel-major uint8 rows of the files at ``indices`` (what workers send: 4x less than float32)."""
        Image = _pillow()
        channels, height, width = self.image_shape
        mode = "L" if channels == 1 else "RGB"
        pixels = np.empty((len(indices), height, width, channels), dtype=np.uint8)
        for row, i in enumerate(indices):
            path = self.paths[int(i)]
            try:
                with _opened(Image, path) as image:
                    if image.size != (width, height):
                        if not self.resize:
                            raise ValueError(
                                f"Image file {path!r} is {image.width}x{image.height} pixels but the first image "
                                f"is {width}x{height}. Pass image_shape=(C, H, W) to resize every image to H x W."
                            )
                        image = image.resize((width, height), Image.BILINEAR)
                    pixels[row] = np.asarray(image.convert(mode), dtype=np.uint8).reshape(height, width, channels)
            except (OSError, SyntaxError) as exc:  # Pillow's errors for unreadable or damaged files
                raise ValueError(
                    f"Cannot read image file {path!r}: {type(exc).__name__}: {exc}. Remove or replace the file."
                ) from exc
        return np.ascontiguousarray(pixels.transpose(0, 3, 1, 2)).reshape(len(indices), -1)

    def batch(self, indices):
        X = torch.from_numpy(self.decode(np.asarray(indices.cpu())))
        y = None if self.targets is None else self.targets[indices.cpu()]
        return X, y

    def iter_batches(self, index_batches):
        """``batch`` of each entry of ``index_batches``, decoded ahead in background workers."""
        workers = min(self.num_workers, len(index_batches) - 1)
        if workers <= 0:
            yield from (self.batch(indices) for indices in index_batches)
            return
        loader = torch.utils.data.DataLoader(
            _Batches(self, [indices.cpu() for indices in index_batches]),
            batch_size=None,
            num_workers=workers,
            prefetch_factor=2,
            worker_init_fn=_one_thread,
            # Its own generator: the loader's seed draw must not move the global torch RNG
            # (augmentations draw from it), so files train exactly like the same images as an array.
            generator=torch.Generator().manual_seed(0),
        )
        for batch in loader:
            if isinstance(batch, _DecodeError):  # raised here, with the worker's message only
                raise ValueError(batch.message)
            pixels, y = batch
            yield torch.from_numpy(_scaled(pixels.numpy(), 255.0)), y

    def moments(self, per_batch=256):
        """``(count, mean, M2)`` per channel from one streaming pass (every file is decoded, so checked, once)."""
        if self._moments_cache is None:

            order = torch.arange(len(self))
            total = None
            for X, _ in self.iter_batches(list(order.split(per_batch))):
                part = _dense_moments(X.numpy(), self.image_shape)
                total = part if total is None else _merge_moments(total, part)
            self._moments_cache = total
        return self._moments_cache


class _Batches:
    """Item i: batch i of a file dataset (what a DataLoader worker decodes)."""

    def __init__(self, files, index_batches):
        self.files = files
        self.index_batches = index_batches

    def __len__(self):
        return len(self.index_batches)

    def __getitem__(self, i):
        indices = self.index_batches[i]
        try:
            pixels = torch.from_numpy(self.files.decode_uint8(np.asarray(indices)))
            return pixels, None if self.files.targets is None else self.files.targets[indices]
        except ValueError as exc:  # a damaged file: reported by the main process, without a worker traceback
            return _DecodeError(str(exc))


class _DecodeError:
    def __init__(self, message):
        self.message = message


def _one_thread(_):
    torch.set_num_threads(1)


class _opened:
    """``Image.open`` that names the file in the error, as a context manager."""

    def __init__(self, Image, path):
        self.Image, self.path = Image, path

    def __enter__(self):
        try:
            self.image = self.Image.open(self.path)
        except FileNotFoundError as exc:
            raise ValueError(f"Image file {self.path!r} does not exist.") from exc
        except (OSError, SyntaxError) as exc:
            raise ValueError(
                f"Cannot read image file {self.path!r}: {type(exc).__name__}: {exc}. Remove or replace the file."
            ) from exc
        return self.image

    def __exit__(self, *exc):
        self.image.close()


def _file_rows(estimator, X, *, reset, fitting, image_shape, name):
    """The :class:`_ImageFiles` dataset for a path sequence X, with the fitted attributes at fit time.

    ``reset`` as in ``_validate_X``: True (a fit from scratch) resolves the
    image shape (``image_shape``, else the first file's size and mode) and
    sets the fitted attributes; otherwise the files are read at the fitted
    shape, resized only when ``image_shape`` was given. ``fitting`` (any
    fit, also a continued one) decodes every file once before training, for
    the standardization statistics: a damaged file stops it before a weight
    changes.
    """
    fitted_shape = None if reset else getattr(estimator, "image_shape_", None)
    if not reset and fitted_shape is None:
        raise ValueError(
            f"X is a list of image files but {name} was fitted on tabular data ({estimator.n_features_in_} features)."
        )
    files = _ImageFiles.from_input(
        X, image_shape=image_shape, fitted_shape=fitted_shape, resize=image_shape is not None, name=name
    )
    if reset and len(files) < estimator._min_samples:
        raise ValueError(
            f"Found {len(files)} image file(s) while a minimum of {estimator._min_samples} is required by {name}: "
            f"{estimator._min_samples_reason}."
        )
    if fitting:
        files.moments()
    if reset:
        estimator.n_features_in_ = files.shape[1]
        estimator.__dict__.pop("feature_names_in_", None)
        estimator.image_shape_ = files.image_shape
        estimator.channel_order_ = None
        estimator._pixel_scale = (True, 1.0)  # 8-bit pixels scaled to [0, 1], see _check_pixel_range
    return files
