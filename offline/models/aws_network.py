"""Offline models of the VPC pieces: what EC2 computes for a VPC, its subnets, gateways and groups.

Ids have EC2's shape (``vpc-`` plus 17 hex digits) and are derived from the
logical name, so two evaluations of the same stack agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from offline.models import MockContext, resource
from offline.models.knowledge import (
    REGION,
    REGION_SDKV2,
    TF,
    Call,
    Lifecycle,
    Violation,
    creates,
    input_rule,
    lifecycle,
    pick,
    replaced_on,
    review,
)
from offline.render_resources import security_group_rules


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


# --- create requests, validated by the offline check against botocore's service models ---------


def _permission(rule: dict[str, Any], *, inline: bool) -> dict[str, Any]:
    """One security group rule as EC2's ``IpPermission`` (inline blocks and the standalone rule resource differ)."""
    described = {"Description": rule["description"]} if rule.get("description") is not None else {}
    out: dict[str, Any] = {"IpProtocol": str(rule.get("protocol" if inline else "ipProtocol"))}
    for key, member in (("fromPort", "FromPort"), ("toPort", "ToPort")):
        if rule.get(key) is not None:
            out[member] = rule[key]
    if inline:
        cidrs, cidrs6, groups = rule.get("cidrBlocks") or [], rule.get("ipv6CidrBlocks") or [], rule.get("securityGroups") or []
    else:
        cidrs = [rule["cidrIpv4"]] if rule.get("cidrIpv4") else []
        cidrs6 = [rule["cidrIpv6"]] if rule.get("cidrIpv6") else []
        groups = [rule["referencedSecurityGroupId"]] if rule.get("referencedSecurityGroupId") else []
    if cidrs:
        out["IpRanges"] = [{"CidrIp": c, **described} for c in cidrs]
    if cidrs6:
        out["Ipv6Ranges"] = [{"CidrIpv6": c, **described} for c in cidrs6]
    if groups:
        out["UserIdGroupPairs"] = [{"GroupId": g, **described} for g in groups]
    return out


@creates("ec2", "aws:ec2/securityGroup:SecurityGroup")
def _security_group_request(inputs: dict[str, Any], name: str) -> list[Call]:
    create = pick(inputs, {"description": "Description", "vpcId": "VpcId"}, "CreateSecurityGroup")
    create.params["GroupName"] = name
    create.origin["GroupName"] = "name"
    calls = [create]
    for key, operation in (("ingress", "AuthorizeSecurityGroupIngress"), ("egress", "AuthorizeSecurityGroupEgress")):
        rules = [r for r in inputs.get(key) or [] if isinstance(r, dict)]
        if rules:
            params = {"GroupId": "sg-00000000000000000", "IpPermissions": [_permission(r, inline=True) for r in rules]}
            calls.append(Call(operation, params, {"IpPermissions": key}))
    return calls


@creates("ec2", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
def _ingress_rule_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {"securityGroupId": "GroupId"}, "AuthorizeSecurityGroupIngress")
    call.params["IpPermissions"] = [_permission(inputs, inline=False)]
    call.origin["IpPermissions"] = "(rule)"
    return [call]


@creates("ec2", "aws:ec2/vpc:Vpc")
def _vpc_request(inputs: dict[str, Any], name: str) -> list[Call]:
    return [pick(inputs, {"cidrBlock": "CidrBlock", "instanceTenancy": "InstanceTenancy"}, "CreateVpc")]


@creates("ec2", "aws:ec2/subnet:Subnet")
def _subnet_request(inputs: dict[str, Any], name: str) -> list[Call]:
    return [pick(inputs, {"vpcId": "VpcId", "cidrBlock": "CidrBlock", "availabilityZone": "AvailabilityZone"}, "CreateSubnet")]


@creates("ec2", "aws:ec2/internetGateway:InternetGateway")
def _gateway_request(inputs: dict[str, Any], name: str) -> list[Call]:
    return [Call("CreateInternetGateway", {})]


@creates("ec2", "aws:ec2/eip:Eip")
def _eip_request(inputs: dict[str, Any], name: str) -> list[Call]:
    return [pick(inputs, {"domain": "Domain"}, "AllocateAddress")]


@creates("ec2", "aws:ec2/natGateway:NatGateway")
def _nat_request(inputs: dict[str, Any], name: str) -> list[Call]:
    return [pick(inputs, {"subnetId": "SubnetId", "allocationId": "AllocationId", "connectivityType": "ConnectivityType"},
                 "CreateNatGateway")]


