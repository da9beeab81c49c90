"""What every destination of the publisher shares: the error that makes it back off, and the backoff."""

from __future__ import annotations

import random
from dataclasses import dataclass


class DeliveryError(RuntimeError):
    """A destination did not take a message; the publisher backs off and tries again from its position."""


@dataclass(frozen=True)
class Backoff:
    """Exponential: `first`, doubling per failed attempt, at most `cap` seconds, with ±`jitter` spread so
    that publishers of several databases do not all knock on a returning server at the same instant."""

    first: float = 0.5
    factor: float = 2.0
    cap: float = 30.0
    jitter: float = 0.1

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the `attempt`-th consecutive failure (1 for the first)."""
        base = min(self.cap, self.first * self.factor ** max(0, attempt - 1))
        return base * (1 + random.uniform(-self.jitter, self.jitter))
