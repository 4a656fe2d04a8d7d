"""Offline models of pulumi-aws resources and invokes: what AWS would compute.

ARNs follow each service's documented format (region and account included),
names follow Pulumi's auto-naming where no name is given.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from offline.models import MockContext, autoname, invoke, resource
from offline.models.knowledge import (
    REGION,
    REGION_SDKV2,
    TF,
    Call,
    Lifecycle,
    PlanView,
    Violation,
    creates,
    forwards_in,
    input_rule,
    lifecycle,
    pascal,
    pick,
    replaced_on,
    review,
)
from offline.render_resources import listener_route, listener_rule_route

# Zone suffixes per region; the program asks for zones and must not be given more than exist.
ZONES: dict[str, tuple[str, ...]] = {
    "us-east-1": ("a", "b", "c", "d", "e", "f"),
    "us-east-2": ("a", "b", "c"),
    "us-west-1": ("a", "c"),
    "us-west-2": ("a", "b", "c", "d"),
    "eu-west-1": ("a", "b", "c"),
    "eu-west-2": ("a", "b", "c"),
    "eu-central-1": ("a", "b", "c"),
    "eu-north-1": ("a", "b", "c"),
    "ap-southeast-2": ("a", "b", "c"),
    "ap-northeast-1": ("a", "c", "d"),
}


# --- invokes -----------------------------------------------------------------


@invoke("aws:index/getCallerIdentity:getCallerIdentity")
def _caller_identity(_: dict[str, Any], ctx: MockContext) -> dict[str, Any]:
    return {
        "accountId": ctx.account,
        "arn": f"arn:aws:iam::{ctx.account}:role/deployer",
        "userId": "AROAEXAMPLEDEPLOYER",
        "id": ctx.account,
    }


@invoke("aws:index/getRegion:getRegion")
def _region(_: dict[str, Any], ctx: MockContext) -> dict[str, Any]:
    return {"region": ctx.region, "name": ctx.region, "id": ctx.region, "endpoint": f"ec2.{ctx.region}.amazonaws.com"}


@invoke("aws:index/getPartition:getPartition")
def _partition(_: dict[str, Any], ctx: MockContext) -> dict[str, Any]:
    return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}


@invoke("aws:index/getAvailabilityZones:getAvailabilityZones")
def _zones(_: dict[str, Any], ctx: MockContext) -> dict[str, Any]:
    suffixes = ZONES.get(ctx.region, ("a", "b", "c"))
    names = [f"{ctx.region}{s}" for s in suffixes]
    return {"names": names, "zoneIds": [f"{ctx.region[:3]}1-az{i + 1}" for i in range(len(names))], "id": ctx.region}


# --- resources ---------------------------------------------------------------


@resource("aws:s3/bucket:Bucket")
def _bucket(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    name = autoname(args, ctx, "bucket")
    return {
        "id": name,
        "bucket": name,
        "arn": f"arn:aws:s3:::{name}",
        "bucketDomainName": f"{name}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{name}.s3.{ctx.region}.amazonaws.com",
        "region": ctx.region,
    }


@resource("aws:lb/loadBalancer:LoadBalancer")
def _load_balancer(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    name = autoname(args, ctx)
    suffix = f"app/{name}/{ctx.digest(args.name, length=16)}"
    arn = ctx.arn("elasticloadbalancing", f"loadbalancer/{suffix}")
    return {
        "id": arn,
        "arn": arn,
        "arnSuffix": suffix,
        "name": name,
        "dnsName": f"{name}-{int(ctx.digest(args.name, length=8), 16) % 10**10}.{ctx.region}.elb.amazonaws.com",
        "zoneId": "Z32O12XQLNTSW2",
    }


# The provider completes a name_prefix with a 26-character unique id (terraform-plugin-sdk helper/id
# PrefixedUniqueId: a timestamp and a counter), so a 6-character prefix gives a 32-character name.
_UNIQUE_SUFFIX = 26


@resource("aws:lb/targetGroup:TargetGroup")
def _target_group(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    prefix = args.inputs.get("namePrefix")
    if isinstance(prefix, str) and prefix and not args.inputs.get("name"):
        digits = str(int(ctx.digest("namePrefix", ctx.stack, args.name, length=24), 16))
        name = prefix + digits[:_UNIQUE_SUFFIX].rjust(_UNIQUE_SUFFIX, "0")
    else:
        name = autoname(args, ctx)
    suffix = f"targetgroup/{name}/{ctx.digest(args.name, length=16)}"
    arn = ctx.arn("elasticloadbalancing", suffix)
    return {"id": arn, "arn": arn, "arnSuffix": suffix, "name": name}


@resource("aws:lb/listener:Listener")
def _listener(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    lb = str(args.inputs.get("loadBalancerArn", ""))
    lb_part = lb.split(":loadbalancer/", 1)[-1] or f"app/unknown/{ctx.digest(args.name)}"
    arn = ctx.arn("elasticloadbalancing", f"listener/{lb_part}/{ctx.digest(args.name, length=16)}")
    return {"id": arn, "arn": arn}


@resource("aws:lb/listenerRule:ListenerRule")
def _listener_rule(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    listener = str(args.inputs.get("listenerArn", ""))
    listener_part = listener.split(":listener/", 1)[-1] or f"app/unknown/{ctx.digest(args.name)}/0"
    arn = ctx.arn("elasticloadbalancing", f"listener-rule/{listener_part}/{ctx.digest(args.name, length=16)}")
    return {"id": arn, "arn": arn}


@resource("aws:route53/record:Record")
def _record(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    zone, name, type_ = (str(args.inputs.get(k, "")) for k in ("zoneId", "name", "type"))
    return {"id": f"{zone}_{name}_{type_}", "fqdn": name}


@resource("aws:sns/topic:Topic")
def _topic(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    name = autoname(args, ctx)
    arn = ctx.arn("sns", name)
    return {"id": arn, "arn": arn, "name": name}


# --- create requests, validated by the offline check against botocore's service models ---------


def _action(action: dict[str, Any]) -> dict[str, Any]:
    """A provider listener action as ELBv2's ``Action`` shape."""
    out: dict[str, Any] = {"Type": action.get("type")}
    if action.get("targetGroupArn"):
        out["TargetGroupArn"] = action["targetGroupArn"]
    if action.get("order") is not None:
        out["Order"] = action["order"]
    forward = action.get("forward")
    if isinstance(forward, dict):
        config: dict[str, Any] = {"TargetGroups": [
            {"TargetGroupArn": g.get("arn"), **({"Weight": g["weight"]} if g.get("weight") is not None else {})}
            for g in forward.get("targetGroups") or []
        ]}
        stickiness = forward.get("stickiness")
        if isinstance(stickiness, dict):
            config["TargetGroupStickinessConfig"] = pascal({k: v for k, v in stickiness.items() if k != "duration"})
            if stickiness.get("duration") is not None:
                config["TargetGroupStickinessConfig"]["DurationSeconds"] = stickiness["duration"]
        out["ForwardConfig"] = config
    if isinstance(action.get("redirect"), dict):
        out["RedirectConfig"] = pascal(action["redirect"])
    if isinstance(action.get("fixedResponse"), dict):
        out["FixedResponseConfig"] = pascal(action["fixedResponse"])
    return out


