"""One bounded cache for per-mass quantities of the constraints (kernels, reference models)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

__all__ = ["remembered"]

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


def remembered(cache: dict[K, T], key: K, compute: Callable[[], T], size: int) -> T:
    """``cache[key]``, computed by ``compute()`` on a miss; the cache keeps at most ``size``
    entries (the oldest is dropped). A scan asks again and again for the same masses (one key per
    chunk and constraint), so what depends on the masses only is computed once per scan."""
    hit = cache.get(key)
    if hit is None:
        hit = compute()
        if len(cache) >= size:
            cache.pop(next(iter(cache)))
        cache[key] = hit
    return hit
