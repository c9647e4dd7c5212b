"""Compiles guard's native parts (C, through CPython's API) when the package is built.

Each extension in :data:`EXTENSIONS` is compiled next to its source, so an editable install
imports it from the tree and a wheel carries it. Where it cannot be compiled (no C compiler,
as in ``python:3.11-slim``; no Python headers; Windows), the build goes on without it and the
package's pure-Python twin serves, saying so in its log. ``GUARD_NATIVE=0`` skips it.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

EXTENSIONS = {
    "guard/store/_memory.c": "guard/store/_memory",
    "guard/facts/_headers.c": "guard/facts/_headers",
    "guard/store/_batch.c": "guard/store/_batch",
    "guard/signals/_profile.c": "guard/signals/_profile",
}
"""Source -> module path (without the platform's suffix)."""
FLAGS = ["-shared", "-fPIC", "-O2", "-Wall", "-ffp-contract=off"]
"""``-ffp-contract=off``: no fused multiply-adds, so C arithmetic rounds as Python's does."""


def compile_extension(root: Path, source: str, module: str) -> Path | None:
    """Compile one extension in place; its path, or None (with the reason printed)."""
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    target = root / f"{module}{suffix}"
    compiler = shlex.split(sysconfig.get_config_var("CC") or "cc")
    include = sysconfig.get_paths()["include"]
    command = [*compiler, *FLAGS, "-I", include, str(root / source), "-o", str(target)]
    if sys.platform == "darwin":
        command[len(compiler) : len(compiler)] = ["-undefined", "dynamic_lookup"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    except OSError as exc:
        print(
            f"guard: not compiling {source} ({exc}); the pure-Python twin serves", file=sys.stderr
        )
        return None
    if done.returncode != 0:
        print(
            f"guard: compiling {source} failed; the pure-Python twin serves\n{done.stderr}",
            file=sys.stderr,
        )
        return None
    return target


class NativeBuildHook(BuildHookInterface):  # type: ignore[misc]
    """Compiles :data:`EXTENSIONS` for wheels and editable installs."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if os.environ.get("GUARD_NATIVE") == "0" or sys.platform == "win32":
            return
        root = Path(self.root)
        for source, module in EXTENSIONS.items():
            built = compile_extension(root, source, module)
            if built is None or version == "editable":
                continue  # an editable install imports it from the tree
            build_data["force_include"][str(built)] = str(built.relative_to(root))
            build_data["pure_python"] = False
            build_data["infer_tag"] = True
