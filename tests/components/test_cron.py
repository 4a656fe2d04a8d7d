"""The cron validator accepts every well-formed five-field expression and names the field of a bad one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.config.cron import FIELDS, check_cron

RANGES = [(f.low, f.high) for f in FIELDS]


@st.composite
def field_text(draw: st.DrawFn, low: int, high: int) -> str:
    kind = draw(st.sampled_from(["star", "number", "range", "step", "list"]))
    if kind == "star":
        return "*"
    if kind == "number":
        return str(draw(st.integers(low, high)))
    a = draw(st.integers(low, high))
    b = draw(st.integers(a, high))
    if kind == "range":
        return f"{a}-{b}"
    if kind == "step":
        base = draw(st.sampled_from(["*", f"{a}-{b}"]))
        return f"{base}/{draw(st.integers(1, 30))}"
    return ",".join(str(draw(st.integers(low, high))) for _ in range(draw(st.integers(2, 4))))


@st.composite
def expressions(draw: st.DrawFn) -> str:
    return " ".join(draw(field_text(low, high)) for low, high in RANGES)


@given(expressions())
def test_every_well_formed_expression_is_accepted(expression: str) -> None:
    assert check_cron(expression) == expression


@given(st.integers(0, 4), st.data())
def test_a_value_outside_its_field_is_refused_by_name(index: int, data: st.DataObject) -> None:
    field = FIELDS[index]
    bad = data.draw(st.one_of(st.integers(field.high + 1, field.high + 100), st.integers(-100, field.low - 1)))
    parts = ["*"] * 5
    parts[index] = str(bad)
    with pytest.raises(ValueError, match=field.name):
        check_cron(" ".join(parts))