@creates("ec2", "aws:ec2/routeTable:RouteTable")
def _route_table_request(inputs: dict[str, Any], name: str) -> list[Call]:
    return [pick(inputs, {"vpcId": "VpcId"}, "CreateRouteTable")]


@creates("ec2", "aws:ec2/route:Route")
def _route_request(inputs: dict[str, Any], name: str) -> list[Call]:
    return [pick(inputs, {"routeTableId": "RouteTableId", "destinationCidrBlock": "DestinationCidrBlock",
                          "gatewayId": "GatewayId", "natGatewayId": "NatGatewayId"}, "CreateRoute")]


@creates("ec2", "aws:ec2/routeTableAssociation:RouteTableAssociation")
def _association_request(inputs: dict[str, Any], name: str) -> list[Call]:
    return [pick(inputs, {"routeTableId": "RouteTableId", "subnetId": "SubnetId", "gatewayId": "GatewayId"},
                 "AssociateRouteTable")]


@creates("ec2", "aws:ec2/flowLog:FlowLog")
def _flow_log_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {"trafficType": "TrafficType", "logDestinationType": "LogDestinationType",
                         "logDestination": "LogDestination", "iamRoleArn": "DeliverLogsPermissionArn",
                         "maxAggregationInterval": "MaxAggregationInterval"}, "CreateFlowLogs")
    call.params.update(ResourceIds=[inputs.get("vpcId")], ResourceType="VPC")
    call.origin.update(ResourceIds="vpcId")
    return [call]


# --- rules EC2 states in its documentation, not in the shapes ------------------------------------

# botocore/data/ec2/2016-11-15/service-2.json, CreateSecurityGroupRequest.Description and
# IpRange/UserIdGroupPair.Description: "Allowed characters are a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*".
_DESCRIPTION_CHARACTERS = re.compile(r"[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*")
_DESCRIPTION_SOURCE = ("botocore ec2 service-2.json: CreateSecurityGroupRequest.Description, IpRange.Description, "
                       "UserIdGroupPair.Description (allowed characters a-z, A-Z, 0-9, spaces, ._-:/()#,@[]+=&;{}!$*)")


def _bad_description(path: str, value: Any) -> Iterator[Violation]:
    if isinstance(value, str) and not _DESCRIPTION_CHARACTERS.fullmatch(value):
        bad = sorted({c for c in value if not _DESCRIPTION_CHARACTERS.fullmatch(c)})
        yield Violation(path, value, f"characters {''.join(bad)!r} are outside EC2's allowed set: the rule is refused")


@input_rule("aws:ec2/securityGroup:SecurityGroup", "ec2-description-characters", _DESCRIPTION_SOURCE)
def _group_descriptions(inputs: dict[str, Any], _: Any) -> Iterator[Violation]:
    yield from _bad_description("description", inputs.get("description"))
    for key in ("ingress", "egress"):
        for index, rule in enumerate(inputs.get(key) or []):
            if isinstance(rule, dict):
                yield from _bad_description(f"{key}[{index}].description", rule.get("description"))