# The provider's condition blocks and ELBv2's ``RuleCondition`` field names (CreateRule, RuleCondition.Field).
_CONDITIONS = {
    "hostHeader": ("host-header", "HostHeaderConfig"),
    "pathPattern": ("path-pattern", "PathPatternConfig"),
    "httpHeader": ("http-header", "HttpHeaderConfig"),
    "httpRequestMethod": ("http-request-method", "HttpRequestMethodConfig"),
    "queryString": ("query-string", "QueryStringConfig"),
    "sourceIp": ("source-ip", "SourceIpConfig"),
}


def _condition(condition: dict[str, Any]) -> dict[str, Any]:
    for key, (field_name, member) in _CONDITIONS.items():
        block = condition.get(key)
        if block is None:
            continue
        if key == "queryString":
            return {"Field": field_name, member: {"Values": pascal(block if isinstance(block, list) else [block])}}
        return {"Field": field_name, member: pascal(block)}
    return {}


@creates("elbv2", "aws:lb/listener:Listener")
def _listener_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {"loadBalancerArn": "LoadBalancerArn", "protocol": "Protocol", "port": "Port",
                         "sslPolicy": "SslPolicy"}, "CreateListener")
    if inputs.get("certificateArn"):
        call.params["Certificates"] = [{"CertificateArn": inputs["certificateArn"]}]
        call.origin["Certificates"] = "certificateArn"
    call.params["DefaultActions"] = [_action(a) for a in inputs.get("defaultActions") or [] if isinstance(a, dict)]
    call.origin["DefaultActions"] = "defaultActions"
    return [call]


@creates("elbv2", "aws:lb/listenerRule:ListenerRule")
def _listener_rule_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {"listenerArn": "ListenerArn", "priority": "Priority"}, "CreateRule")
    call.params["Actions"] = [_action(a) for a in inputs.get("actions") or [] if isinstance(a, dict)]
    call.params["Conditions"] = [_condition(c) for c in inputs.get("conditions") or [] if isinstance(c, dict)]
    call.origin.update(Actions="actions", Conditions="conditions")
    return [call]


