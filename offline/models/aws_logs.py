"""Offline models of CloudWatch Logs' metric filters and saved Logs Insights queries.

Log groups themselves are modelled in ``aws_cloudwatch``. A metric filter's id
is its name; a saved query's is the id PutQueryDefinition returns (a UUID).
"""

from __future__ import annotations

import uuid
from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from offline.models import MockContext, autoname, resource
from offline.models.knowledge import REGION, REGION_SDKV2, TF, Call, creates, pick, replaced_on


@resource("aws:cloudwatch/logMetricFilter:LogMetricFilter")
def _metric_filter(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    name = autoname(args, ctx)
    return {"id": name, "name": name}


@resource("aws:cloudwatch/queryDefinition:QueryDefinition")
def _query_definition(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    ident = str(uuid.UUID(ctx.digest(args.typ, args.name, length=32)))
    return {"id": ident, "queryDefinitionId": ident, "name": str(args.inputs.get("name", args.name))}


# --- create requests, validated by the offline check against botocore's service models ---------


@creates("logs", "aws:cloudwatch/logMetricFilter:LogMetricFilter")
def _metric_filter_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {"logGroupName": "logGroupName", "pattern": "filterPattern"}, "PutMetricFilter")
    call.params["filterName"] = name
    call.origin["filterName"] = "name"
    given = inputs.get("metricTransformation")
    if isinstance(given, dict):
        transformation: dict[str, Any] = {"metricName": given.get("name"), "metricNamespace": given.get("namespace"),
                                          "metricValue": given.get("value")}
        if given.get("unit") is not None:
            transformation["unit"] = given["unit"]
        if given.get("dimensions"):
            transformation["dimensions"] = given["dimensions"]
        if given.get("defaultValue") not in (None, ""):
            # The provider takes the default as a string and sends the number (MetricTransformation.defaultValue: double).
            try:
                transformation["defaultValue"] = float(given["defaultValue"])
            except ValueError:
                transformation["defaultValue"] = given["defaultValue"]
        call.params["metricTransformations"] = [transformation]
        call.origin["metricTransformations"] = "metricTransformation"
    return [call]


@creates("logs", "aws:cloudwatch/queryDefinition:QueryDefinition")
def _query_definition_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {"queryString": "queryString", "logGroupNames": "logGroupNames"}, "PutQueryDefinition")
    call.params["name"] = inputs.get("name") or name
    call.origin["name"] = "name"
    return [call]


# What a change to an input replaces (the provider's schema rule, cited) and what a reviewer sees.
replaced_on("aws:cloudwatch/logMetricFilter:LogMetricFilter",
    "logGroupName", "name", REGION,
    source=f"{TF}logs/metric_filter.go: log_group_name, name ForceNew (pattern, metric_transformation and"
           f" apply_on_transformed_logs update through PutMetricFilter); {REGION_SDKV2}")
replaced_on("aws:cloudwatch/queryDefinition:QueryDefinition",
    REGION,
    source=f"{TF}logs/query_definition.go: no ForceNew argument (name, query_string and log_group_names update through"
           f" PutQueryDefinition with the definition's id); {REGION_SDKV2}")
