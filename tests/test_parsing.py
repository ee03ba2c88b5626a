"""The reply parser: tool calls, answers, and no crash on any input (hypothesis)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from vidagent.agent.parsing import (
    MALFORMED_CALL_TEMPLATE,
    InvalidCall,
    ParsedReply,
    ParsedToolCall,
    format_answer,
    format_tool_call,
    parse_reply,
)


def test_one_call_with_plan_text():
    reply = parse_reply('First I count.\n<tool_call>{"name": "detect_objects", "arguments": {"start_s": 0}}</tool_call>')
    assert reply.text == "First I count."
    assert [(c.name, c.arguments) for c in reply.tool_calls] == [("detect_objects", {"start_s": 0})]
    assert reply.answer is None and not reply.invalid_calls


def test_several_calls_and_ids_are_unique():
    text = format_tool_call("a", {"x": 1}) + "\n" + format_tool_call("b", {})
    reply = parse_reply(text)
    assert [c.name for c in reply.tool_calls] == ["a", "b"]
    assert len({c.id for c in reply.tool_calls}) == 2


def test_answer_alone_and_unclosed_answer():
    assert parse_reply("The cars are red. <answer>red</answer>").answer == "red"
    assert parse_reply("<answer> 2.0-4.5 ").answer == "2.0-4.5"


def test_answer_ignored_when_the_reply_also_calls_a_tool():
    reply = parse_reply(format_tool_call("a", {}) + format_answer("3"))
    assert reply.answer is None and len(reply.tool_calls) == 1


def test_unclosed_call_is_read_to_the_end():
    reply = parse_reply('<tool_call>{"name": "a", "arguments": {"k": 2}}')
    assert reply.tool_calls[0].arguments == {"k": 2}


def test_arguments_as_json_string_and_missing_arguments():
    reply = parse_reply('<tool_call>{"name": "a", "arguments": "{\\"k\\": 1}"}</tool_call><tool_call>{"name": "b"}</tool_call>')
    assert [c.arguments for c in reply.tool_calls] == [{"k": 1}, {}]


def test_trailing_text_after_the_json_is_tolerated():
    reply = parse_reply('<tool_call>{"name": "a", "arguments": {}}}</tool_call>')
    assert reply.tool_calls[0].name == "a"


def test_malformed_calls_become_invalid_calls_with_reasons():
    cases = {
        '<tool_call>{"name": "a", "arguments": {</tool_call>': "invalid JSON",
        "<tool_call></tool_call>": "empty",
        "<tool_call>[1, 2]</tool_call>": "expected a JSON object",
        '<tool_call>{"arguments": {}}</tool_call>': '"name"',
        '<tool_call>{"name": "a", "arguments": [1]}</tool_call>': "must be a JSON object",
        '<tool_call>{"name": "a", "args": {}}</tool_call>': "unexpected keys",
        '<tool_call>{"name": "a", "arguments": "not json"}</tool_call>': "expected a JSON object",
    }
    for text, reason in cases.items():
        reply = parse_reply(text)
        assert not reply.tool_calls, text
        assert len(reply.invalid_calls) == 1 and reason in reply.invalid_calls[0].error, (text, reply)
        assert reply.answer is None
        message = MALFORMED_CALL_TEMPLATE.format(details=reply.invalid_calls[0].error)
        assert message.startswith("Error: could not read your tool call")


def test_format_round_trip():
    call = format_tool_call("ground_moment", {"query": 'a "quoted" dog', "top_k": 2})
    reply = parse_reply(call)
    assert reply.tool_calls[0].arguments == {"query": 'a "quoted" dog', "top_k": 2}


def _check(reply: ParsedReply) -> None:
    assert isinstance(reply, ParsedReply)
    assert isinstance(reply.text, str)
    assert all(isinstance(c, ParsedToolCall) and isinstance(c.arguments, dict) for c in reply.tool_calls)
    assert all(isinstance(c, InvalidCall) and c.error for c in reply.invalid_calls)
    assert reply.answer is None or isinstance(reply.answer, str)


_fragments = st.sampled_from(["<tool_call>", "</tool_call>", "<answer>", "</answer>", "{", "}", '"name"', ":",
                              '"arguments"', "[", "]", ",", '"', "\\", "null", "1e999", "\n", " "])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_fragments, st.text(max_size=12)), max_size=40).map("".join))
def test_fuzz_never_crashes_on_tag_soup(text):
    _check(parse_reply(text))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_never_crashes_on_any_text(text):
    _check(parse_reply(text))


_json = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=8),
                     lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
                     max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_fuzz_any_json_value_inside_a_call(value):
    _check(parse_reply(f"<tool_call>{json.dumps(value)}</tool_call>"))


def test_deeply_nested_json_does_not_crash():
    _check(parse_reply("<tool_call>" + "[" * 100000 + "</tool_call>"))
    _check(parse_reply('<tool_call>{"name": "a", "arguments": ' + "{\"a\":" * 50000 + "1" + "}" * 50000 + "}</tool_call>"))