@creates("elbv2", "aws:lb/targetGroup:TargetGroup")
def _target_group_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {"protocol": "Protocol", "protocolVersion": "ProtocolVersion", "port": "Port", "vpcId": "VpcId",
                         "targetType": "TargetType", "ipAddressType": "IpAddressType"}, "CreateTargetGroup")
    call.params["Name"] = name
    call.origin["Name"] = "name"
    check = inputs.get("healthCheck")
    if isinstance(check, dict):
        members = {"protocol": "HealthCheckProtocol", "port": "HealthCheckPort", "enabled": "HealthCheckEnabled",
                   "path": "HealthCheckPath", "interval": "HealthCheckIntervalSeconds", "timeout": "HealthCheckTimeoutSeconds",
                   "healthyThreshold": "HealthyThresholdCount", "unhealthyThreshold": "UnhealthyThresholdCount"}
        for key, member in members.items():
            if check.get(key) is not None:
                call.params[member] = check[key]
                call.origin[member] = f"healthCheck.{key}"
        if check.get("matcher") is not None:
            call.params["Matcher"] = {"HttpCode": check["matcher"]}
            call.origin["Matcher"] = "healthCheck.matcher"
    return [call]


@creates("elbv2", "aws:lb/loadBalancer:LoadBalancer")
def _load_balancer_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {"subnets": "Subnets", "securityGroups": "SecurityGroups", "loadBalancerType": "Type",
                         "ipAddressType": "IpAddressType"}, "CreateLoadBalancer")
    call.params["Name"] = name
    call.origin["Name"] = "name"
    if inputs.get("internal") is not None:
        call.params["Scheme"] = "internal" if inputs["internal"] else "internet-facing"
        call.origin["Scheme"] = "internal"
    return [call]


@creates("sns", "aws:sns/topic:Topic")
def _topic_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {}, "CreateTopic")
    call.params["Name"] = name
    call.origin["Name"] = "name"
    if inputs.get("kmsMasterKeyId"):
        call.params["Attributes"] = {"KmsMasterKeyId": inputs["kmsMasterKeyId"]}
        call.origin["Attributes"] = "kmsMasterKeyId"
    return [call]


@creates("s3", "aws:s3/bucket:Bucket")
def _bucket_request(inputs: dict[str, Any], name: str) -> list[Call]:
    return [Call("CreateBucket", {"Bucket": inputs.get("bucket") or name}, {"Bucket": "bucket"})]


# --- rules ELBv2 states outside the shapes ---------------------------------------------------------


def _weighted_forwards(inputs: dict[str, Any], key: str) -> Iterator[tuple[str, list[Any]]]:
    for index, action in enumerate(inputs.get(key) or []):
        forward = action.get("forward") if isinstance(action, dict) else None
        if isinstance(forward, dict):
            yield f"{key}[{index}].forward.targetGroups", list(forward.get("targetGroups") or [])


def _forward_problems(inputs: dict[str, Any], key: str) -> Iterator[Violation]:
    for path, groups in _weighted_forwards(inputs, key):
        if not 1 <= len(groups) <= 5:
            yield Violation(path, len(groups), "a forward action names 1 to 5 target groups")
        for index, group in enumerate(groups):
            weight = group.get("weight", 1) if isinstance(group, dict) else None
            if not isinstance(weight, int) or not 0 <= weight <= 999:
                yield Violation(f"{path}[{index}].weight", weight, "a weight is an integer from 0 to 999")


_FORWARD_SOURCE = ("botocore elbv2 service-2.json, TargetGroupTuple.Weight ('The range is 0 to 999'); Elastic Load "
                   "Balancing User Guide, 'Quotas for your Application Load Balancers' (target groups per action: 5)")


@input_rule("aws:lb/listener:Listener", "forward-weights", _FORWARD_SOURCE)
def _listener_forwards(inputs: dict[str, Any], _: PlanView) -> Iterator[Violation]:
    yield from _forward_problems(inputs, "defaultActions")


@input_rule("aws:lb/listenerRule:ListenerRule", "forward-weights", _FORWARD_SOURCE)
def _rule_forwards(inputs: dict[str, Any], _: PlanView) -> Iterator[Violation]:
    yield from _forward_problems(inputs, "actions")


@input_rule(
    "aws:lb/targetGroup:TargetGroup", "health-check-timeout",
    "Elastic Load Balancing User Guide for Application Load Balancers, 'Health checks for your target groups' "
    "(HealthCheckTimeoutSeconds must be smaller than HealthCheckIntervalSeconds)",
)
def _health_check_timing(inputs: dict[str, Any], _: PlanView) -> Iterator[Violation]:
    check = inputs.get("healthCheck")
    if isinstance(check, dict) and isinstance(check.get("timeout"), int) and isinstance(check.get("interval"), int):
        if check["timeout"] >= check["interval"]:
            yield Violation("healthCheck.timeout", check["timeout"], f"must be below the interval ({check['interval']}s)")