@input_rule("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "ec2-description-characters", _DESCRIPTION_SOURCE)
def _rule_description(inputs: dict[str, Any], _: Any) -> Iterator[Violation]:
    yield from _bad_description("description", inputs.get("description"))


lifecycle("aws:ec2/securityGroup:SecurityGroup", Lifecycle(
    name_keys=("name",), delete_fails_while_used=True,
    source="botocore ec2 service-2.json, DeleteSecurityGroup (fails with DependencyViolation while a network interface "
           "or another group uses it)",
))


# What a change to an input replaces (the provider's schema rule, cited) and what a reviewer sees.
replaced_on("aws:ec2/vpc:Vpc",
    "cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength", REGION,
    source=f"{TF}ec2/vpc_.go: cidr_block, ipv4_ipam_pool_id, ipv4_netmask_length ForceNew (the DNS flags and the"
           " IPv6 block update in place); CustomizeDiff (plan time, from old and new values, not listed): an"
           " instance_tenancy change replaces unless it goes from dedicated to default, and a cidr_block change is"
           f" dropped while ipv4_netmask_length is given (the block comes from IPAM); {REGION_SDKV2}")
replaced_on("aws:ec2/subnet:Subnet",
    "availabilityZone", "availabilityZoneId", "cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength", "ipv6IpamPoolId",
    "ipv6Native", "ipv6NetmaskLength", "outpostArn", "vpcId", REGION,
    source=f"{TF}ec2/vpc_subnet.go: availability_zone, availability_zone_id, cidr_block, ipv4_ipam_pool_id,"
           " ipv4_netmask_length, ipv6_ipam_pool_id, ipv6_native, ipv6_netmask_length, outpost_arn, vpc_id ForceNew;"
           " CustomizeDiff (plan time, conditional, not listed): an ipv6_cidr_block change on a subnet created with"
           f" assign_ipv6_address_on_creation; {REGION_SDKV2}")
replaced_on("aws:ec2/internetGateway:InternetGateway",
    REGION,
    source=f"{TF}ec2/vpc_internet_gateway.go: no ForceNew argument (a vpc_id change detaches from the old VPC and"
           f" attaches to the new one in place); {REGION_SDKV2}")
replaced_on("aws:ec2/eip:Eip",
    "address", "domain", "ipamPoolId", "networkBorderGroup", "publicIpv4Pool", REGION,
    source=f"{TF}ec2/ec2_eip.go: address, domain, ipam_pool_id, network_border_group, public_ipv4_pool ForceNew"
           " (customer_owned_ipv4_pool is not; associate_with_private_ip, instance and network_interface re-associate"
           f" in place); {REGION_SDKV2}")
replaced_on("aws:ec2/natGateway:NatGateway",
    "allocationId", "connectivityType", "privateIp", "secondaryPrivateIpAddressCount", "subnetId", REGION,
    source=f"{TF}ec2/vpc_nat_gateway.go: allocation_id, connectivity_type, private_ip,"
           " secondary_private_ip_address_count, subnet_id ForceNew (secondary_allocation_ids and"
           f" secondary_private_ip_addresses update in place); {REGION_SDKV2}")
replaced_on("aws:ec2/routeTable:RouteTable",
    "vpcId", REGION,
    source=f"{TF}ec2/vpc_route_table.go: vpc_id ForceNew (route and propagating_vgws update in place: a route whose"
           f" destination stays gets ReplaceRoute, others CreateRoute and DeleteRoute); {REGION_SDKV2}")
replaced_on("aws:ec2/route:Route",
    "destinationCidrBlock", "destinationIpv6CidrBlock", "destinationPrefixListId", "routeTableId", REGION,
    source=f"{TF}ec2/vpc_route.go: route_table_id and the destination_* arguments ForceNew (a target change is a"
           f" ReplaceRoute in place); {REGION_SDKV2}")
replaced_on("aws:ec2/routeTableAssociation:RouteTableAssociation",
    "gatewayId", "subnetId", REGION,
    source=f"{TF}ec2/vpc_route_table_association.go: gateway_id, subnet_id ForceNew (route_table_id updates through"
           f" ReplaceRouteTableAssociation); {REGION_SDKV2}")
replaced_on("aws:ec2/flowLog:FlowLog",
    "deliverCrossAccountRole", "destinationOptions", "eniId", "iamRoleArn", "logDestination", "logDestinationType",
    "logFormat", "maxAggregationInterval", "regionalNatGatewayId", "subnetId", "trafficType", "transitGatewayAttachmentId",
    "transitGatewayId", "vpcId", REGION,
    source=f"{TF}ec2/vpc_flow_log.go: deliver_cross_account_role, destination_options, eni_id, iam_role_arn,"
           " log_destination, log_destination_type, log_format, max_aggregation_interval, regional_nat_gateway_id,"
           " subnet_id, traffic_type, transit_gateway_attachment_id, transit_gateway_id, vpc_id ForceNew (its update"
           f" changes tags only); {REGION_SDKV2}")
replaced_on("aws:ec2/securityGroup:SecurityGroup",
    "description", "name", "namePrefix", "vpcId", REGION,
    source=f"{TF}ec2/vpc_security_group.go: description, name, name_prefix, vpc_id ForceNew (ingress and egress update"
           f" in place); {REGION_SDKV2}")
review("aws:ec2/vpc:Vpc", "cidrBlock")
review("aws:ec2/subnet:Subnet", "cidrBlock")
review("aws:ec2/securityGroup:SecurityGroup", summary=security_group_rules)
