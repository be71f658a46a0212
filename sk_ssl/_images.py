"""The one input path for images held as arrays: layout, channel order, pixel type.

Every image-capable estimator's input check (``SSLEstimatorBase._validate_X``)
calls :func:`_image_rows` before the generic numeric validation. It turns

* 4-D arrays ``(N, C, H, W)`` or ``(N, H, W, C)`` (the order inferred only when
  unambiguous, else set by ``channel_order`` or ``image_shape``),
* 3-D grey stacks ``(N, H, W)``,
* 2-D flat rows (with ``image_shape``; channel-major, as ``X.reshape(N, -1)``
  of an ``(N, C, H, W)`` array),

into flat channel-major rows, and scales integer pixels to [0, 1] (uint8 by
255, other unsigned types by their maximum). Integer *tabular* data (2-D, no
image shape) is never rescaled.
"""

import numpy as np

CHANNEL_ORDERS = ("auto", "first", "last")
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
        return X, None, None
    if ndim in (3, 4):
        X = np.asarray(X)
    shape_from_array = None
    order = "first"
    if ndim == 4:
        sample = tuple(X.shape[1:])
        if fitted is not None:
            order = fitted_order or "first"
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
                divisor = None
    if shape_from_array is not None:
        X = X.reshape(len(X), -1)
    if divisor is not None:
        X = _scaled(X, divisor)
    return X, shape_from_array, order



def _as_given_layout(rows, shape, channel_order, image_shape):
    """Flat channel-major ``rows`` back in the layout of an input of ``shape`` (e.g. for ``reconstruct``)."""
    if shape is None or len(shape) not in (3, 4) or image_shape is None:
        return rows
    images = rows.reshape(len(rows), *image_shape)
    if len(shape) == 3:
        return images[:, 0]
    return np.moveaxis(images, 1, -1) if channel_order == "last" else images
