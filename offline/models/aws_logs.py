"""Offline models of CloudWatch Logs' metric filters and saved Logs Insights queries.

Log groups themselves are modelled in ``aws_cloudwatch``. A metric filter's id
is its name; a saved query's is the id PutQueryDefinition returns (a UUID).
"""

from __future__ import annotations

import uuid
from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from offline.models import MockContext, autoname, resource


@resource("aws:cloudwatch/logMetricFilter:LogMetricFilter")
def _metric_filter(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    name = autoname(args, ctx)
    return {"id": name, "name": name}


@resource("aws:cloudwatch/queryDefinition:QueryDefinition")
def _query_definition(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    ident = str(uuid.UUID(ctx.digest(args.typ, args.name, length=32)))
    return {"id": ident, "queryDefinitionId": ident, "name": str(args.inputs.get("name", args.name))}
