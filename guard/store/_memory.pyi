from collections.abc import Sequence
from typing import Any

def execute(store: Any, ops: Sequence[Any], now: float) -> list[Any]: ...
def setup(
    rate_hit: type,
    distinct_count: type,
    distinct_add: type,
    value_get: type,
    value_put: type,
    rate_state: type,
    sketch_window: type,
    buckets: int,
    set_limit: int,
    /,
) -> None: ...
