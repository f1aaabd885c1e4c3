"""Sliding-window geometry (the course's (n + 2p − f)/s + 1, Keras's 'same'), im2col against a
loop over windows, and col2im as its adjoint and against its course-form reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dnnexp.core.layers import ShapeError
from dnnexp.core.layers.im2col import Window, col2im, col2im_reference, im2col

WINDOWS = {
    "valid": dict(size=3, stride=1, padding="valid"),
    "stride 2, padding 1": dict(size=(3, 2), stride=2, padding=1),
    "same, stride 2": dict(size=(2, 3), stride=(2, 1), padding="same"),
}


@pytest.mark.parametrize("n", range(1, 12))
@pytest.mark.parametrize("f", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("s", [1, 2, 3])
def test_same_padding_gives_ceil_n_over_s_as_keras(n, f, s) -> None:
    window = Window.plan((1, n, n), f, s, "same", "kernel")
    assert window.out_size == (math.ceil(n / s),) * 2
    total = window.pad_before[0] + window.pad_after[0]
    assert total == max((math.ceil(n / s) - 1) * s + f - n, 0)
    assert window.pad_after[0] - window.pad_before[0] in (0, 1)  # the odd one goes after
    if s == 1:
        assert window.out_size == (n, n)  # 'same' keeps the size, even kernels included


@pytest.mark.parametrize("name", WINDOWS)
def test_im2col_rows_are_the_windows_offset_by_offset_channels_innermost(name) -> None:
    x = np.random.default_rng(0).normal(size=(2, 3, 7, 6))
    spec = WINDOWS[name]
    window = Window.plan(x.shape[1:], spec["size"], spec["stride"], spec["padding"], "kernel", drop_remainder=True)
    (top, left), (bottom, right) = window.pad_before, window.pad_after
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    (fh, fw), (sh, sw), (OH, OW) = window.size, window.stride, window.out_size
    expected = [
        xp[n, :, i * sh : i * sh + fh, j * sw : j * sw + fw].transpose(1, 2, 0).ravel()
        for n in range(2) for i in range(OH) for j in range(OW)
    ]
    np.testing.assert_array_equal(im2col(x, window), np.array(expected))


@pytest.mark.parametrize("name", WINDOWS)
def test_col2im_is_the_adjoint_of_im2col(name) -> None:
    """<im2col(x), c> = <x, col2im(c)>: col2im adds every column entry back where it came from."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 7, 6))
    spec = WINDOWS[name]
    window = Window.plan(x.shape[1:], spec["size"], spec["stride"], spec["padding"], "kernel", drop_remainder=True)
    col = im2col(x, window)
    c = rng.normal(size=col.shape)
    (fh, fw), C = window.size, x.shape[1]
    by_offset = c.reshape(len(c), fh, fw, C)  # col2im takes each offset's C columns in turn
    dx = col2im(lambda i, j: by_offset[:, i, j], window, x.shape, c.dtype)
    assert dx.shape == x.shape and np.sum(col * c) == pytest.approx(np.sum(x * dx), rel=1e-12)


@pytest.mark.parametrize("name", WINDOWS)
def test_col2im_matches_the_course_form_reference(name) -> None:
    """The fast col2im, fed one kernel offset's columns at a time, against col2im_reference on the
    whole matrix: stride 2 and padding, overlapping windows, 'same' with its odd padding after."""
    rng = np.random.default_rng(2)
    x_shape = (2, 3, 7, 6)
    spec = WINDOWS[name]
    window = Window.plan(x_shape[1:], spec["size"], spec["stride"], spec["padding"], "kernel", drop_remainder=True)
    (fh, fw), (OH, OW), C = window.size, window.out_size, x_shape[1]
    col = rng.normal(size=(x_shape[0] * OH * OW, fh * fw * C))
    by_offset = col.reshape(len(col), fh, fw, C)
    fast = col2im(lambda i, j: by_offset[:, i, j], window, x_shape, col.dtype)
    np.testing.assert_allclose(fast, col2im_reference(col, window, x_shape), rtol=1e-10, atol=1e-12)


def test_im2col_keeps_one_batch_of_windows() -> None:
    x = np.zeros((100, 30, 12, 12), np.float32)
    window = Window.plan(x.shape[1:], 5, 1, "valid", "kernel")
    assert im2col(x, window).nbytes == 100 * 8 * 8 * 30 * 5 * 5 * 4


def test_drop_remainder_leaves_out_the_uncovered_rows() -> None:
    with pytest.raises(ShapeError, match=r"\(11 \+ 0 − 2\)/2 \+ 1 = 5.5 is not a whole number"):
        Window.plan((64, 11, 11), 2, 2, "valid", "pool")
    assert Window.plan((64, 11, 11), 2, 2, "valid", "pool", drop_remainder=True).out_size == (5, 5)
