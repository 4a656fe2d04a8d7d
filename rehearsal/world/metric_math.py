"""CloudWatch metric math, as far as alarms on a load balancer need it.

Supported: numbers, query ids, ``+ - * / ^``, unary minus, ``== != <= >= < >``, ``AND``/``&&``,
``OR``/``||``, ``IF``, ``FILL`` (with a number or a time series), and ``MAX``/``MIN``/``SUM``/``AVG`` of an
array ``[a, b]`` (per timestamp) or of one series (a number). Anything else is refused by name.

The rules, from the CloudWatch User Guide, "Using metric math" (sections "Basic arithmetic functions",
"Comparison and logical operators", "Using IF expressions"):
- arithmetic between series: a value missing in one is 0; a division by zero drops the datapoint;
- comparisons and logical operators give 0 or 1; between two series a missing value is 0;
- ``IF(c, a, b)``: for each datapoint of ``c``, ``a`` when it is not 0, else ``b``; a missing datapoint of
  series ``a`` is 0, one of series ``b`` (or an omitted ``b``) drops the datapoint;
- ``FILL(m, v)`` gives every period of the query a value: ``m``'s, else ``v``.
A series is a mapping period index -> value; a number is a float.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

Series = dict[int, float]
Value = float | Series | list[Series]

TOKEN = re.compile(r"\s*(?:(\d+\.?\d*(?:[eE][-+]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|<=|>=|&&|\|\||[-+*/^()<>,\[\]]))")
FUNCTIONS = ("IF", "FILL", "MAX", "MIN", "SUM", "AVG")


class MetricMathError(ValueError):
    """An expression this evaluator cannot read."""


@dataclass(frozen=True)
class Node:
    """One node of a parsed expression."""

    kind: str  # "num", "id", "op", "neg", "call", "array"
    value: str | float = ""
    args: tuple[Node, ...] = ()


def tokenize(text: str) -> list[str]:
    """The expression's tokens."""
    tokens, at = [], 0
    text = text.strip()
    while at < len(text):
        match = TOKEN.match(text, at)
        if not match or match.end() == at:
            message = f"metric math {text!r}: cannot read {text[at:]!r}"
            raise MetricMathError(message)
        tokens.append(next(g for g in match.groups() if g is not None))
        at = match.end()
    return tokens


