"""Offline models of the VPC pieces: what EC2 computes for a VPC, its subnets, gateways and groups.

Ids have EC2's shape (``vpc-`` plus 17 hex digits) and are derived from the
logical name, so two evaluations of the same stack agree.
"""

from __future__ import annotations

from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from offline.models import MockContext, resource


def _ec2_id(prefix: str, args: MockResourceArgs, ctx: MockContext) -> str:
    return f"{prefix}-{ctx.digest(ctx.stack, args.typ, args.name)}"


def _ec2_arn(kind: str, id_: str, ctx: MockContext) -> str:
    return ctx.arn("ec2", f"{kind}/{id_}")


@resource("aws:ec2/vpc:Vpc")
def _vpc(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    id_ = _ec2_id("vpc", args, ctx)
    return {
        "id": id_,
        "arn": _ec2_arn("vpc", id_, ctx),
        "ownerId": ctx.account,
        "defaultSecurityGroupId": _ec2_id("sg", args, ctx),
        "defaultRouteTableId": _ec2_id("rtb", args, ctx),
        "mainRouteTableId": _ec2_id("rtb", args, ctx),
        "defaultNetworkAclId": _ec2_id("acl", args, ctx),
        "instanceTenancy": "default",
    }


@resource("aws:ec2/subnet:Subnet")
def _subnet(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    id_ = _ec2_id("subnet", args, ctx)
    return {"id": id_, "arn": _ec2_arn("subnet", id_, ctx), "ownerId": ctx.account}


@resource("aws:ec2/internetGateway:InternetGateway")
def _internet_gateway(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    id_ = _ec2_id("igw", args, ctx)
    return {"id": id_, "arn": _ec2_arn("internet-gateway", id_, ctx), "ownerId": ctx.account}


@resource("aws:ec2/eip:Eip")
def _eip(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    number = int(ctx.digest(ctx.stack, args.name, length=6), 16)
    return {
        "id": f"eipalloc-{ctx.digest(ctx.stack, args.name)}",
        "allocationId": f"eipalloc-{ctx.digest(ctx.stack, args.name)}",
        "publicIp": f"52.{number % 256}.{(number >> 8) % 256}.{(number >> 16) % 256}",
        "domain": "vpc",
    }


@resource("aws:ec2/natGateway:NatGateway")
def _nat_gateway(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    return {"id": _ec2_id("nat", args, ctx), "connectivityType": "public"}


@resource("aws:ec2/routeTable:RouteTable")
def _route_table(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    id_ = _ec2_id("rtb", args, ctx)
    return {"id": id_, "arn": _ec2_arn("route-table", id_, ctx), "ownerId": ctx.account}


@resource("aws:ec2/route:Route")
def _route(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    return {"id": f"r-{args.inputs.get('routeTableId')}{ctx.digest(str(args.inputs.get('destinationCidrBlock')), length=10)}",
            "state": "active", "origin": "CreateRoute"}


@resource("aws:ec2/routeTableAssociation:RouteTableAssociation")
def _route_table_association(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    return {"id": _ec2_id("rtbassoc", args, ctx)}


@resource("aws:ec2/flowLog:FlowLog")
def _flow_log(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    id_ = _ec2_id("fl", args, ctx)
    return {"id": id_, "arn": _ec2_arn("vpc-flow-log", id_, ctx)}


@resource("aws:ec2/securityGroup:SecurityGroup")
def _security_group(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    id_ = _ec2_id("sg", args, ctx)
    name = args.inputs.get("name") or f"{args.name}-{ctx.digest(args.typ, args.name, length=7)}"
    return {"id": id_, "arn": _ec2_arn("security-group", id_, ctx), "name": name, "ownerId": ctx.account}
