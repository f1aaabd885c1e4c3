"""Sliding windows over images (course Day 2 §4): output sizes, padding, im2col and col2im.

A convolution or pooling window of size f moves over an input of size n, padded by p on each side,
in steps of s; it fits (n + 2p − f)/s + 1 times. `Window.plan` works that out for the two image
axes and refuses sizes that do not divide, naming the formula and the numbers. `im2col` lays every
window position out as one row of a matrix, so a convolution becomes one matrix product;
`col2im` adds such rows back into image positions for the backward pass, one kernel offset's
columns at a time; `col2im_reference` is the same in deep-learning-from-scratch's form, from the
whole matrix, the reference it is tested against.

Images are NCHW: (N, C, H, W) is the order of the axes everywhere. In memory, the arrays made
here keep the channels last (NHWC, as a transposed view): then a window's f_h·f_w·C numbers lie
in runs of C, copying them into the im2col matrix is fast, and the convolution's output comes out
of the matrix product already channels-last for the next layer. Nothing here loops over samples or
output positions: windows are strided views of the padded input (`sliding_window_view`); `col2im`
and the pooling layers loop over the f_h × f_w kernel offsets only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from dnnexp.core.layers.base import ShapeError

Pair = int | tuple[int, int]  # one size for both axes, or (height, width)
Padding = Literal["valid", "same"] | Pair

AXES = ("height", "width")
AXES_LINES = ("row", "column")  # what a unit of height and of width is


def pair(value: Pair) -> tuple[int, int]:
    """(3, 3) for 3; (3, 5) stays."""
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


@dataclass(frozen=True)
class Window:
    """Where a window of `size` goes over an input of `in_size`: (height, width) pairs throughout.

    `pad_before`/`pad_after` are the zero rows (columns) added above and below (left and right):
    equal for an int padding, and for 'same' as Keras pads (any odd one out goes after).
    """

    in_size: tuple[int, int]
    size: tuple[int, int]
    stride: tuple[int, int]
    pad_before: tuple[int, int]
    pad_after: tuple[int, int]
    out_size: tuple[int, int]

    @classmethod
    def plan(
        cls,
        input_shape: tuple[int, ...],
        size: Pair,
        stride: Pair,
        padding: Padding,
        noun: str,
        drop_remainder: bool = False,
    ) -> "Window":
        """The window over inputs (C, H, W); raise ShapeError when the course's output size
        (n + 2p − f)/s + 1 is not a whole number (unless `drop_remainder`) or leaves nothing.

        'same' pads, as Keras does, so that the output is ⌈n / s⌉ whatever the window: a total of
        max((⌈n/s⌉ − 1)·s + f − n, 0), the odd one after. With stride 1 that keeps the size, and
        an even window is padded one more at the bottom and right than at the top and left.
        `noun` names the window in messages ('kernel', 'pool').
        """
        if len(input_shape) != 3:
            raise ShapeError(
                f"takes images (C, H, W), got {tuple(input_shape)}; give it images: data.flatten: false, "
                "and no flatten or dense layer before it"
            )
        n, f, s = tuple(input_shape[1:]), pair(size), pair(stride)
        if padding == "same":
            out = tuple(-(-n[a] // s[a]) for a in range(2))
            total = tuple(max((out[a] - 1) * s[a] + f[a] - n[a], 0) for a in range(2))
            before = tuple(t // 2 for t in total)
            return cls(n, f, s, before, tuple(t - b for t, b in zip(total, before)), out)
        p = (0, 0) if padding == "valid" else pair(padding)
        described = _describe(n, f, s, p, noun)
        sizes = []
        for a in range(2):
            span = n[a] + 2 * p[a] - f[a]
            formula = f"{_axis(a, n, f, s, p)}({n[a]} + {2 * p[a]} − {f[a]})/{s[a]} + 1"
            if span < 0:
                raise ShapeError(
                    f"{described} → {formula} = {_number(span / s[a] + 1)} leaves nothing: the {noun} is larger "
                    f"than the padded input; use a smaller {noun} or more padding"
                )
            if span % s[a] and not drop_remainder:
                raise ShapeError(
                    f"{described} → {formula} = {_number(span / s[a] + 1)} is not a whole number; change the "
                    f"{noun} size, stride or padding, or set drop_remainder: true to leave out the last "
                    f"{_leftover(span % s[a], a, square=not _axis(a, n, f, s, p))} as Keras and PyTorch do"
                )
            sizes.append(span // s[a] + 1)
        return cls(n, f, s, p, p, tuple(sizes))

    @property
    def padded(self) -> bool:
        return any(self.pad_before) or any(self.pad_after)

    @property
    def overlaps(self) -> bool:
        """Whether neighbouring windows share input elements (a stride smaller than the window)."""
        return any(s < f for s, f in zip(self.stride, self.size))

    def pad(self, x: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """x (N, C, H, W) with the padding added: (N, C, H + p_before + p_after, W + …), channels-last
        in memory (a new array, unless there is no padding)."""
        if not self.padded:
            return x
        H, W = x.shape[2:]
        xp = channels_last_full(self.padded_shape(x.shape), fill, x.dtype)
        top, left = self.pad_before
        xp[:, :, top : top + H, left : left + W] = x
        return xp

    def unpad(self, xp: np.ndarray) -> np.ndarray:
        """The inverse of `pad`: the rows and columns of the input itself."""
        (top, left), (H, W) = self.pad_before, self.in_size
        return xp[:, :, top : top + H, left : left + W] if self.padded else xp

    def windows(self, xp: np.ndarray) -> np.ndarray:
        """Every window of the padded input as a strided view (N, C, OH, OW, f_h, f_w): no copy."""
        (sh, sw), (OH, OW) = self.stride, self.out_size
        view = sliding_window_view(xp, self.size, axis=(2, 3))
        return view[:, :, : (OH - 1) * sh + 1 : sh, : (OW - 1) * sw + 1 : sw]

    def offsets(self) -> Iterator[tuple[int, int, tuple[slice, ...]]]:
        """(i, j, index) per kernel offset: padded_x[index] is (N, C, OH, OW), the input element that
        offset (i, j) of every window sees."""
        (sh, sw), (OH, OW) = self.stride, self.out_size
        for i in range(self.size[0]):
            rows = slice(i, i + (OH - 1) * sh + 1, sh)
            for j in range(self.size[1]):
                yield i, j, (slice(None), slice(None), rows, slice(j, j + (OW - 1) * sw + 1, sw))

    def padded_shape(self, x_shape: tuple[int, ...]) -> tuple[int, int, int, int]:
        """(N, C, H, W) with the padding added."""
        N, C, H, W = x_shape
        return (N, C, H + self.pad_before[0] + self.pad_after[0], W + self.pad_before[1] + self.pad_after[1])


def channels_last_full(shape: tuple[int, int, int, int], fill: float, dtype: np.dtype) -> np.ndarray:
    """An array of NCHW `shape` filled with `fill`, its channels last in memory."""
    N, C, H, W = shape
    return np.full((N, H, W, C), fill, dtype=dtype).transpose(0, 3, 1, 2)


def im2col(x: np.ndarray, window: Window, out: np.ndarray | None = None) -> np.ndarray:
    """x (N, C, H, W) → col (N·OH·OW, f_h·f_w·C): row (n, oh, ow) holds the window at that output
    position, offset by offset, channels innermost; into `out` if given.

    One copy of the strided window view; it holds one batch's windows and no more.
    """
    windows = window.windows(window.pad(x)).transpose(0, 2, 3, 4, 5, 1)  # (N, OH, OW, f_h, f_w, C), a view
    if out is None:
        return windows.reshape(-1, np.prod(windows.shape[3:]))
    np.copyto(out.reshape(windows.shape), windows)
    return out


def col2im(
    block: Callable[[int, int], np.ndarray], window: Window, x_shape: tuple[int, ...], dtype: np.dtype
) -> np.ndarray:
    """The adjoint of `im2col`: columns back to dx (N, C, H, W), each entry added at the input
    position it came from (where windows overlap, contributions add up).

    The columns come one kernel offset at a time: `block(i, j)` is (N·OH·OW, C), the C columns
    of offset (i, j). So the whole (N·OH·OW, f_h·f_w·C) matrix never exists at once, only one
    offset's share of it.
    """
    N, C = x_shape[:2]
    OH, OW = window.out_size
    dxp = channels_last_full(window.padded_shape(x_shape), 0.0, dtype)
    for i, j, index in window.offsets():
        dxp[index] += block(i, j).reshape(N, OH, OW, C).transpose(0, 3, 1, 2)
    return window.unpad(dxp)


def col2im_reference(col: np.ndarray, window: Window, x_shape: tuple[int, ...]) -> np.ndarray:
    """col2im as deep-learning-from-scratch writes it: the reference `col2im` is tested against.

    The whole col (N·OH·OW, f_h·f_w·C) at once; for each kernel offset (y, x), every window's
    entry goes back where im2col took it from, added up where windows overlap,

        img[n, c, y + s_h·i, x + s_w·j] += col[(n, i, j), (y, x, c)]    for every output (i, j),

    into a zero image the size of the padded input, whose padding is then cut off.
    """
    N, C, H, W = x_shape
    (fh, fw), (sh, sw), (OH, OW) = window.size, window.stride, window.out_size
    col = col.reshape(N, OH, OW, fh, fw, C).transpose(0, 5, 3, 4, 1, 2)  # (N, C, f_h, f_w, OH, OW)
    img = np.zeros(window.padded_shape(x_shape), col.dtype)
    for y in range(fh):
        for x in range(fw):
            img[:, :, y : y + sh * OH : sh, x : x + sw * OW : sw] += col[:, :, y, x]
    return window.unpad(img)


def _describe(n: tuple[int, int], f: tuple[int, int], s: tuple[int, int], p: tuple[int, int], noun: str) -> str:
    return f"input {n[0]}×{n[1]}, {noun} {_pair_text(f)}, stride {_pair_text(s)}, padding {_pair_text(p)}"


def _pair_text(values: tuple[int, int]) -> str:
    return str(values[0]) if values[0] == values[1] else f"{values[0]}×{values[1]}"


def _axis(a: int, n, f, s, p) -> str:
    """'' when both axes compute the same, else 'height: ' or 'width: '."""
    same = all(v[0] == v[1] for v in (n, f, s, p))
    return "" if same else f"{AXES[a]}: "


def _leftover(count: int, a: int, square: bool) -> str:
    """'row', '2 rows', 'row and column', 'column' …: what drop_remainder would leave out."""
    lines = ("row", "column") if square else (AXES_LINES[a],)
    return " and ".join(line if count == 1 else f"{count} {line}s" for line in lines)


def _number(value: float) -> str:
    """3.5 as '3.5', 3.0 as '3', 2.666… as '2.67'."""
    return f"{value:.2f}".rstrip("0").rstrip(".")
