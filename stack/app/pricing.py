"""Cost of a model call from token counts and the price table (DOMAIN.md section 6)."""

from __future__ import annotations

from dataclasses import dataclass

from slokit_app.appdata import Prices


@dataclass(frozen=True)
class Usage:
    """Token counts of one call. `input` includes cache reads and writes
    (normalised: some providers report input without cached tokens)."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(self.input + other.input, self.output + other.output,
                     self.cache_read + other.cache_read, self.cache_write + other.cache_write)

    @property
    def total(self) -> int:
        return self.input + self.output


def cost_usd(usage: Usage, prices: Prices) -> float:
    uncached = max(0, usage.input - usage.cache_read - usage.cache_write)
    return (
        uncached * prices.input
        + usage.cache_read * prices.cache_read
        + usage.cache_write * prices.cache_write
        + usage.output * prices.output
    ) / 1_000_000
