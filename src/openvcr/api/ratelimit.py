"""A token bucket per API key, per worker process.

Each key may make ``rate`` requests a second on average with bursts up to ``burst``. With N workers the
effective limit is up to N times higher (buckets are not shared between processes); the limit protects the
service from a runaway client, it is not a billing meter.
"""

from __future__ import annotations

import math
import threading
import time


class RateLimiter:
    def __init__(self, rate: float = 200.0, burst: int = 400) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key_id: int) -> float:
        """Take one token; 0.0 when allowed, else the seconds to wait before retrying."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key_id, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key_id] = (tokens, now)
            return (1.0 - tokens) / self.rate


def retry_after_header(wait_seconds: float) -> int:
    return max(1, math.ceil(wait_seconds))
