"""The stack's alarms, evaluated each minute of the rehearsal's clock and their states set in moto.

Which alarms: the ones the driver reads (``alarm_names`` and ``composite_alarm_names`` of the stack's
outputs) and those their composites' rules name, with the definitions the plan gives them. The data is the
load balancer's per-minute metrics and the error-line counts of the stack's log metric filters, applied by
the rehearsal to the lines the processes wrote (``rehearsal/world/logs.py``); a metric with no datapoint is
missing data, treated as each alarm says. Metric alarms are evaluated first, then the composites
over their new states, and only a change of state is written (``SetAlarmState``), with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from components.config import Colour
from offline import Plan
from rehearsal.world.alarms import COMPOSITE_ALARM, INSUFFICIENT, METRIC_ALARM, CompositeAlarm, MetricAlarm, Source
from rehearsal.world.metrics import PERIOD


def watched_names(outputs: Mapping[str, Any]) -> list[str]:
    """The alarm names the driver reads, both colours."""
    names: list[str] = []
    for colour in Colour:
        names.extend(str(n) for n in ((outputs.get("alarm_names") or {}).get(colour.value) or []))
        composite = (outputs.get("composite_alarm_names") or {}).get(colour.value)
        if composite:
            names.append(str(composite))
    return names


@dataclass
class AlarmEvaluator:
    """The watched alarms' definitions and states."""

    metric_alarms: list[MetricAlarm]
    composites: list[CompositeAlarm]
    states: dict[str, str] = field(default_factory=dict)
    written: frozenset[str] = frozenset()
    """The alarms whose state is written to moto (those the world created); the others are only evaluated."""
    changes: list[tuple[float, str, str]] = field(default_factory=list)

    @classmethod
    def from_plan(cls, plan: Plan, names: Iterable[str], translate: Callable[[Any], Any]) -> AlarmEvaluator:
        """The definitions of ``names`` in ``plan``; an unevaluable definition fails here, naming the alarm."""
        names = list(names)
        wanted = set(names)
        metric_alarms, composites = [], []
        for resource in plan.of_type(COMPOSITE_ALARM):
            if str(resource.inputs.get("alarmName")) in wanted:
                composites.append(CompositeAlarm(str(resource.inputs["alarmName"]), str(resource.inputs["alarmRule"])))
                # The alarms a composite reads are evaluated too, whether the driver reads them or not.
                wanted.update(re.findall(r'\(\s*"([^"]+)"\s*\)', str(resource.inputs["alarmRule"])))
        for resource in plan.of_type(METRIC_ALARM):
            if str(resource.inputs.get("name")) in wanted:
                alarm = MetricAlarm.from_inputs(resource.inputs, translate)
                if alarm.period != PERIOD:
                    message = f"alarm {alarm.name}: period {alarm.period} s; the rehearsal publishes {PERIOD}-second datapoints"
                    raise ValueError(message)
                metric_alarms.append(alarm)
        return cls(metric_alarms, composites, {name: INSUFFICIENT for name in wanted}, frozenset(names))

    def evaluate(self, source: Source, minute: int, at: float, write: Callable[[str, str, str], None]) -> None:
        """Evaluate every alarm at the start of ``minute`` (epoch minutes); write and record each change at ``at``."""
        new = dict(self.states)
        reasons: dict[str, str] = {}
        for alarm in self.metric_alarms:
            new[alarm.name] = alarm.state(source, minute, self.states.get(alarm.name, INSUFFICIENT))
            reasons[alarm.name] = (f"rehearsal evaluation: {alarm.needed} of {alarm.periods} datapoints "
                                   f"{alarm.comparison} {alarm.threshold:g}, missing data {alarm.treatment}")
        for composite in self.composites:
            new[composite.name] = composite.state(new)
            reasons[composite.name] = f"rehearsal evaluation of {composite.rule}"
        # Metric alarms first, then the composites over them, each in the plan's order.
        for name in reasons:
            state = new[name]
            if state != self.states.get(name):
                if name in self.written:
                    write(name, state, reasons[name])
                self.changes.append((at, name, state))
        self.states = new

    def first(self, name: str, state: str) -> float | None:
        """When ``name`` first entered ``state``, on the rehearsal's monotonic clock."""
        return next((at for at, n, s in self.changes if n == name and s == state), None)
