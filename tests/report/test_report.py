"""guard report: decision logs read, clients summed, ROC computed, and one offline page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from guard.cli import main
from guard.report.data import actors, auc, curve, leading_reasons, read_decisions

REAL_LOG = Path(__file__).resolve().parents[1] / "replay" / "data" / "apache_logs.gz"


def row(ts: float, action: str, score: float, **more: object) -> str:
    """A decision-log line."""
    base = {"ts": ts, "action": action, "score": score, "reasons": [], "status": 200}
    return json.dumps(base | {"ip": "192.0.2.1", "ua": "ua"} | more)


def test_decision_lines_are_read_in_time_order_and_bad_ones_counted() -> None:
    """Lines come back sorted by time from several logs; lines that are not decisions are
    counted, not fatal."""
    found = read_decisions([[row(5, "allow", 0.1), "not json", "\n"], [row(2, "block", 1.0), "{}"]])
    assert [line.ts for line in found.lines] == [2, 5]
    assert found.malformed == 2


def test_clients_count_records_served_and_their_worst_action() -> None:
    """Records count when a record route answered 2xx; the worst action ignores the shadow
    mark; the leading reason of each flagged verdict is counted."""
    lines = read_decisions(
        [
            [
                row(1, "allow", 0.1, record=True),
                row(2, "challenge_shadow", 0.7, record=True, reasons=["fast_pace"]),
                row(3, "block", 0.95, record=True, status=403, reasons=["automation:curl"]),
                row(4, "allow", 0.0, ip="198.51.100.2"),
            ]
        ]
    ).lines
    clients = actors(lines)
    first = clients[("192.0.2.1", "ua")]
    assert (first.requests, first.records, first.worst, first.max_score) == (3, 2, "block", 0.95)
    assert clients[("198.51.100.2", "ua")].records == 0
    assert leading_reasons(lines) == [("fast_pace", 1), ("automation:curl", 1)]


def test_roc_area_from_scores() -> None:
    """Bots all above people: area 1; all below: area 0; ties count half."""
    assert auc(curve([(0.9, True), (0.8, True), (0.2, False), (0.1, False)])) == 1.0
    assert auc(curve([(0.1, True), (0.9, False)])) == 0.0
    assert auc(curve([(0.5, True), (0.5, False)])) == 0.5


def test_a_replayed_real_log_becomes_one_offline_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """guard replay --decisions on the real log, then guard report with labels: one HTML
    file whose figures are inside it (no outside URL to load), with the ROC section."""
    decisions = tmp_path / "decisions.jsonl"
    assert main(["replay", str(REAL_LOG), "--decisions", str(decisions)]) == 0
    assert len(decisions.read_text().splitlines()) == 9999
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "ip,user_agent,label\n208.115.111.72,,bot\n208.115.113.88,,bot\n"
        "83.149.9.216,,human\n93.114.45.13,,human\n110.136.166.128,,human\n"
    )
    out = tmp_path / "report.html"
    assert main(["report", str(decisions), "--out", str(out), "--labels", str(labels)]) == 0
    page = out.read_text()
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert len(images) == 5
    assert "ROC AUC" in page
    assert not re.search(r"""(?:src|href)=['"]?https?:""", page)
    assert "<script" not in page
    assert "9,999 decisions" in capsys.readouterr().err


def test_a_missing_log_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A log that is not there: exit 2 and the reason."""
    assert main(["report", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "r.html")]) == 2
    assert "No such file" in capsys.readouterr().err
