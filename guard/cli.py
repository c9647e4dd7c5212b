"""The ``guard`` command line: ``guard demo`` serves the demo job board behind the guard."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

from guard.admin import command as policy_command
from guard.admin.reload import ConfigReload
from guard.config import GuardConfig
from guard.config.explain import explain, redacted_url
from guard.config.starter import starter_config
from guard.config_file import load_layers, read_toml
from guard.demo.config import DEMO_CONFIG
from guard.demo.config import demo_config as demo_settings
from guard.errors import ConfigError, ModelError
from guard.goodbots import update_good_bots
from guard.learn import commands as learn_commands
from guard.replay import command as replay_command
from guard.report import command as report_command
from guard.types import ASGIApp


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every ``guard`` subcommand."""
    parser = argparse.ArgumentParser(prog="guard", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="serve the demo job board with the guard on")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--resumes", type=int, default=10000, help="number of resumes (10000)")
    demo.add_argument(
        "--mode",
        choices=("enforce", "shadow", "off"),
        default=None,
        help="enforce (default), shadow (log only) or off (the bare app)",
    )
    demo.add_argument("--redis-url", default=None, help="keep state in Redis at this URL")
    demo.add_argument("--config", default=None, help="a guard TOML config file")
    demo.add_argument("--log", default=None, help="append decisions as JSON lines here ('-')")
    check = commands.add_parser(
        "check-config",
        help="validate a config and print the effective values, marking the defaults",
    )
    check.add_argument("config", nargs="?", help="a guard TOML config file (else GUARD_CONFIG)")
    check.add_argument(
        "--demo", action="store_true", help="on top of the demo's config, as `guard demo` runs"
    )
    init = commands.add_parser("init", help="write a commented starter guard.toml")
    init.add_argument(
        "--records",
        nargs="+",
        default=(),
        metavar="PATH",
        help="your record routes, e.g. '/profile/{id}' '/api/profiles/{id}'",
    )
    init.add_argument("--out", default="guard.toml", help="where to write it (guard.toml)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    update = commands.add_parser(
        "update-bots", help="refresh search engines' address ranges from their published JSON"
    )
    update.add_argument(
        "--bot",
        nargs=2,
        action="append",
        metavar=("NAME", "FILE"),
        required=True,
        help="a bot (googlebot, bingbot, applebot, ...) and its operator's published JSON",
    )
    update.add_argument("--out", required=True, help="where to write the list (config: good_bots)")
    learn_commands.add_parsers(commands)
    replay_command.add_parser(commands)
    policy_command.add_parser(commands)
    report_command.add_parser(commands)
    return parser


def demo_config(args: argparse.Namespace) -> GuardConfig:
    """The config ``guard demo`` runs with: the demo's own, a file, ``GUARD_*`` environment,
    then flags."""
    flags = {"mode": args.mode, "store": args.redis_url, "decision_log": args.log}
    settings = {k: v for k, v in flags.items() if v}
    return demo_settings(settings, path=args.config, env=os.environ)


def run_demo(args: argparse.Namespace) -> int:
    """Serve the demo site on uvicorn until interrupted."""
    import uvicorn  # noqa: PLC0415 - an optional dependency, needed only here

    from guard.demo.app import create_demo_app  # noqa: PLC0415
    from guard.middleware import GuardMiddleware  # noqa: PLC0415

    config = demo_config(args)
    app = create_demo_app(args.resumes)
    served: ASGIApp = app
    if config.mode != "off" and args.config:
        reload = ConfigReload(args.config, lambda: demo_config(args))
        served = GuardMiddleware(app, config, reload=reload)
    elif config.mode != "off":
        served = GuardMiddleware(app, config)
    # What exists now (modules, the demo's data) lives as long as the server: freezing it
    # keeps full garbage collections from walking it again and again (a long pause under
    # load, whatever the requests allocate). Any long-running server can do the same.
    gc.collect()
    gc.freeze()
    print(
        f"guard demo: http://{args.host}:{args.port}/ mode={config.mode} "
        f"store={redacted_url(config.store_url)} resumes={args.resumes}",
        file=sys.stderr,
    )
    uvicorn.run(served, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``guard`` command."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "demo":
            return run_demo(args)
        if args.command in {"train", "evaluate"}:
            return _learn(args)
        if args.command == "replay":
            return replay_command.run_replay(args)
        if args.command == "policy":
            return policy_command.run_policy(args)
        if args.command == "forget":
            return policy_command.run_forget(args)
        if args.command == "report":
            return report_command.run_report(args)
        if args.command == "update-bots":
            document = update_good_bots([(name, path) for name, path in args.bot])
            Path(args.out).write_text(json.dumps(document, indent=2) + "\n")
            print(f"guard update-bots: wrote {args.out}; set good_bots = {args.out!r}")
            return 0
        if args.command == "init":
            return _init(args)
        return _check_config(args)
    except ConfigError as exc:
        print(f"guard: configuration error: {exc}", file=sys.stderr)
        return 2
    except ModelError as exc:
        print(f"guard: {exc}", file=sys.stderr)
        return 2


def _check_config(args: argparse.Namespace) -> int:
    """``guard check-config``: validate, then print the effective values and their sources."""
    layers = load_layers(args.config, base=read_toml(DEMO_CONFIG) if args.demo else None)
    config = GuardConfig.from_mapping(layers.merged())
    print(explain(config, layers), end="")
    where = layers.path or "no file"
    print(f"guard check-config: {where}: valid", file=sys.stderr)
    return 0


def _init(args: argparse.Namespace) -> int:
    """``guard init``: write a starter config (never over an existing file unless --force)."""
    out = Path(args.out)
    if out.exists() and not args.force:
        print(f"guard init: {out} exists; pass --force to overwrite it", file=sys.stderr)
        return 1
    text = starter_config(args.records)
    GuardConfig.from_mapping(tomllib.loads(text)["guard"])  # what it writes must load
    out.write_text(text)
    print(f"guard init: wrote {out}; check it with `guard check-config {out}`", file=sys.stderr)
    return 0


def _learn(args: argparse.Namespace) -> int:
    """``guard train`` / ``guard evaluate``, which need the ml extra."""
    try:
        import sklearn  # noqa: F401, PLC0415
        import tqdm  # noqa: F401, PLC0415
    except ImportError:
        print(
            "guard: train and evaluate need the ml extra: pip install 'guard[ml]'", file=sys.stderr
        )
        return 2
    if args.command == "train":
        return learn_commands.run_train(args)
    return learn_commands.run_evaluate(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
