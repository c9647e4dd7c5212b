"""State stores, chosen by URL scheme: ``memory://`` (embedded), more by registration."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from guard.errors import ConfigError
from guard.store.base import Store, actor_key
from guard.store.memory import MemoryStore

StoreFactory = Callable[[str], Store]

_SCHEMES: dict[str, StoreFactory] = {"memory": MemoryStore.from_url}


def register_store(scheme: str, factory: StoreFactory) -> None:
    """Make ``scheme://...`` URLs build a store with ``factory(url)``."""
    _SCHEMES[scheme] = factory


def store_from_url(url: str) -> Store:
    """Build the store a URL names, e.g. ``memory://?max_weight=200000``.

    Raises:
        ConfigError: the scheme is unknown or the URL's options are invalid.
    """
    scheme = urlsplit(url).scheme
    factory = _SCHEMES.get(scheme)
    if factory is None:
        known = ", ".join(f"{name}://" for name in sorted(_SCHEMES))
        raise ConfigError(f"store {url!r}: unknown scheme {scheme!r}; expected one of {known}")
    return factory(url)


__all__ = ["MemoryStore", "Store", "actor_key", "register_store", "store_from_url"]
