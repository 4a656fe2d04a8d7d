"""The rehearsal's metric filter patterns against the documented examples of CloudWatch Logs.

Source of every example: Amazon CloudWatch Logs User Guide, "Filter pattern syntax for metric filters" ("Filter
and Pattern Syntax"), sections "JSON Metric Filter Examples", "JSON Compound Conditions", "JSON Special
Considerations" and "Numeric Comparisons", each pattern with the event and the outcome the guide gives.
"""

from __future__ import annotations

import json

import pytest

from rehearsal.world.filter_pattern import UnsupportedPattern, parse

# The guide's first example event.
TRAIL = json.dumps({
    "eventType": "UpdateTrail", "sourceIPAddress": "111.111.111.111", "arrayKey": ["value", "another value"],
    "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}], "SomeObject": None, "ThisFlag": True,
})
# The guide's compound-conditions event.
USERS = json.dumps({
    "user": {"id": 1, "email": "John.Stiles@example.com"},
    "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
    "actions": ["GET", "PUT", "DELETE"], "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]],
})


@pytest.mark.parametrize("pattern", [
    '{ $.eventType = "UpdateTrail" }',
    "{ $.sourceIPAddress != 123.123.* }",
    '{ $.arrayKey[0] = "value" }',
    "{ $.objectList[1].id = 2 }",
    "{ $.SomeObject IS NULL }",
    "{ $.SomeOtherObject NOT EXISTS }",
    "{ $.ThisFlag IS TRUE }",
])
def test_the_documented_json_examples_match_their_event(pattern: str) -> None:
    assert parse(pattern).matches(TRAIL)


@pytest.mark.parametrize(("pattern", "matches"), [
    ('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', True),
    ('{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', False),
    ('{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }', True),
    ('{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }', False),
])
def test_compound_conditions_follow_the_documented_precedence(pattern: str, matches: bool) -> None:
    # () before && before ||: the third and fourth differ only in their parentheses.
    assert parse(pattern).matches(USERS) is matches


def test_or_in_json_filters_matches_either_event() -> None:
    # The guide's OR example: {$.foo = bar} matches the first, {$.foo = baz} the second, the OR both.
    bar, baz = '{"foo": "bar"}', '{"foo": "baz"}'
    assert [parse("{$.foo = bar}").matches(e) for e in (bar, baz)] == [True, False]
    assert [parse("{$.foo = bar || $.foo = baz }").matches(e) for e in (bar, baz)] == [True, True]


def test_a_selector_on_an_array_matches_neither_equal_nor_not_equal() -> None:
    event = '{"users": [1, 2, 3]}'
    assert not parse("{$.users = 1}").matches(event)
    assert not parse("{$.users != 1}").matches(event)


@pytest.mark.parametrize(("pattern", "event", "matches"), [
    ("{ $.latency >= 500 }", '{"latency": 500}', True),
    ("{ $.numbers[0] < 10e3 }", '{"numbers": [9999.5]}', True),
    ("{ $.numbers[0] < 10e-3 }", '{"numbers": [0.02]}', False),
    ("{ $.processes[4].averageRuntime <= 55.5 }", '{"processes": [{}, {}, {}, {}, {"averageRuntime": 55.5}]}', True),
    ("{ $.errorCode = 400 }", '{"errorCode": 400}', True),
    ("{ $.errorCode != 500 }", '{"errorCode": 500}', False),
    ("{ $.latency > +1000 }", '{"latency": 1001}', True),
])
def test_numeric_comparisons(pattern: str, event: str, matches: bool) -> None:
    assert parse(pattern).matches(event) is matches


@pytest.mark.parametrize(("value", "matches"), [
    ("PutEvent", True), ("GetEvent", True), ("EventId", False), ("Event", True),
])
def test_a_wildcard_at_the_start_matches_any_text_before(value: str, matches: bool) -> None:
    assert parse("{ $.name = *Event }").matches(json.dumps({"name": value})) is matches


def test_a_wildcard_inside_a_string_is_the_character_itself() -> None:
    # "Ev*ent will only match the actual string Ev*ent".
    pattern = parse("{ $.name = Ev*ent }")
    assert not pattern.matches('{"name": "Evident"}')
    assert pattern.matches('{"name": "Ev*ent"}')
    assert parse("{ $.name = Event* }").matches('{"name": "EventName"}')


def test_the_stacks_default_error_pattern_counts_error_and_fatal_lines_only() -> None:
    pattern = parse('{ ($.level = "error") || ($.level = "fatal") }')
    assert pattern.matches('{"level": "error", "message": "boom"}')
    assert pattern.matches('{"level": "fatal"}')
    assert not pattern.matches('{"level": "info"}')
    assert not pattern.matches('{"level": "ERROR"}'), "filter patterns are case sensitive"
    assert not pattern.matches("error: not JSON")


@pytest.mark.parametrize(("pattern", "why"), [
    ("ERROR -Exiting", "term patterns are not modelled"),
    ("[ip, user, ..., status_code = 4*, bytes]", "space-delimited patterns are not modelled"),
    ("%ERROR%", "regular expressions are not modelled"),
    ("{ $.level ~ error }", "expected an operator after $.level, found '~'"),
    ("{ $.level = & }", "cannot read"),
    ('{ $.latency > "slow" }', "compares numbers"),
    ("{ $.level IS MAYBE }", "IS MAYBE is not an operator"),
    ('{ ($.level = "error" }', "it ends too early"),
    ('{ $.level = "error" ) }', "unexpected ')'"),
])
def test_patterns_outside_the_subset_are_refused_naming_why(pattern: str, why: str) -> None:
    with pytest.raises(UnsupportedPattern, match=r"the rehearsal matches a JSON pattern in braces") as caught:
        parse(pattern)
    assert why in str(caught.value)
    assert repr(pattern) in str(caught.value)
