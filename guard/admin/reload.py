"""Live reload: when the config file changes, its live settings (mode, thresholds, weights,
shadow) apply at once, on every worker that reads the file, without a restart.

Each worker looks at the file's modification time at most every :data:`POLL_SECONDS`,
beside a request. A change is loaded and validated whole first: an invalid file is logged
and the running policy kept. Settings that are not live (routes, the store, secrets) need
a restart; a change to them is logged as such.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from guard.admin.document import read_policy
from guard.config import GuardConfig
from guard.errors import ConfigError
from guard.observe.metrics import Metrics
from guard.policy import Policy

POLL_SECONDS = 0.5
LIVE = ("mode", "thresholds", "weights", "shadow")

audit = logging.getLogger("guard.audit")
logger = logging.getLogger("guard")


class ConfigReload:
    """Watches one config file.

    Args:
        path: the file.
        load: builds the whole config again (the file with whatever else the guard was
            built from: environment variables, a base such as the demo's).
    """

    def __init__(self, path: str | Path, load: Callable[[], GuardConfig]) -> None:
        self.path = str(path)
        self.load = load
        self.policy: Policy | None = None
        self.metrics: Metrics | None = None
        self.config: GuardConfig | None = None
        self._stamp = self._read_stamp()
        self._checked = time.monotonic()

    def attach(self, policy: Policy, config: GuardConfig, metrics: Metrics) -> None:
        """Apply changes to ``policy`` (built from ``config``), counting them in ``metrics``."""
        self.policy, self.config, self.metrics = policy, config, metrics

    def check(self) -> bool:
        """Reload if the file changed since the last look (at most every
        :data:`POLL_SECONDS`). Returns whether a change was applied."""
        wall = time.monotonic()
        if wall - self._checked < POLL_SECONDS or self.policy is None:
            return False
        self._checked = wall
        stamp = self._read_stamp()
        if stamp == self._stamp or stamp is None:
            return False
        self._stamp = stamp
        try:
            config = self.load()
        except ConfigError as exc:
            logger.error(
                "guard: %s changed but is invalid; the running policy stays: %s", self.path, exc
            )
            return False
        before = read_policy(self.policy)
        self.policy.update(
            mode=config.mode,
            thresholds=config.thresholds,
            weights=config.weights,
            shadow=config.shadow,
        )
        self._warn_about_restart(config)
        self.config = config
        if self.metrics is not None:
            self.metrics.policy_changes.labels("file").inc()
        entry = {"event": "config_reloaded", "file": self.path, "before": before}
        audit.info("%s", json.dumps(entry | {"after": read_policy(self.policy)}))
        return True

    def _warn_about_restart(self, config: GuardConfig) -> None:
        if self.config is None:
            return
        changed = [
            name
            for name in type(config).__dataclass_fields__
            if name not in LIVE and getattr(config, name) != getattr(self.config, name)
        ]
        if changed:
            logger.warning(
                "guard: %s changed %s, which apply only after a restart",
                self.path,
                ", ".join(sorted(changed)),
            )

    def _read_stamp(self) -> tuple[int, int] | None:
        try:
            stat = os.stat(self.path)
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)
