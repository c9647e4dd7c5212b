"""The training pipeline end to end at a tiny scale: train, card, evaluate, reproducibility."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from guard.cli import main
from guard.learn.dataset import build_dataset
from guard.learn.simulate import default_spec, simulate
from guard.learn.train import train
from guard.model.runtime import load_model


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained by ``guard train`` on a small simulated day."""
    out = tmp_path_factory.mktemp("model")
    assert main(["train", "--scale", "0.03", "--folds", "2", "--out", str(out)]) == 0
    return out


def test_guard_train_writes_a_loadable_model_its_card_and_metrics(trained: Path) -> None:
    """`guard train` writes a model the runtime loads, an evaluation with every part the card
    needs, and a card with the comparison, per-family and leave-one-family-out tables."""
    model = load_model(trained / "behaviour.json")
    assert 0 < model.challenge <= model.block <= 1
    evaluation = json.loads((trained / "evaluation.json").read_text())
    names = {c["name"] for c in evaluation["training"]["candidates"]}
    assert names == {"logistic_regression", "random_forest", "gradient_boosting"}
    assert {r["family"] for r in evaluation["training"]["leave_one_family_out"]} >= {
        "enumerators",
        "distributed",
    }
    assert "people_refused_share" in evaluation["holdout"]["guard"]
    card = (trained / "MODEL_CARD.md").read_text()
    for heading in ("## Models compared", "## Generalisation: leave one family out", "## Limits"):
        assert heading in card


def test_guard_evaluate_prints_tables_and_json(
    trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`guard evaluate` prints a per-family table, or the same numbers as JSON."""
    model = str(trained / "behaviour.json")
    assert main(["evaluate", "--model", model, "--scale", "0.02"]) == 0
    assert "| enumerators | yes |" in capsys.readouterr().out
    assert main(["evaluate", "--model", model, "--scale", "0.02", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {f["family"] for f in result["families"]} >= {"people", "enumerators"}


def test_training_is_reproducible_for_a_seed() -> None:
    """The same seed gives the same model document, number for number (the serving-time
    budget is lifted: which candidates meet it is timed, and a busy machine times slower)."""
    data = build_dataset(simulate(default_spec(seed=3, scale=0.05)))
    first, _ = train(data, seed=3, folds=2, max_serving_us=math.inf)
    second, _ = train(data, seed=3, folds=2, max_serving_us=math.inf)
    assert first["estimator"] == second["estimator"]
    assert first["calibration"] == second["calibration"]
    assert first["thresholds"] == second["thresholds"]


def test_a_model_missing_its_file_is_a_clean_cli_error(tmp_path: Path) -> None:
    """`guard evaluate` on a missing model exits 2 with a message, not a traceback."""
    assert main(["evaluate", "--model", str(tmp_path / "none.json"), "--scale", "0.01"]) == 2


def test_guard_train_on_labelled_access_logs(tmp_path: Path) -> None:
    """`guard train --logs --labels` trains on a combined-format log and a labels file, and
    the model goes without the features a log cannot give."""
    from guard.learn.accesslog import write_combined  # noqa: PLC0415
    from guard.learn.train import LOG_UNAVAILABLE  # noqa: PLC0415

    events = simulate(default_spec(seed=5, scale=0.03))
    log = tmp_path / "access.log"
    with log.open("w", encoding="latin-1") as out:
        write_combined(events, out)
    labels: dict[tuple[str, str], bool] = {}
    for event in events:
        labels.setdefault((event.client_ip, event.header("user-agent") or ""), event.bot)
    rows = [
        f'{ip},"{ua.replace(chr(34), chr(34) * 2)}",{"bot" if bot else "human"}'
        for (ip, ua), bot in labels.items()
    ]
    (tmp_path / "labels.csv").write_text("ip,user_agent,label\n" + "\n".join(rows) + "\n")
    out_dir = tmp_path / "model"
    argv = ["train", "--logs", str(log), "--labels", str(tmp_path / "labels.csv")]
    assert main([*argv, "--folds", "2", "--out", str(out_dir)]) == 0
    model = load_model(out_dir / "behaviour.json")
    assert not set(model.features) & LOG_UNAVAILABLE
    assert "access log" in (out_dir / "MODEL_CARD.md").read_text()
