"""CloudWatch Logs JSON filter patterns, matched as a metric filter matches them (moto applies none).

Source: Amazon CloudWatch Logs User Guide, "Filter pattern syntax for metric filters, subscription filters,
filter log events, and Live Tail", section "Match terms in JSON log events" (earlier "Filter and Pattern
Syntax", "Matching Terms in JSON Log Events"). What is read here:

- a pattern is one expression in curly braces; ``$`` is the root of the event's JSON, then ``.name`` (letters,
  digits, ``-`` and ``_``) and ``[NUMBER]`` steps, e.g. ``$.users[0].email``;
- ``SELECTOR = STRING`` and ``!=``: the string with or without double quotes; ``*`` at its start or end is a
  wildcard (``Ev*ent`` matches only the text ``Ev*ent``) and ``*`` alone matches any value;
- ``SELECTOR op NUMBER`` with op one of ``= != < > <= >=``, the number signed, decimal or in e-notation;
- ``SELECTOR IS NULL``, ``SELECTOR NOT EXISTS``, ``SELECTOR IS TRUE`` / ``IS FALSE``;
- ``&&`` and ``||`` with parentheses, in the order ``()`` > ``&&`` > ``||``;
- the selector must point to a value node (string, number, boolean): an array or an object matches neither
  ``=`` nor ``!=``, and neither does a missing property;
- the match is case sensitive, and an event that is not JSON matches no JSON pattern.

Term patterns (``ERROR -Exiting``), space-delimited patterns (``[ip, user, ...]``) and regular expressions
(``%...%``) are refused with the reason: ``monitoring:logs.errorPattern`` may hold them, but the rehearsal does
not model them, and a pattern it cannot read must not count as "no error lines".
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SUPPORTED = ("a JSON pattern in braces: $.selectors compared with = != < > <= >= to strings or numbers, "
             "IS NULL, NOT EXISTS, IS TRUE/FALSE, joined by && and || with parentheses")

TOKEN = re.compile(r"""
    \s*(?:
      (?P<selector>\$(?:\.[A-Za-z0-9_-]+|\[[0-9]+\])*)
    | (?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))
    | (?P<quoted>"(?:[^"\\]|\\.)*")
    | (?P<word>[^\s()&|=!<>"]+)
    )""", re.VERBOSE)
NUMBER = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
STEP = re.compile(r"\.([A-Za-z0-9_-]+)|\[([0-9]+)\]")
MISSING = object()

Test = Callable[[Any], bool]


class UnsupportedPattern(ValueError):
    """A filter pattern outside what the rehearsal can match, with the pattern and the reason."""

    def __init__(self, pattern: str, why: str) -> None:
        super().__init__(f"filter pattern {pattern!r}: {why}; the rehearsal matches {SUPPORTED}")
        self.pattern = pattern


def select(document: Any, selector: str) -> Any:
    """The node ``selector`` (``$.a[0].b``) names in ``document``, or ``MISSING``."""
    node = document
    for name, index in STEP.findall(selector[1:]):
        if name:
            if not isinstance(node, dict) or name not in node:
                return MISSING
            node = node[name]
        else:
            if not isinstance(node, list) or int(index) >= len(node):
                return MISSING
            node = node[int(index)]
    return node


def _is_value(node: Any) -> bool:
    return node is not MISSING and not isinstance(node, dict | list)


def _string_test(text: str, negate: bool) -> Test:
    """``=`` / ``!=`` a string; ``*`` only at either end is a wildcard."""
    if text == "*":
        def matches(value: str) -> bool:
            return True
    elif text.startswith("*") and text.endswith("*") and len(text) > 1:
        def matches(value: str) -> bool:
            return text[1:-1] in value
    elif text.startswith("*"):
        def matches(value: str) -> bool:
            return value.endswith(text[1:])
    elif text.endswith("*"):
        def matches(value: str) -> bool:
            return value.startswith(text[:-1])
    else:
        def matches(value: str) -> bool:
            return value == text

    def test(node: Any) -> bool:
        if not _is_value(node) or node is None:
            return False
        value = json.dumps(node) if isinstance(node, bool) else str(node)
        return matches(value) != negate

    return test


NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b,
}


def _number_test(op: str, number: float) -> Test:
    def test(node: Any) -> bool:
        if isinstance(node, bool) or not isinstance(node, int | float):
            return False
        return NUMERIC[op](float(node), number)

    return test


@dataclass(frozen=True)
class FilterPattern:
    """A parsed JSON filter pattern."""

    text: str
    test: Callable[[Any], bool]

    def matches(self, message: str) -> bool:
        """Whether a log event's message matches."""
        try:
            document = json.loads(message)
        except ValueError:
            return False
        return self.test(document)


def parse(pattern: str) -> FilterPattern:
    """Read ``pattern``; refuse what is outside the supported subset, naming why."""
    body = pattern.strip()
    if body.startswith("%"):
        raise UnsupportedPattern(pattern, "regular expressions are not modelled")
    if body.startswith("["):
        raise UnsupportedPattern(pattern, "space-delimited patterns are not modelled")
    if not (body.startswith("{") and body.endswith("}")):
        raise UnsupportedPattern(pattern, "term patterns are not modelled")
    tokens = _tokens(pattern, body[1:-1])
    parser = _Parser(pattern, tokens)
    test = parser.expression()
    if parser.position != len(tokens):
        raise UnsupportedPattern(pattern, f"unexpected {tokens[parser.position][1]!r}")
    return FilterPattern(pattern, test)


def _tokens(pattern: str, text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    at = 0
    while text[at:].strip():
        match = TOKEN.match(text, at)
        if not match or match.end() == at:
            raise UnsupportedPattern(pattern, f"cannot read {text[at:].strip()!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        at = match.end()
    return tokens


class _Parser:
    """Recursive descent: expression := term ('||' term)*; term := factor ('&&' factor)*."""

    def __init__(self, pattern: str, tokens: list[tuple[str, str]]) -> None:
        self.pattern = pattern
        self.tokens = tokens
        self.position = 0

    def _peek(self) -> tuple[str, str]:
        return self.tokens[self.position] if self.position < len(self.tokens) else ("end", "")

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if token[0] == "end":
            raise UnsupportedPattern(self.pattern, "it ends too early")
        self.position += 1
        return token

    def expression(self) -> Test:
        tests = [self.term()]
        while self._peek() == ("op", "||"):
            self._take()
            tests.append(self.term())
        return tests[0] if len(tests) == 1 else (lambda doc: any(t(doc) for t in tests))

    def term(self) -> Test:
        tests = [self.factor()]
        while self._peek() == ("op", "&&"):
            self._take()
            tests.append(self.factor())
        return tests[0] if len(tests) == 1 else (lambda doc: all(t(doc) for t in tests))

    def factor(self) -> Test:
        kind, text = self._take()
        if (kind, text) == ("op", "("):
            inner = self.expression()
            if self._take() != ("op", ")"):
                raise UnsupportedPattern(self.pattern, "a parenthesis is not closed")
            return inner
        if kind != "selector":
            raise UnsupportedPattern(self.pattern, f"expected a $. selector, found {text!r}")
        return self._comparison(text)

    def _comparison(self, selector: str) -> Test:
        kind, op = self._take()
        if kind == "word" and op in ("IS", "NOT"):
            _, word = self._take()
            check = {("IS", "NULL"): lambda n: n is None, ("NOT", "EXISTS"): lambda n: n is MISSING,
                     ("IS", "TRUE"): lambda n: n is True, ("IS", "FALSE"): lambda n: n is False}.get((op, word))
            if check is None:
                raise UnsupportedPattern(self.pattern, f"{op} {word} is not an operator")
            return lambda doc: check(select(doc, selector))
        if kind != "op" or op not in NUMERIC:
            raise UnsupportedPattern(self.pattern, f"expected an operator after {selector}, found {op!r}")
        kind, value = self._take()
        if kind == "quoted":
            if op not in ("=", "!="):
                raise UnsupportedPattern(self.pattern, f"{op} compares numbers, not the string {value}")
            node_test = _string_test(json.loads(value), negate=op == "!=")
        elif kind == "word" and NUMBER.match(value):
            number = float(value)
            numeric = _number_test(op, number)
            # A number in a string field ("400") is compared as the text it is written as.
            textual = _string_test(value, negate=op == "!=") if op in ("=", "!=") else None

            def node_test(node: Any) -> bool:
                if isinstance(node, int | float) and not isinstance(node, bool):
                    return numeric(node)
                return bool(textual and isinstance(node, str) and textual(node))
        elif kind == "word":
            if op not in ("=", "!="):
                raise UnsupportedPattern(self.pattern, f"{op} compares numbers, not {value!r}")
            node_test = _string_test(value, negate=op == "!=")
        else:
            raise UnsupportedPattern(self.pattern, f"expected a value after {selector} {op}, found {value!r}")
        return lambda doc: node_test(select(doc, selector))
