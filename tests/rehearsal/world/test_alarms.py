"""The rehearsal's alarm evaluator against CloudWatch's documented examples.

Sources: CloudWatch User Guide, "Using Amazon CloudWatch Alarms", section "How Alarm State is Evaluated When
Data is Missing" (two tables: 3 of 3 and 2 of 3, five datapoints retrieved), and "Using metric math",
sections "Comparison and logical operators" and "Using IF expressions" (their example tables).
"""

from __future__ import annotations

import pytest

from rehearsal.world.alarms import ALARM, INSUFFICIENT, METRIC_ALARM, OK, CompositeAlarm, MetricAlarm, decide, rule_holds
from rehearsal.world.evaluator import AlarmEvaluator
from rehearsal.world.metric_math import MetricMathError, evaluate, parse

RETAIN = "RETAIN"  # the table's "Retain current state": the test passes a current state nobody else returns
COLUMNS = ("missing", "ignore", "breaching", "notBreaching")


def points(text: str) -> list[bool | None]:
    """``0 - X - X`` -> not breaching, missing, breaching, ..."""
    return [{"0": False, "X": True, "-": None}[p] for p in text.split()]


# Data points | MISSING | IGNORE | BREACHING | NOT BREACHING, Datapoints to Alarm 3 of Evaluation Periods 3.
THREE_OF_THREE = [
    ("0 - X - X", OK, OK, OK, OK),
    ("0 - - - -", OK, OK, OK, OK),
    ("- - - - -", INSUFFICIENT, RETAIN, ALARM, OK),
    ("0 X X - X", ALARM, ALARM, ALARM, ALARM),
    ("- - - - X", INSUFFICIENT, RETAIN, ALARM, OK),
    ("X - - - -", ALARM, RETAIN, ALARM, OK),
]
# The same for 2 of 3.
TWO_OF_THREE = [
    ("0 - X - X", ALARM, ALARM, ALARM, ALARM),
    ("0 0 X 0 X", ALARM, ALARM, ALARM, ALARM),
    ("0 - X - -", OK, OK, ALARM, OK),
    ("- - - - 0", OK, OK, ALARM, OK),
    ("- - - - X", INSUFFICIENT, RETAIN, ALARM, OK),
]


@pytest.mark.parametrize("row", THREE_OF_THREE)
def test_three_of_three_matches_the_documented_table(row: tuple[str, ...]) -> None:
    data, *expected = row
    got = [decide(points(data), 3, 3, treatment, RETAIN) for treatment in COLUMNS]
    assert got == expected


@pytest.mark.parametrize("row", TWO_OF_THREE)
def test_two_of_three_matches_the_documented_table(row: tuple[str, ...]) -> None:
    data, *expected = row
    got = [decide(points(data), 2, 3, treatment, RETAIN) for treatment in COLUMNS]
    assert got == expected


def test_an_unknown_missing_data_treatment_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="treatMissingData 'zero'"):
        decide([None], 1, 1, "zero", OK)


def series(values: str) -> dict[int, float]:
    return {i: float(v) for i, v in enumerate(values.split()) if v != "-"}


def run(expression: str, **named: str) -> dict[int, float]:
    data = {k: series(v) for k, v in named.items()}
    size = max(len(v.split()) for v in named.values())
    result = evaluate(parse(expression), data, list(range(size)))
    assert isinstance(result, dict)
    return result


# "Comparison and logical operators": metric1 = [30, 20, 0, 0], metric2 = [20, -, 20, -].
@pytest.mark.parametrize(("expression", "expected"), [
    ("(metric1 < metric2)", "0 0 1 0"),
    ("(metric1 >= 30)", "1 0 0 0"),
    ("(metric1 > 15 AND metric2 > 15)", "1 0 0 0"),
])
def test_comparisons_match_the_documented_table(expression: str, expected: str) -> None:
    assert run(expression, metric1="30 20 0 0", metric2="20 - 20 -") == series(expected)


# "Using IF expressions": metric1 = [1, 1, 0, 0, -], metric2 = [30, -, 0, 0, 30], metric3 = [0, 0, 20, -, 20].
@pytest.mark.parametrize(("expression", "expected"), [
    ("IF(metric1, metric2, metric3)", "30 0 20 - -"),
    ("IF(metric1, 5, metric3)", "5 5 20 - -"),
    ("IF(metric1, metric2, 5)", "30 0 5 5 -"),
])
def test_if_matches_the_documented_tables(expression: str, expected: str) -> None:
    assert run(expression, metric1="1 1 0 0 -", metric2="30 - 0 0 30", metric3="0 0 20 - 20") == series(expected)


