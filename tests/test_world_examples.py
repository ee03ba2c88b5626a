"""The bundled examples: small, complete, answerable by their oracle programs, and reproducible."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from vidagent.tasks.oracle import GroundTruthTools, run_program
from vidagent.tasks.questions import WORLD_FAMILIES
from vidagent.tasks.verify import verify
from vidagent.tasks.world.generate import load_world

BUNDLE = Path(__file__).resolve().parents[1] / "examples" / "world"


def test_bundle_is_small_and_complete():
    world = load_world(BUNDLE)
    assert 4 <= len(world.truths) <= 6
    assert sum(p.stat().st_size for p in BUNDLE.iterdir()) < 5_000_000
    assert {q.family for q in world.questions} == set(WORLD_FAMILIES)
    for video_id in world.truths:
        assert world.video_path(video_id).is_file()


def test_street_demo_has_people_cars_and_a_dog():
    street = load_world(BUNDLE).truths["street"]
    classes = [o.category for o in street.objects if o.visible_boxes()]
    assert classes.count("person") >= 2 and classes.count("car") >= 1 and classes.count("dog") == 1
    assert street.background == "street"


def test_bundle_oracle_programs_are_all_correct():
    world = load_world(BUNDLE)
    for q in world.questions:
        answer = run_program(q.program, GroundTruthTools(world.truths[q.video]).call).answer
        assert verify(q, answer).correct, q.text


def test_bundle_regenerates_identically(tmp_path):
    spec = importlib.util.spec_from_file_location("make_bundle", BUNDLE / "make_bundle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make_bundle(tmp_path, ["street"])
    assert (tmp_path / "street.json").read_text() == (BUNDLE / "street.json").read_text()
    committed = [line for line in (BUNDLE / "questions.jsonl").read_text().splitlines() if '"video":"street"' in line]
    assert (tmp_path / "questions.jsonl").read_text().splitlines() == committed
