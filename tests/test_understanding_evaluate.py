"""The evaluation of readings against labelled messages (python -m bot.understanding.evaluate)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.understanding.evaluate import main

LINES = [
    {
        "text": "how long is my code valid?",
        "lang": "en",
        "expect": {"action": "answer", "slug": "x"},
    },
    {
        "text": "register my DGS-3630-28TC serial S3XY1A2004242 bought 12/11/2026",
        "lang": "en",
        "expect": {
            "action": "flow",
            "flow": "register_product",
            "slots": {
                "model": "DGS-3630-28TC",
                "serial": "S3XY1A2004242",
                "purchase_date": "2026-11-12",
            },
        },
    },
    {
        "text": "can we switch to english? where is ticket 7 at",
        "lang": "en",
        "expect": {
            "action": "switch_language",
            "lang": "en",
            "then": {"action": "flow", "flow": "check_incident", "slots": {"incident_number": 7}},
        },
    },
    {"text": "mes incidents", "lang": "fr", "expect": {"action": "list", "what": "incidents"}},
    # Read wrong on purpose: a request labelled as a list, a wrong slot value.
    {"text": "activate my code", "lang": "en", "expect": {"action": "list", "what": "services"}},
    {
        "text": "register my DGS-1210-28",
        "lang": "en",
        "expect": {"action": "flow", "flow": "register_product", "slots": {"model": "DAP-2662"}},
    },
]


def write(path: Path, lines: list[dict[str, object]]) -> Path:
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def test_figures_count_actions_and_slots(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "messages.calibrate.jsonl", LINES)
    assert main([str(path), "--today", "2026-11-29", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)[str(path)]
    assert figures["messages"] == 6
    assert figures["action_right"] == 5  # all but the activation labelled as a list
    assert (figures["slots_checked"], figures["slots_right"]) == (3, 2)


def test_failures_are_listed_for_a_calibration_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "messages.calibrate.jsonl", LINES)
    assert main([str(path), "--today", "2026-11-29", "--failures"]) == 0
    out = capsys.readouterr().out
    assert "activate my code" in out and "register my DGS-1210-28" in out
    assert "how long is my code valid" not in out


def test_failures_of_a_held_out_file_are_never_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "messages.holdout.jsonl", LINES)
    assert main([str(path), "--failures"]) == 2
    captured = capsys.readouterr()
    assert "activate my code" not in captured.out + captured.err


def test_baseline_reads_with_the_old_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = {
        "text": "please register my product DGS-1210-28",
        "lang": "en",
        "expect": {"action": "flow", "flow": "register_product", "slots": {"model": "DGS-1210-28"}},
    }
    path = write(tmp_path / "messages.calibrate.jsonl", [line])
    assert main([str(path), "--baseline", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)[str(path)]
    # The old rules start the flow but fill none of its slots.
    assert (figures["action_right"], figures["slots_right"]) == (1, 0)
