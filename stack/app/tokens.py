"""Token counting and filler text for the simulator.

Counting is a word-piece approximation (words and punctuation marks, long
words count one token per 4 characters), close enough to real tokenizers
for cost and rate figures.
"""

from __future__ import annotations

import random
import re

_PIECE = re.compile(r"\w+|[^\w\s]")

_WORDS = (
    "your order the refund was processed and should arrive within five business days please "
    "check the tracking link we sent by email if the parcel is late contact the carrier our "
    "policy allows returns within thirty days of delivery for unused items in original packaging "
    "I have opened a ticket for you and a colleague will follow up shortly thank you for your patience"
).split()


def count_tokens(text: str) -> int:
    return sum(max(1, (len(p) + 3) // 4) for p in _PIECE.findall(text))


_WORD_TOKENS = {w: count_tokens(w) for w in _WORDS}


def filler(rng: random.Random, tokens: int) -> str:
    """Plausible answer text of about `tokens` tokens."""
    words, count = [], 0
    while count < max(1, tokens):
        word = rng.choice(_WORDS)
        words.append(word)
        count += _WORD_TOKENS[word]
    return " ".join(words)
