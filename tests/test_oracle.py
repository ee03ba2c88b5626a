"""Oracle programs: schema checks, reference resolution, and the consistency test (every oracle program,
run against the ground-truth tools, answers its question correctly)."""

from __future__ import annotations

import pytest
from vidagent.errors import ToolArgumentError, ToolError
from vidagent.tasks.oracle import (
    TOOL_ARGS,
    GroundTruthTools,
    Program,
    ProgramError,
    call,
    compose,
    ref,
    resolve_path,
    run_program,
)
from vidagent.tasks.questions import WORLD_FAMILIES
from vidagent.tasks.verify import verify
from vidagent.tasks.world.config import WorldConfig
from vidagent.tasks.world.generate import generate_video
from vidagent.tools.results import DetectionResult, TimeSpan, Track


@pytest.fixture(scope="module")
def generated():
    config = WorldConfig(collision_prob=0.7)
    return [generate_video(config, seed, f"v{seed}", None) for seed in range(30)]


def test_every_oracle_program_answers_its_question(generated):
    total = 0
    families = set()
    for result in generated:
        tools = GroundTruthTools(result.truth)
        for question in result.questions:
            run = run_program(question.program, tools.call)
            score = verify(question, run.answer)
            assert score.correct, (question.text, question.answer, run.answer)
            assert len(run.steps) == question.hops == question.program.hops
            total += 1
            families.add(question.family)
    assert total >= 300
    assert families == set(WORLD_FAMILIES)


def test_programs_use_only_the_default_tools(generated):
    names = {c.tool for r in generated for q in r.questions for c in q.program.calls}
    assert names == {"detect_objects", "recognize_action", "ground_moment", "describe_frame"}


def test_program_schema_rejects_mistakes():
    with pytest.raises(ValueError, match="unknown tool"):
        Program(calls=[call("x", "detect_everything")], answer=compose("top_span", result=ref("x")))
    with pytest.raises(ValueError, match="no argument"):
        Program(calls=[call("x", "ground_moment", text="a dog")], answer=compose("top_span", result=ref("x")))
    with pytest.raises(ValueError, match="before it runs"):
        Program(calls=[call("d", "describe_frame", t_s=ref("m.spans.0.start_s")),
                       call("m", "ground_moment", query="q")], answer=compose("exists", result=ref("d")))
    with pytest.raises(ValueError, match="unknown composition op"):
        Program(calls=[call("m", "ground_moment", query="q")], answer=compose("guess", result=ref("m")))


def test_program_round_trips_through_json():
    program = Program(calls=[call("m", "ground_moment", query="the red car stops"),
                             call("d", "detect_objects", start_s=ref("m.spans.0.start_s"),
                                  end_s=ref("m.spans.0.end_s"), classes=["person"])],
                      answer=compose("count_tracks", result=ref("d"), label="person"))
    assert Program.model_validate_json(program.model_dump_json()) == program


def test_selectors_pick_exactly_one_item():
    tracks = [Track(4, "person", "red", 0, 1), Track(9, "person", "blue", 0, 1), Track(2, "car", "red", 0, 1)]
    det = DetectionResult(TimeSpan(0, 1), tracks, {"person": 2, "car": 1}, {})
    results = {"det": det}
    assert resolve_path(results, "det.tracks[color=blue].track_id") == 9
    assert resolve_path(results, "det.tracks[label=car,color=red].track_id") == 2
    assert resolve_path(results, "det.tracks.0.label") == "person"
    with pytest.raises(ProgramError, match="2 items match"):
        resolve_path(results, "det.tracks[color=red].track_id")
    with pytest.raises(ProgramError, match="no field"):
        resolve_path(results, "det.boxes")
    with pytest.raises(ProgramError, match="no earlier call"):
        resolve_path(results, "moment.spans.0.start_s")


def test_ground_truth_tools_answer_exactly_in_the_real_tools_form(generated):
    truth = generated[0].truth
    tools = GroundTruthTools(truth)
    whole = tools.call("detect_objects", {"start_s": 0.0, "end_s": truth.duration_s})
    assert sum(whole.counts.values()) == len([o for o in truth.objects if o.visible_boxes()])
    assert "track" in whole.to_text()
    seg = truth.segments[0]
    moment = tools.call("ground_moment", {"query": seg.caption})
    if sum(s.caption == seg.caption for s in truth.segments) == 1:
        assert (moment.spans[0].start_s, moment.spans[0].end_s) == (seg.start_s, seg.end_s)
    action = tools.call("recognize_action", {"start_s": seg.start_s, "end_s": seg.end_s, "track_id": seg.track_id})
    assert action.actions[0].label == seg.action and action.actions[0].score == 1.0
    frame = tools.call("describe_frame", {"t_s": seg.start_s})
    positions = {f"{v}{h}" for v in ("", "top ", "bottom ") for h in ("left", "center", "right")}
    assert frame.objects and all(o.position in positions for o in frame.objects)


def test_ground_truth_tools_check_arguments_like_the_real_ones(generated):
    tools = GroundTruthTools(generated[0].truth)
    with pytest.raises(ToolError, match="unknown class"):
        tools.call("detect_objects", {"start_s": 0.0, "end_s": 2.0, "classes": ["dragon"]})
    with pytest.raises(ToolArgumentError, match="top_k"):
        tools.call("ground_moment", {"query": "a dog", "top_k": 0})
    assert tools.call("detect_objects", {"start_s": 0.0, "end_s": 2.0, "classes": ["people"]}).counts.keys() <= {"person"}


def test_oracle_programs_may_use_exactly_the_tool_functions_arguments():
    assert TOOL_ARGS == {"detect_objects": ("start_s", "end_s", "classes"),
                         "recognize_action": ("start_s", "end_s", "track_id"),
                         "ground_moment": ("query", "top_k"), "describe_frame": ("t_s",)}
