"""Follow-up questions on a thread stand on their own: pronouns resolved, the previous answer in view."""

from __future__ import annotations

from vidagent.agent.followup import PreviousTurn, plural_of, resolve_followup

COUNT_FINAL = {"question": "How many people appear?", "answered": True,
               "answer": {"text": "2", "evidence": {"spans": [[0.0, 9.3]], "track_ids": [3, 4],
                                                    "boxes": [{"label": "person"}, {"label": "person"},
                                                              {"label": "bicycle"}]}}}


def test_it_becomes_the_previous_answers_subject_and_the_answer_stays_in_view():
    follow = resolve_followup("What color is it?", PreviousTurn.from_final(COUNT_FINAL))
    assert follow.question == "What color is the person?"
    assert follow.resolved == "'it' = the person"
    assert '"How many people appear?" was answered "2"' in follow.context
    assert "Its evidence: tracks 3, 4; 0.0-9.3 s." in follow.context


def test_plural_pronouns_possessives_and_demonstratives():
    previous = PreviousTurn.from_final(COUNT_FINAL)
    assert resolve_followup("When do they leave?", previous).question == "When do the people leave?"
    assert resolve_followup("What is its color?", previous).question == "What is the person's color?"
    assert resolve_followup("When does that car stop?", previous).question == "When does the car stop?"
    assert resolve_followup("They ride what?", previous).question == "The people ride what?"


def test_without_evidence_the_subject_comes_from_the_previous_question():
    final = {"question": "How many dogs appear?", "answer": {"text": "1", "evidence": {}}}
    assert resolve_followup("When does it jump?", PreviousTurn.from_final(final)).question == \
        "When does the dog jump?"


def test_a_question_without_a_reference_is_kept_and_no_previous_turn_is_none():
    previous = PreviousTurn.from_final(COUNT_FINAL)
    follow = resolve_followup("How many cars pass?", previous)
    assert follow.question == "How many cars pass?" and follow.resolved is None
    assert "Earlier in this conversation" in follow.context
    assert PreviousTurn.from_final(None) is None and PreviousTurn.from_final({"answer": None}) is None
    unanswered = PreviousTurn.from_final({"question": "Why?", "answer": None})
    assert unanswered is not None and "was not answered" in unanswered.summary()
    assert resolve_followup("What is it?", unanswered).question == "What is it?"  # no subject: kept


def test_plurals():
    assert [plural_of(w) for w in ["person", "car", "bus", "puppy", "box"]] == \
        ["people", "cars", "buses", "puppies", "boxes"]


def test_a_thread_follow_up_reaches_the_planner_resolved_with_the_previous_answer(tiny_video, tmp_path):
    from langchain_core.messages import HumanMessage, ToolMessage
    from test_agent_graph import count_objects
    from vidagent.agent import Agent, ScriptedChatModel
    from vidagent.agent.api import sqlite_checkpointer
    from vidagent.agent.parsing import format_answer, format_tool_call

    seen = []

    def follow_up(messages):
        seen.extend(messages)
        return format_answer("white")

    model = ScriptedChatModel(replies=[format_tool_call("count_objects", {"start_s": 0, "end_s": 4}),
                                       format_answer("2"), follow_up])
    agent = Agent(planner=model, tools=[count_objects], checkpointer=sqlite_checkpointer(tmp_path / "t.sqlite"))
    agent.ask(tiny_video, "How many dogs?", thread_id="t")
    second = agent.ask(tiny_video, "What color is it?", thread_id="t")
    (question,) = [m.content for m in seen if isinstance(m, HumanMessage)]
    assert "Question: What color is the dog?" in question and "How many dogs?" not in question
    assert not any(isinstance(m, ToolMessage) for m in seen)  # a text-format planner: one question at a time
    notice = second.trace[0]
    assert notice.kind == "notice" and "'it' = the dog" in notice.text
    assert '"How many dogs?" was answered "2". Its evidence: tracks 7; 0.0-4.0 s.' in notice.text
    assert second.answer.value == "white" and second.question == "What color is it?"
