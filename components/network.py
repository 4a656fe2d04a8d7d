"""The network of one environment: VPC, subnets per zone, NAT, flow logs and security groups.

Public subnets hold only the load balancer; tasks and data live in private
subnets that reach the internet through NAT (one shared gateway, or one per zone
so a zone outage does not cut the others' egress). Security groups allow only
what the traffic path needs: users to the load balancer, the load balancer to
the application port, tasks out to AWS APIs and to the VPC.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.ec2_text import sg_description

ANYWHERE = "0.0.0.0/0"


@dataclass
class NetworkArgs:
    """Inputs of a ``Network``."""

    cidr: str
    """The VPC's IPv4 block (of the existing VPC, when one is given)."""
    zone_count: int
    """Availability zones to spread subnets over."""
    public_cidrs: Sequence[str]
    """Public subnet blocks, one per zone."""
    private_cidrs: Sequence[str]
    """Private subnet blocks, one per zone."""
    nat_per_zone: bool
    """One NAT gateway per zone, else one shared."""
    flow_log_retention_days: int
    """Days VPC flow logs are kept."""
    app_port: int
    """The container port the load balancer sends traffic to."""
    ingress_cidrs: Sequence[str]
    """Who may reach the load balancer's ports 80 and 443."""
    permissions_boundary: pulumi.Input[str] | None = None
    """Permissions boundary of every role created here (the stack's boundary policy); None: unbounded."""
    existing_vpc_id: str | None = None
    """Use this VPC instead of creating one."""
    existing_public_subnet_ids: Sequence[str] = ()
    """Public subnets of the existing VPC."""
    existing_private_subnet_ids: Sequence[str] = ()
    """Private subnets of the existing VPC."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for every resource."""


