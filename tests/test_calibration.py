"""Calibration of the vote's confidence: ECE over bins, the eval table's columns, the reliability PNG."""

from __future__ import annotations

import pytest
from vidagent.policies.evaluate import (
    Outcome, RowReport, calibration_bins, expected_calibration_error, markdown_table,
)
from vidagent.policies.plots import plot_reliability


def outcome(correct, confidence, k=0):
    return Outcome(f"q{k}", "count", correct, None, True, 1, 10, 100, 1.0, confidence=confidence)


def test_ece_is_zero_when_accuracy_matches_confidence_and_weighted_by_bin_counts():
    calibrated = [outcome(True, 1.0)] * 4 + [outcome(k % 2 == 0, 0.5) for k in range(4)]
    assert expected_calibration_error(calibrated) == pytest.approx(0.0)
    overconfident = [outcome(False, 1.0)] * 3 + [outcome(True, 1.0)]  # 25% right at confidence 1.0
    assert expected_calibration_error(overconfident) == pytest.approx(0.75)
    assert calibration_bins(overconfident) == [(1.0, 0.25, 4)]
    assert expected_calibration_error([outcome(True, None)]) is None  # greedy rows have no confidence


def test_rows_with_samples_get_samples_and_ece_columns_and_keep_confidences(tmp_path):
    outcomes = [outcome(True, 0.75, 0), outcome(False, 0.5, 1)]
    row = RowReport.from_outcomes("SFT+GRPO, 4 samples", "default", outcomes, samples=4)
    assert row.ece == pytest.approx((0.25 + 0.5) / 2)
    table = markdown_table([row])
    assert "| samples | ECE |" in table and "| 4 | 0.375 |" in table
    again = RowReport.from_dict(row.to_dict())
    assert [o.confidence for o in again.outcomes] == [0.75, 0.5] and again.samples == 4
    png = plot_reliability([(row.name, calibration_bins(outcomes))], tmp_path / "r.png", title="t")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rows_report_how_often_each_needed_tool_was_called_and_keep_it_in_json():
    def asked(k, tool, called, correct):
        return Outcome(f"n{k}", "tool", correct, None, True, 1, 0, 10, 1.0, called_needed=called, needed_tool=tool)

    outcomes = [asked(0, "lighting_level", True, True), asked(1, "lighting_level", False, False),
                asked(2, "list_scenery", True, False), outcome(True, None, 3)]  # the last needs no named tool
    row = RowReport.from_outcomes("sft", "runs/sft", outcomes)
    assert row.needed_tool_called == pytest.approx(2 / 3) and row.right_when_called == pytest.approx(0.5)
    assert row.called_by_tool == {"lighting_level": [1, 2], "list_scenery": [1, 1]}
    table = markdown_table([row])
    assert "Questions that need a named tool: sft: called 67%, right when called 50.0%" in table
    assert "Called, per tool (questions called on / asked): sft: lighting_level 1/2, list_scenery 1/1." in table
    back = RowReport.from_dict(row.to_dict())
    assert back.called_by_tool == row.called_by_tool and back.outcomes[0].needed_tool == "lighting_level"
