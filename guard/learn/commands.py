"""``guard train`` and ``guard evaluate``: the training pipeline and the metrics table."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DEFAULT_SEED = 7
HOLDOUT_SEED_OFFSET = 1000  # evaluation traffic never shares a seed with training traffic


def add_parsers(commands: Any) -> None:
    """Register ``train`` and ``evaluate`` on the ``guard`` subcommand parser."""
    train = commands.add_parser("train", help="train the behaviour model (needs guard[ml])")
    train.add_argument("--seed", type=int, default=DEFAULT_SEED)
    train.add_argument("--scale", type=float, default=1.0, help="simulated traffic volume")
    train.add_argument("--folds", type=int, default=5)
    train.add_argument("--out", default="models", help="where the model and card go")
    train.add_argument("--logs", default=None, help="train on this combined-format access log")
    train.add_argument("--labels", default=None, help="labels.csv for --logs")
    evaluate = commands.add_parser("evaluate", help="score a model on fresh simulated traffic")
    evaluate.add_argument("--model", default=None, help="a model file (the shipped one)")
    evaluate.add_argument("--seed", type=int, default=DEFAULT_SEED + HOLDOUT_SEED_OFFSET)
    evaluate.add_argument("--scale", type=float, default=0.5)
    evaluate.add_argument("--logs", default=None, help="evaluate on this access log instead")
    evaluate.add_argument("--labels", default=None, help="labels.csv for --logs")
    evaluate.add_argument(
        "--guard", action="store_true", help="also replay through the whole guard (slower)"
    )
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of tables")


@contextmanager
def _bar(total: int | None, desc: str, unit: str = "req") -> Iterator[Any]:
    from tqdm import tqdm  # noqa: PLC0415 - part of the ml extra

    with tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False) as bar:
        yield bar


def _events(args: argparse.Namespace, seed: int, scale: float) -> tuple[list[Any], dict[str, Any]]:
    """Events from the access log and labels given, or from the simulator."""
    from guard.learn.accesslog import Labels, ReadStats, read_combined  # noqa: PLC0415
    from guard.learn.events import in_time_order  # noqa: PLC0415
    from guard.learn.simulate import default_spec, simulate  # noqa: PLC0415

    if args.logs:
        if not args.labels:
            raise SystemExit("guard: --logs needs --labels (which clients are bots)")
        stats = ReadStats()
        with open(args.logs, encoding="latin-1") as lines:
            events = in_time_order(read_combined(lines, Labels.read(args.labels), stats=stats))
        info = {
            "source": f"access log {args.logs}",
            "lines": stats.lines,
            "malformed": stats.malformed,
            "unlabelled": stats.unlabelled,
        }
        return events, info
    spec = default_spec(seed, scale)
    events = simulate(spec)
    return events, {
        "source": "simulator",
        "seed": seed,
        "scale": scale,
        "actors_per_family": dict(spec.counts),
        "resumes": spec.resumes,
        "events": len(events),
    }


def _dataset(events: list[Any]) -> Any:
    from guard.learn.dataset import build_dataset  # noqa: PLC0415

    with _bar(len(events), "replaying") as bar:
        return build_dataset(events, progress=bar.update)


def _guard_replay(events: list[Any], model: str, info: dict[str, Any]) -> dict[str, Any]:
    """What the whole guard, with this model, does to each family; simulated pages link to
    the records they show (``info`` from :func:`_events` says how many there are)."""
    from guard.demo.config import demo_config  # noqa: PLC0415
    from guard.learn.replay import people_share, replay  # noqa: PLC0415
    from guard.learn.visits import site_for  # noqa: PLC0415

    config = demo_config({"secret": "replay-secret-0123456789", "model": model})
    site = site_for(info["resumes"]) if "resumes" in info else None
    with _bar(len(events), "guard replay") as bar:
        outcomes = replay(events, config, progress=bar.update, site=site)
    return {
        "families": [o.as_dict() for o in sorted(outcomes.values(), key=lambda o: o.family)],
        "people_refused_share": round(people_share(outcomes, "refused"), 5),
        "people_blocked_share": round(people_share(outcomes, "blocked"), 5),
        "people_challenged_share": round(people_share(outcomes, "challenged"), 5),
    }


def run_train(args: argparse.Namespace) -> int:
    """Simulate (or read logs), train, evaluate on fresh traffic, write model and card."""
    from guard.learn.card import write_card  # noqa: PLC0415
    from guard.learn.evaluate import evaluate_model  # noqa: PLC0415
    from guard.learn.train import LOG_UNAVAILABLE, NOT_TRAINED, train  # noqa: PLC0415
    from guard.model.features import FEATURES  # noqa: PLC0415
    from guard.model.runtime import model_from_dict  # noqa: PLC0415

    events, info = _events(args, args.seed, args.scale)
    data = _dataset(events)
    left_out = NOT_TRAINED | (LOG_UNAVAILABLE if args.logs else frozenset())
    features = [f for f in FEATURES if f not in left_out]
    with _bar(None, "training", unit="step") as bar:

        def say(stage: str) -> None:
            bar.set_postfix_str(stage)
            bar.update(1)

        document, report = train(
            data,
            seed=args.seed,
            folds=args.folds,
            features=features,
            progress=say,
            data_info=info,
        )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / "behaviour.json"
    model_path.write_text(json.dumps(document, separators=(",", ":")) + "\n")
    holdout = None
    if not args.logs:
        seed = args.seed + HOLDOUT_SEED_OFFSET
        fresh, fresh_info = _events(args, seed, min(args.scale, 0.5))
        holdout = evaluate_model(model_from_dict(document), _dataset(fresh))
        holdout["data"] = fresh_info
        holdout["guard"] = _guard_replay(fresh, str(model_path), fresh_info)
    evaluation = {"training": report.as_dict(), "holdout": holdout}
    (out / "evaluation.json").write_text(json.dumps(evaluation, indent=2) + "\n")
    write_card(out / "MODEL_CARD.md", report, holdout)
    print(
        f"guard train: {report.chosen} in {report.seconds} s; thresholds "
        f"challenge={report.thresholds['challenge']:.4f} block={report.thresholds['block']:.4f}; "
        f"wrote {out}/behaviour.json, evaluation.json, MODEL_CARD.md"
    )
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """Print per-family metrics of a model on fresh traffic (and of the whole guard)."""
    from guard.learn.evaluate import evaluate_model, format_tables  # noqa: PLC0415
    from guard.model.runtime import load_model  # noqa: PLC0415

    model = load_model(args.model)
    events, info = _events(args, args.seed, args.scale)
    result = evaluate_model(model, _dataset(events))
    result["data"] = info
    if args.guard:
        result["guard"] = _guard_replay(events, args.model or "shipped", info)
    print(json.dumps(result, indent=2) if args.json else format_tables(result))
    return 0
