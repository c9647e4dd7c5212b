"""State stores, chosen by URL scheme: ``memory://`` (embedded), more by registration."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from guard.errors import ConfigError
from guard.store.base import Store, actor_key
from guard.store.memory import MemoryStore
from guard.store.resilient import ResilientStore

StoreFactory = Callable[[str], Store]
FALLBACK_MB = 64
"""The per-process stand-in for Redis during an outage: its memory budget in megabytes."""


def _redis(url: str) -> Store:
    try:
        from guard.store.redis import RedisStore  # noqa: PLC0415 - redis is an optional extra
    except ImportError:
        raise ConfigError(
            f"store {url!r}: the redis package is missing; install guard[redis]"
        ) from None
    return RedisStore.from_url(url)


_SCHEMES: dict[str, StoreFactory] = {
    "memory": MemoryStore.from_url,
    "redis": _redis,
    "rediss": _redis,
    "redis+cluster": _redis,
}


def register_store(scheme: str, factory: StoreFactory) -> None:
    """Make ``scheme://...`` URLs build a store with ``factory(url)``."""
    _SCHEMES[scheme] = factory


def store_from_url(url: str) -> Store:
    """Build the store a URL names, e.g. ``memory://?max_mb=64``.

    Raises:
        ConfigError: the scheme is unknown or the URL's options are invalid.
    """
    scheme = urlsplit(url).scheme
    factory = _SCHEMES.get(scheme)
    if factory is None:
        known = ", ".join(f"{name}://" for name in sorted(_SCHEMES))
        raise ConfigError(f"store {url!r}: unknown scheme {scheme!r}; expected one of {known}")
    return factory(url)


def store_for(url: str, fail_closed: bool) -> Store:
    """The store a config asks for, ready for outages.

    The embedded store cannot fail. A networked one gets a circuit breaker and, unless
    ``fail_closed``, a per-process memory store to fall back on while it is down.
    """
    store = store_from_url(url)
    if isinstance(store, MemoryStore):
        return store
    return ResilientStore(store, None if fail_closed else MemoryStore(max_mb=FALLBACK_MB))


__all__ = ["MemoryStore", "Store", "actor_key", "register_store", "store_for", "store_from_url"]