class _Parser:
    # Precedence, lowest first: OR, AND, comparison, + -, * /, ^, unary -.
    LEVELS: tuple[tuple[str, ...], ...] = (("OR", "||"), ("AND", "&&"), ("==", "!=", "<=", ">=", "<", ">"), ("+", "-"), ("*", "/"), ("^",))

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.at = 0

    def fail(self, what: str) -> MetricMathError:
        return MetricMathError(f"metric math {self.text!r}: {what}")

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            what = f"expected {expected or 'more'}, found {token or 'the end'}"
            raise self.fail(what)
        self.at += 1
        return token

    def parse(self) -> Node:
        node = self.binary(0)
        if self.peek() is not None:
            what = f"unexpected {self.peek()!r}"
            raise self.fail(what)
        return node

    def binary(self, level: int) -> Node:
        if level == len(self.LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while self.peek() in self.LEVELS[level]:
            op = self.take()
            node = Node("op", {"&&": "AND", "||": "OR"}.get(op, op), (node, self.binary(level + 1)))
        return node

    def unary(self) -> Node:
        if self.peek() == "-":
            self.take()
            return Node("neg", args=(self.unary(),))
        return self.atom()

    def atom(self) -> Node:
        word = self.take()
        if word == "(":
            node = self.binary(0)
            self.take(")")
            return node
        if word == "[":
            items = self.items("]")
            return Node("array", args=tuple(items))
        if word[0].isdigit():
            return Node("num", float(word))
        if self.peek() == "(":
            if word not in FUNCTIONS:
                what = f"function {word} is not supported here (supported: {', '.join(FUNCTIONS)})"
                raise self.fail(what)
            self.take("(")
            return Node("call", word, tuple(self.items(")")))
        return Node("id", word)

    def items(self, close: str) -> list[Node]:
        items: list[Node] = []
        while self.peek() != close:
            items.append(self.binary(0))
            if self.peek() == ",":
                self.take()
        self.take(close)
        return items


def parse(text: str) -> Node:
    """Parse an expression."""
    return _Parser(text).parse()


def _pointwise(a: Value, b: Value, fn: Callable[[float, float], float | None]) -> Value:
    if isinstance(a, list) or isinstance(b, list):
        message = "an array of series is only allowed inside MAX, MIN, SUM or AVG"
        raise MetricMathError(message)
    if isinstance(a, dict) or isinstance(b, dict):
        keys = set(a) if isinstance(a, dict) else set()
        keys |= set(b) if isinstance(b, dict) else set()
        out: Series = {}
        for k in sorted(keys):
            left = a.get(k, 0.0) if isinstance(a, dict) else a
            right = b.get(k, 0.0) if isinstance(b, dict) else b
            result = fn(left, right)
            if result is not None:
                out[k] = result
        return out
    result = fn(a, b)
    if result is None:
        message = "a division by zero of two numbers"
        raise MetricMathError(message)
    return result


def _divide(x: float, y: float) -> float | None:
    return None if y == 0 else x / y


OPERATORS: dict[str, Callable[[float, float], float | None]] = {
    "+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y, "/": _divide, "^": lambda x, y: x**y,
    "==": lambda x, y: float(x == y), "!=": lambda x, y: float(x != y), "<=": lambda x, y: float(x <= y),
    ">=": lambda x, y: float(x >= y), "<": lambda x, y: float(x < y), ">": lambda x, y: float(x > y),
    "AND": lambda x, y: float(bool(x) and bool(y)), "OR": lambda x, y: float(bool(x) or bool(y)),
}


def evaluate(node: Node, series: Mapping[str, Series], periods: Sequence[int]) -> Value:
    """The value of ``node`` given each id's series over ``periods`` (the query's period indexes)."""
    if node.kind == "num":
        return float(node.value)
    if node.kind == "id":
        if node.value not in series:
            message = f"metric math: no query has the id {node.value!r}"
            raise MetricMathError(message)
        return dict(series[str(node.value)])
    if node.kind == "neg":
        return _pointwise(evaluate(node.args[0], series, periods), -1.0, OPERATORS["*"])
    if node.kind == "op":
        left, right = (evaluate(a, series, periods) for a in node.args)
        if isinstance(left, dict) and not isinstance(right, dict) and node.value in ("==", "!=", "<=", ">=", "<", ">"):
            # A series compared with a number keeps the series' own datapoints only.
            op = OPERATORS[str(node.value)]
            return {k: float(op(v, float(right)) or 0.0) for k, v in left.items()}  # type: ignore[arg-type]
        return _pointwise(left, right, OPERATORS[str(node.value)])
    if node.kind == "array":
        items = [evaluate(a, series, periods) for a in node.args]
        if not all(isinstance(i, dict) for i in items):
            message = "an array holds series only"
            raise MetricMathError(message)
        return [i for i in items if isinstance(i, dict)]
    return _call(str(node.value), [evaluate(a, series, periods) for a in node.args], periods)


def _call(name: str, args: list[Value], periods: Sequence[int]) -> Value:
    if name == "IF":
        return _if(args)
    if name == "FILL":
        if len(args) != 2 or not isinstance(args[0], dict) or isinstance(args[1], list):
            message = "FILL takes a series and a number or a series"
            raise MetricMathError(message)
        metric, filler = args[0], args[1]
        if not isinstance(metric, dict) or isinstance(filler, list):
            message = "FILL takes a series and a number or a series"
            raise MetricMathError(message)
        return {p: metric[p] if p in metric else (filler.get(p, 0.0) if isinstance(filler, dict) else filler) for p in periods}
    reducer: dict[str, Callable[[list[float]], float]] = {
        "MAX": max, "MIN": min, "SUM": sum, "AVG": lambda v: sum(v) / len(v),
    }
    if len(args) != 1:
        message = f"{name} takes one argument"
        raise MetricMathError(message)
    arg = args[0]
    if isinstance(arg, list):
        keys = sorted({k for s in arg for k in s})
        # AVG treats a missing value as 0 (the guide's function table); the others use the values present.
        return {k: reducer[name]([s.get(k, 0.0) for s in arg] if name == "AVG" else [s[k] for s in arg if k in s]) for k in keys}
    if isinstance(arg, dict):
        return reducer[name](list(arg.values())) if arg else 0.0
    return arg


def _if(args: list[Value]) -> Value:
    if len(args) not in (2, 3) or any(isinstance(a, list) for a in args):
        message = "IF takes a condition, a value if true and an optional value if false"
        raise MetricMathError(message)
    condition, when_true = args[0], args[1]
    when_false = args[2] if len(args) == 3 else None
    if not isinstance(condition, dict):
        chosen = when_true if condition else when_false
        return chosen if chosen is not None else {}
    out: Series = {}
    for k, c in condition.items():
        if c:
            out[k] = when_true.get(k, 0.0) if isinstance(when_true, dict) else float(when_true)  # type: ignore[arg-type]
        elif isinstance(when_false, dict):
            if k in when_false:
                out[k] = when_false[k]
        elif when_false is not None:
            out[k] = float(when_false)  # type: ignore[arg-type]
    return out
