"""The saved Logs Insights queries of a colour, as text: pure, so the dashboard and the query definitions share them.

Field names come from ``monitoring:logs`` and are validated there (letters,
digits, ``_`` and ``.``), so they cannot change the query's shape. Syntax:
CloudWatch Logs "CloudWatch Logs Insights language query syntax" (fields,
filter, stats, sort, limit; ``ispresent``).
"""

from __future__ import annotations

from components.config.monitoring import LogSignals


def errors_by_message(fields: LogSignals) -> str:
    """The Logs Insights query of a colour's error lines, most frequent message first."""
    levels = ", ".join(f'"{level}"' for level in fields.error_levels)
    return (f"fields @timestamp, {fields.message_field}\n"
            f"| filter {fields.level_field} in [{levels}]\n"
            f"| stats count(*) as lines by {fields.message_field}\n"
            "| sort lines desc\n| limit 50")


def slowest_requests(fields: LogSignals) -> str:
    """The Logs Insights query of a colour's slowest requests."""
    return (f"fields @timestamp, {fields.duration_field}, {fields.message_field}\n"
            f"| filter ispresent({fields.duration_field})\n"
            f"| sort {fields.duration_field} desc\n| limit 50")


def with_source(query: str, log_groups: list[str]) -> str:
    """The query as a dashboard log widget runs it: ``SOURCE '<group>' | ...`` for each group, then the query."""
    sources = " | ".join(f"SOURCE '{group}'" for group in log_groups)
    return f"{sources} | " + query.replace("\n", " ")
