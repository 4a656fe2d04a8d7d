"""A small validator for the five-field cron expressions Pulumi Cloud schedules take.

Drift schedules are evaluated by the service in UTC with the classic five fields
(minute, hour, day of month, month, day of week). The service only answers a
bad expression when the update runs; this check answers it at config time with
the field that is wrong and its range.
"""

from __future__ import annotations

from dataclasses import dataclass

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()

    def number(self, text: str) -> int:
        upper = text.upper()
        if upper in self.names:
            return self.names.index(upper) + self.low
        if not text.isdigit():
            allowed = f"a number {self.low}-{self.high}"
            if self.names:
                allowed += f" or one of {', '.join(self.names)}"
            message = f"{self.name} {text!r} is not {allowed}"
            raise ValueError(message)
        value = int(text)
        if not self.low <= value <= self.high:
            message = f"{self.name} {value} is outside {self.low}-{self.high}"
            raise ValueError(message)
        return value


FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day of month", 1, 31),
    _Field("month", 1, 12, _MONTHS),
    _Field("day of week", 0, 6, _DAYS),
)


def _check_part(part: str, field: _Field) -> None:
    base, slash, step = part.partition("/")
    if slash and (not step.isdigit() or int(step) == 0):
        message = f"{field.name} step {step!r} must be a whole number above 0"
        raise ValueError(message)
    if base == "*":
        return
    low_text, dash, high_text = base.partition("-")
    low = field.number(low_text)
    if dash:
        high = field.number(high_text)
        if high < low:
            message = f"{field.name} range {base!r} runs backwards"
            raise ValueError(message)
    elif slash:
        message = f"{field.name} step {part!r} needs a range or '*' before the '/'"
        raise ValueError(message)


def check_cron(expression: str) -> str:
    """Return the expression if it is a valid five-field cron; raise ``ValueError`` saying what is wrong."""
    fields = expression.split()
    if len(fields) != len(FIELDS):
        message = (
            f"a cron expression has 5 fields (minute hour day-of-month month day-of-week), "
            f"this one has {len(fields)}; e.g. '0 6 * * *' is daily at 06:00 UTC"
        )
        raise ValueError(message)
    for text, field in zip(fields, FIELDS, strict=True):
        for part in text.split(","):
            if not part:
                message = f"{field.name} {text!r} has an empty list item"
                raise ValueError(message)
            _check_part(part, field)
    return expression