# A replaced target group is deleted first when its name is fixed; ELBv2 refuses that while an action forwards to it.
lifecycle("aws:lb/targetGroup:TargetGroup", Lifecycle(
    name_keys=("name",), delete_fails_while_used=True,
    source="botocore elbv2 service-2.json, DeleteTargetGroup ('You can delete a target group if it is not referenced by "
           "any actions'; error ResourceInUseException)",
))


@creates("route53", "aws:route53/record:Record")
def _record_request(inputs: dict[str, Any], name: str) -> list[Call]:
    record: dict[str, Any] = {"Name": inputs.get("name"), "Type": inputs.get("type")}
    if inputs.get("ttl") is not None:
        record["TTL"] = inputs["ttl"]
    if inputs.get("records"):
        record["ResourceRecords"] = [{"Value": v} for v in inputs["records"]]
    aliases = [a for a in inputs.get("aliases") or [] if isinstance(a, dict)]
    if aliases:
        record["AliasTarget"] = {"HostedZoneId": aliases[0].get("zoneId"), "DNSName": aliases[0].get("name"),
                                 "EvaluateTargetHealth": bool(aliases[0].get("evaluateTargetHealth", False))}
    call = pick(inputs, {"zoneId": "HostedZoneId"}, "ChangeResourceRecordSets")
    call.params["ChangeBatch"] = {"Changes": [{"Action": "UPSERT" if inputs.get("allowOverwrite") else "CREATE",
                                               "ResourceRecordSet": record}]}
    call.origin["ChangeBatch"] = "(record)"
    return [call]


# What a change to an input replaces (the provider's schema rule, cited) and what a reviewer sees.
replaced_on("aws:s3/bucket:Bucket",
    "bucket", "bucketPrefix", "objectLockEnabled", REGION,
    source=f"{TF}s3/bucket.go: bucket, bucket_prefix, object_lock_enabled ForceNew; {REGION_SDKV2}")
replaced_on("aws:lb/loadBalancer:LoadBalancer",
    "customerOwnedIpv4Pool", "internal", "loadBalancerType", "name", "namePrefix", REGION,
    source=f"{TF}elbv2/load_balancer.go: customer_owned_ipv4_pool, internal, load_balancer_type, name, name_prefix"
           " ForceNew; CustomizeDiff (plan time, conditional, not listed): an application load balancer's edited"
           " subnet_mapping entry, a network load balancer's subnets shrinking or its security_groups going from none"
           f" to some or back; ip_address_type and security_groups otherwise update in place; {REGION_SDKV2}")
replaced_on("aws:lb/targetGroup:TargetGroup",
    "ipAddressType", "name", "namePrefix", "port", "protocol", "protocolVersion", "targetType", "vpcId", REGION,
    source=f"{TF}elbv2/target_group.go: ip_address_type, name, name_prefix, port, protocol, protocol_version,"
           f" target_type, vpc_id ForceNew (its CustomizeDiff only validates); {REGION_SDKV2}")
replaced_on("aws:lb/listener:Listener",
    "loadBalancerArn", REGION,
    source=f"{TF}elbv2/listener.go: load_balancer_arn ForceNew (port, protocol, certificate and default_action"
           f" update in place through ModifyListener); {REGION_SDKV2}")
replaced_on("aws:lb/listenerRule:ListenerRule",
    "listenerArn", REGION,
    source=f"{TF}elbv2/listener_rule.go: listener_arn ForceNew; priority is ForceNew: false (SetRulePriorities),"
           f" action and condition update through ModifyRule; {REGION_SDKV2}")
replaced_on("aws:route53/record:Record",
    "name", "zoneId",
    source=f"{TF}route53/record.go: name, zone_id ForceNew (a type change is a delete and create in one batch);"
           " Route 53 is global: no region input")
replaced_on("aws:sns/topic:Topic",
    "fifoTopic", "name", "namePrefix", REGION,
    source=f"{TF}sns/topic.go: name, name_prefix, fifo_topic ForceNew (the other attributes update through"
           f" SetTopicAttributes; its CustomizeDiff only validates the name and FIFO-only settings); {REGION_SDKV2}")
review("aws:lb/loadBalancer:LoadBalancer", "name", "enableDeletionProtection")
review("aws:lb/targetGroup:TargetGroup", "namePrefix", "port", "healthCheck.path")
review("aws:lb/listener:Listener", "port", "protocol", "sslPolicy", summary=listener_route)
review("aws:lb/listenerRule:ListenerRule", summary=listener_rule_route)
# A listener's default actions and a rule's actions attach the target groups they forward to (the ordering check reads it).
forwards_in("aws:lb/listener:Listener", "defaultActions")
forwards_in("aws:lb/listenerRule:ListenerRule", "actions")