def test_the_stacks_5xx_rate_expression_counts_only_busy_minutes() -> None:
    # IF(requests >= 50, 100 * FILL(errors, 0) / requests, 0): no errors reported is 0 errors; a quiet minute is 0.
    rate = run("IF(requests >= 50, 100 * FILL(errors, 0) / requests, 0)", requests="100 100 10 -", errors="7 - 5 -")
    assert rate == {0: 7.0, 1: 0.0, 2: 0.0}


def test_division_by_zero_drops_the_datapoint_and_fill_gives_every_period_a_value() -> None:
    assert run("100 * FILL(errors, 0) / FILL(requests, 1)", errors="1 - 2", requests="0 - 4") == {1: 0.0, 2: 50.0}
    assert run("MAX([node1, node2])", node1="1 5 -", node2="3 2 4") == {0: 3.0, 1: 5.0, 2: 4.0}


def test_unsupported_functions_are_refused_by_name() -> None:
    with pytest.raises(MetricMathError, match="function ANOMALY_DETECTION_BAND is not supported"):
        parse("ANOMALY_DETECTION_BAND(m1)")


def five_xx_alarm(**overrides: object) -> MetricAlarm:
    def query(id_: str, metric: str) -> dict[str, object]:
        stat = {"metricName": metric, "stat": "Sum", "period": 60, "dimensions": {"TargetGroup": "g"}}
        return {"id": id_, "returnData": False, "metric": stat}

    inputs = {
        "name": "green-5xx-rate", "threshold": 5, "evaluationPeriods": 3, "treatMissingData": "notBreaching",
        "comparisonOperator": "GreaterThanOrEqualToThreshold",
        "metricQueries": [query("errors", "HTTPCode_Target_5XX_Count"), query("requests", "RequestCount"),
                          {"id": "rate", "returnData": True, "expression": "IF(requests >= 50, 100 * FILL(errors, 0) / requests, 0)"}],
        **overrides,
    }
    return MetricAlarm.from_inputs(inputs)


def source_of(per_minute: dict[str, dict[int, float]]):  # type: ignore[no-untyped-def]
    return lambda namespace, metric, dims, stat, minute: per_minute.get(metric, {}).get(minute)


def test_a_metric_math_alarm_fires_after_three_busy_breaching_minutes() -> None:
    alarm = five_xx_alarm()
    data = {"RequestCount": {m: 100.0 for m in range(10)}, "HTTPCode_Target_5XX_Count": {m: 10.0 for m in range(3, 10)}}
    states = [alarm.state(source_of(data), now, OK) for now in range(3, 8)]
    # Minutes 3, 4, 5 breach: the evaluation at the start of minute 6 is the first with three.
    assert states == [OK, OK, OK, ALARM, ALARM]


def test_datapoints_to_alarm_makes_an_m_of_n_alarm() -> None:
    alarm = five_xx_alarm(datapointsToAlarm=2)
    data = {"RequestCount": {m: 100.0 for m in range(10)}, "HTTPCode_Target_5XX_Count": {3: 10.0, 5: 10.0}}
    assert alarm.state(source_of(data), 6, OK) == ALARM
    assert five_xx_alarm().state(source_of(data), 6, OK) == OK


def test_a_composite_follows_its_rule() -> None:
    composite = CompositeAlarm("green-release", 'ALARM("a") OR ALARM("b") OR ALARM("c")')
    assert composite.state({"a": OK, "b": OK, "c": OK}) == OK
    assert composite.state({"a": OK, "b": ALARM, "c": OK}) == ALARM
    assert rule_holds('ALARM("a") AND NOT (OK("b") OR INSUFFICIENT_DATA("c"))', {"a": ALARM, "b": ALARM, "c": OK})
    assert not rule_holds("FALSE OR (TRUE AND FALSE)", {})


class _Resource:
    def __init__(self, inputs: dict[str, object]) -> None:
        self.inputs = inputs


class _Plan:
    def __init__(self, alarms: list[dict[str, object]]) -> None:
        self.alarms = alarms

    def of_type(self, kind: str) -> list[_Resource]:
        return [_Resource(a) for a in self.alarms] if kind == METRIC_ALARM else []


def test_an_alarm_period_the_rehearsal_does_not_publish_is_refused_by_name() -> None:
    inputs = {"name": "slow-alarm", "threshold": 1, "evaluationPeriods": 1, "period": 300, "comparisonOperator": "GreaterThanThreshold",
              "namespace": "AWS/ApplicationELB", "metricName": "RequestCount", "statistic": "Sum"}
    with pytest.raises(ValueError, match="alarm slow-alarm: period 300 s; the rehearsal publishes 60-second datapoints"):
        AlarmEvaluator.from_plan(_Plan([inputs]), ["slow-alarm"], lambda v: v)  # type: ignore[arg-type]
