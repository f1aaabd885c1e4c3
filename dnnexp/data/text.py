"""Texts as token ids and back, as the text corpora write them: a vocabulary's id k is token k,
id 0 is padding, a reply starts with the start token and may close with the end token."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from dnnexp.errors import DnnexpError

PAD, START, END = " ", "_", "<eos>"


def encode(texts: Sequence[Sequence[str]], vocab: Sequence[str], length: int) -> np.ndarray:
    """Token sequences → (N, length) int64 ids, padded with id 0; each text must fit in `length`."""
    index = {token: i for i, token in enumerate(vocab)}
    ids = np.zeros((len(texts), length), dtype=np.int64)
    for row, text in enumerate(texts):  # building the corpus, once: not part of training
        ids[row, : len(text)] = [index[token] for token in text]
    return ids


def encode_text(text: str, vocab: Sequence[str], length: int, joiner: str = "") -> np.ndarray:
    """One text as a corpus's sample encodes it: ids (length,), characters (`joiner` "") or words
    (`joiner` " "), padded; raises DnnexpError for tokens outside the vocabulary or a text too long."""
    tokens = text.split() if joiner else list(text)
    unknown = sorted(set(tokens) - set(vocab))
    if unknown:
        known = (joiner or " ").join(token for token in vocab if token not in (PAD, START, END))
        raise DnnexpError(f"{', '.join(map(repr, unknown))} not in the vocabulary the model learned: {known}")
    if len(tokens) > length:
        unit = "words" if joiner else "characters"
        raise DnnexpError(f"'{text}' has {len(tokens)} {unit}; the model read at most {length}")
    return encode([tokens], vocab, length)[0]


def decode(ids: np.ndarray, vocab: Sequence[str], joiner: str = "") -> list[str]:
    """(N, T) ids → texts, stopping at the end token, without the start token and the trailing padding.

    Padding is the space character, which inside a text (a date) is content: only the ends are stripped.
    """
    texts = []
    for row in np.atleast_2d(ids):
        tokens = []
        for token in (vocab[i] for i in row):
            if token == END:
                break
            if token != START:
                tokens.append(token)
        texts.append(joiner.join(tokens).strip())
    return texts
