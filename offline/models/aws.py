"""Offline models of pulumi-aws resources and invokes: what AWS would compute.

ARNs follow each service's documented format (region and account included),
names follow Pulumi's auto-naming where no name is given.
"""

from __future__ import annotations

from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from offline.models import MockContext, autoname, invoke, resource

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
