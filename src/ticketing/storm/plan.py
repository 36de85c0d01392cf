"""What the storm asks for: how many tickets each request books."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


@dataclass(frozen=True)
class QuantityPlan:
    """Each request asks for a quantity drawn uniformly from ``low..high`` (both included)."""

    low: int
    high: int

    def __post_init__(self) -> None:
        if not 1 <= self.low <= self.high:
            raise ValueError(f"quantities must satisfy 1 <= low <= high, got {self.low}-{self.high}")

    @classmethod
    def parse(cls, text: str) -> QuantityPlan:
        """``"2"`` or ``"1-3"``."""
        match = _RANGE.match(text)
        if not match:
            raise ValueError(f"expected a quantity like 2 or a range like 1-3, got {text!r}")
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) else low
        return cls(low, high)

    def draw(self, count: int, seed: int | None = None) -> list[int]:
        """The quantity of each of ``count`` requests, reproducible for a given seed."""
        if self.low == self.high:
            return [self.low] * count
        rng = random.Random(seed)
        return [rng.randint(self.low, self.high) for _ in range(count)]

    def __str__(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}-{self.high}"


_ITEM = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*$")


@dataclass(frozen=True)
class ItemsPlan:
    """Every request books the same ticket types in the same quantities (``--items 4:1,5:2``)."""

    items: tuple[tuple[int, int], ...]  # (ticket type id, quantity)

    def __post_init__(self) -> None:
        if not self.items:
            raise ValueError("--items needs at least one ID:QUANTITY")
        types = [t for t, _ in self.items]
        if len(set(types)) != len(types):
            raise ValueError("--items must name distinct ticket types")
        if any(t < 1 or q < 1 for t, q in self.items):
            raise ValueError("--items wants ticket type ids and quantities of at least 1")

    @classmethod
    def parse(cls, text: str) -> ItemsPlan:
        """``"4:1,5:2"``: one ticket of type 4 and two of type 5 in each request."""
        pairs = []
        for part in text.split(","):
            match = _ITEM.match(part)
            if not match:
                raise ValueError(f"expected --items like 4:1,5:2 (ticket type id:quantity), got {text!r}")
            pairs.append((int(match.group(1)), int(match.group(2))))
        return cls(tuple(pairs))

    @property
    def quantity(self) -> int:
        return sum(q for _, q in self.items)

    def __str__(self) -> str:
        return ",".join(f"{t}:{q}" for t, q in self.items)