class Network(pulumi.ComponentResource):
    """A VPC (made or given) with the two security groups of the traffic path."""

    vpc_id: pulumi.Output[str]
    public_subnet_ids: pulumi.Output[list[str]]
    private_subnet_ids: pulumi.Output[list[str]]
    alb_security_group_id: pulumi.Output[str]
    service_security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("release:network:Network", name, None, opts)
        self._name = name
        self._args = args
        self._tags = dict(args.tags)
        if args.existing_vpc_id:
            self.vpc_id = pulumi.Output.from_input(args.existing_vpc_id)
            self.public_subnet_ids = pulumi.Output.from_input(list(args.existing_public_subnet_ids))
            self.private_subnet_ids = pulumi.Output.from_input(list(args.existing_private_subnet_ids))
        else:
            self._build_vpc()
        self._build_security_groups()
        self.register_outputs({
            "vpc_id": self.vpc_id,
            "public_subnet_ids": self.public_subnet_ids,
            "private_subnet_ids": self.private_subnet_ids,
            "alb_security_group_id": self.alb_security_group_id,
            "service_security_group_id": self.service_security_group_id,
        })

    def _child(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self)

    def _tagged(self, role: str) -> dict[str, str]:
        return {**self._tags, "Name": f"{self._name}-{role}"}

    def _build_vpc(self) -> None:
        name, args = self._name, self._args
        vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=args.cidr, enable_dns_hostnames=True, enable_dns_support=True,
                          tags=self._tagged("vpc"), opts=self._child())
        zones = aws.get_availability_zones_output(state="available").names
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=self._tagged("igw"), opts=self._child())
        public_routes = aws.ec2.RouteTable(f"{name}-public", vpc_id=vpc.id, tags=self._tagged("public"), opts=self._child())
        aws.ec2.Route(f"{name}-public-default", route_table_id=public_routes.id, destination_cidr_block=ANYWHERE,
                      gateway_id=gateway.id, opts=self._child())
        public: list[aws.ec2.Subnet] = []
        private: list[aws.ec2.Subnet] = []
        nats: list[aws.ec2.NatGateway] = []
        for i in range(args.zone_count):
            zone = zones[i]
            subnet = aws.ec2.Subnet(f"{name}-public-{i}", vpc_id=vpc.id, cidr_block=args.public_cidrs[i], availability_zone=zone,
                                    map_public_ip_on_launch=False, tags=self._tagged(f"public-{i}"), opts=self._child())
            aws.ec2.RouteTableAssociation(f"{name}-public-{i}", subnet_id=subnet.id, route_table_id=public_routes.id,
                                          opts=self._child())
            public.append(subnet)
            if args.nat_per_zone or i == 0:
                address = aws.ec2.Eip(f"{name}-nat-{i}", domain="vpc", tags=self._tagged(f"nat-{i}"), opts=self._child())
                nats.append(aws.ec2.NatGateway(f"{name}-nat-{i}", allocation_id=address.id, subnet_id=subnet.id,
                                               tags=self._tagged(f"nat-{i}"),
                                               opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway])))
        for i in range(args.zone_count):
            subnet = aws.ec2.Subnet(f"{name}-private-{i}", vpc_id=vpc.id, cidr_block=args.private_cidrs[i], availability_zone=zones[i],
                                    tags=self._tagged(f"private-{i}"), opts=self._child())
            routes = aws.ec2.RouteTable(f"{name}-private-{i}", vpc_id=vpc.id, tags=self._tagged(f"private-{i}"), opts=self._child())
            # With one shared NAT every zone's egress goes through zone 0's gateway.
            nat = nats[i] if args.nat_per_zone else nats[0]
            aws.ec2.Route(f"{name}-private-{i}-default", route_table_id=routes.id, destination_cidr_block=ANYWHERE,
                          nat_gateway_id=nat.id, opts=self._child())
            aws.ec2.RouteTableAssociation(f"{name}-private-{i}", subnet_id=subnet.id, route_table_id=routes.id, opts=self._child())
            private.append(subnet)
        self._build_flow_logs(vpc)
        self.vpc_id = vpc.id
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in public])
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in private])

    def _build_flow_logs(self, vpc: aws.ec2.Vpc) -> None:
        name = self._name
        logs = aws.cloudwatch.LogGroup(f"{name}-flow-logs", retention_in_days=self._args.flow_log_retention_days,
                                       tags=self._tags, opts=self._child())
        role = aws.iam.Role(f"{name}-flow-logs", assume_role_policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "vpc-flow-logs.amazonaws.com"}, "Action": "sts:AssumeRole"}],
        }), permissions_boundary=self._args.permissions_boundary, tags=self._tags, opts=self._child())
        aws.iam.RolePolicy(f"{name}-flow-logs", role=role.id, policy=logs.arn.apply(lambda arn: json.dumps({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": [arn, f"{arn}:*"],
            }],
        })), opts=self._child())
        aws.ec2.FlowLog(f"{name}-flow-logs", vpc_id=vpc.id, traffic_type="ALL", log_destination_type="cloud-watch-logs",
                        log_destination=logs.arn, iam_role_arn=role.arn, max_aggregation_interval=60, tags=self._tags,
                        opts=self._child())

    def _build_security_groups(self) -> None:
        name, args = self._name, self._args
        # The candidate is smoke-tested through 443 too (a header-matched listener rule), so 80 and 443 are all.
        from_users = [
            aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=port, to_port=port, cidr_blocks=list(args.ingress_cidrs),
                                             description=sg_description(f"users on {port}"))
            for port in (80, 443)
        ]
        alb = aws.ec2.SecurityGroup(
            f"{name}-alb", vpc_id=self.vpc_id, description=sg_description("Load balancer: users in, application port out"),
            ingress=from_users,
            # Targets are IP addresses inside the VPC; nothing else is reachable from the balancer.
            egress=[aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=args.app_port, to_port=args.app_port,
                                                    cidr_blocks=[args.cidr], description=sg_description("to tasks"))],
            tags=self._tagged("alb"), opts=self._child())
        service = aws.ec2.SecurityGroup(
            f"{name}-service", vpc_id=self.vpc_id,
            description=sg_description("Tasks: application port from the load balancer only"),
            ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=args.app_port, to_port=args.app_port,
                                                      security_groups=[alb.id],
                                                      description=sg_description("from the load balancer"))],
            egress=[
                # Image pulls, logs and secrets go to AWS APIs over HTTPS.
                aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=443, to_port=443, cidr_blocks=[ANYWHERE],
                                                description=sg_description("AWS APIs over HTTPS")),
                aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=0, to_port=65535, cidr_blocks=[args.cidr],
                                                description=sg_description("data services in the VPC")),
            ],
            tags=self._tagged("service"), opts=self._child())
        self.alb_security_group_id = alb.id
        self.service_security_group_id = service.id
