"""The ``network`` namespace: the VPC, its zones, subnets and NAT, or an existing VPC."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from components.config.base import ConfigModel, Problem, cross_field
from components.config.by_environment import check_retention, fill_defaults
from components.config.text import matching

# Zones each region offers to every account. A region missing here is assumed to give 3,
# the number every commercial region has had since 2017.
REGION_ZONES: dict[str, int] = {
    "us-east-1": 6, "us-east-2": 3, "us-west-1": 2, "us-west-2": 4,
    "ca-central-1": 3, "sa-east-1": 3,
    "eu-west-1": 3, "eu-west-2": 3, "eu-west-3": 3, "eu-central-1": 3, "eu-north-1": 3, "eu-south-1": 3,
    "ap-south-1": 3, "ap-southeast-1": 3, "ap-southeast-2": 3, "ap-northeast-1": 3, "ap-northeast-2": 4,
}
ASSUMED_ZONES = 3
MAX_ZONES = 4  # the VPC is carved into 8 equal blocks: up to 4 public and 4 private subnets

VpcId = Annotated[str, matching(r"vpc-[0-9a-f]{8}([0-9a-f]{9})?", "a VPC id such as vpc-0a1b2c3d4e5f60718")]
SubnetId = Annotated[str, matching(r"subnet-[0-9a-f]{8}([0-9a-f]{9})?", "a subnet id such as subnet-0a1b2c3d4e5f60718")]


class NatMode(StrEnum):
    """How private subnets reach the internet."""

    SINGLE = "single"
    PER_ZONE = "perZone"


class ExistingVpc(ConfigModel):
    """A VPC made elsewhere: the stack creates only its security groups in it."""

    vpc_id: VpcId
    """Id of the VPC, ``vpc-...``. Required."""
    cidr_block: str
    """The VPC's CIDR block, which the security groups allow traffic within. Required."""
    public_subnet_ids: tuple[SubnetId, ...] = Field(min_length=2)
    """Subnets for the load balancer, in at least two zones. Required."""
    private_subnet_ids: tuple[SubnetId, ...] = Field(min_length=2)
    """Subnets for tasks and data, in at least two zones. Required."""

    @field_validator("cidr_block")
    @classmethod
    def _parse(cls, value: str) -> str:
        return str(parse_cidr(value))


def parse_cidr(value: str) -> ipaddress.IPv4Network:
    """An IPv4 CIDR block, or a ValueError saying what is wrong with it."""
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        message = f"an IPv4 CIDR block such as 10.0.0.0/16 ({exc})"
        raise ValueError(message) from None


class NetworkConfig(ConfigModel):
    """The ``network`` namespace."""

    cidr: str = "10.0.0.0/16"
    """The VPC's IPv4 block, /16 to /24. Default ``10.0.0.0/16``."""
    az_count: int = Field(default=2, ge=2, le=MAX_ZONES)
    """Availability zones to spread over, 2-4 and no more than the region has. Default 2; production 3."""
    nat: NatMode = NatMode.SINGLE
    """``single`` (one shared NAT gateway, cheaper) or ``perZone`` (a zone outage keeps egress). Default ``single``;
    production ``perZone``."""
    public_subnet_cidrs: tuple[str, ...] | None = None
    """Public subnet blocks, one per zone. Default: the first ``azCount`` eighths of ``cidr``."""
    private_subnet_cidrs: tuple[str, ...] | None = None
    """Private subnet blocks, one per zone. Default: the fifth to eighth eighths of ``cidr``."""
    flow_log_retention_days: int = 14
    """Days VPC flow logs are kept (a CloudWatch Logs retention). Default 14; production 90."""
    existing_vpc: ExistingVpc | None = None
    """Use this VPC and its subnets instead of creating one. Default: create one."""

    @model_validator(mode="before")
    @classmethod
    def _environment(cls, data: Any, info: ValidationInfo) -> Any:
        return fill_defaults(data, info, {
            "production": {"azCount": 3, "nat": NatMode.PER_ZONE.value, "flowLogRetentionDays": 90},
        })

    @field_validator("flow_log_retention_days")
    @classmethod
    def _retention(cls, days: int) -> int:
        return check_retention(days)

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        network = parse_cidr(value)
        if not 16 <= network.prefixlen <= 24:
            message = "a VPC block from /16 to /24"
            raise ValueError(message)
        return str(network)

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> NetworkConfig:
        problems: list[Problem] = []
        region = str((info.context or {}).get("region") or "")
        zones = REGION_ZONES.get(region, ASSUMED_ZONES)
        if self.existing_vpc is None and self.az_count > zones:
            known = "has" if region in REGION_ZONES else "is assumed to have"
            problems.append(Problem("azCount", self.az_count, f"region {region or '(unset)'} {known} {zones} zones: use 2 to {zones}"))
        if self.existing_vpc is None:
            problems.extend(self._check_subnets())
        cross_field(problems)
        return self

    def _check_subnets(self) -> list[Problem]:
        problems: list[Problem] = []
        vpc = ipaddress.IPv4Network(self.cidr)
        seen: list[tuple[str, ipaddress.IPv4Network]] = []
        for field, given in (("publicSubnetCidrs", self.public_subnet_cidrs), ("privateSubnetCidrs", self.private_subnet_cidrs)):
            if given is None:
                continue
            if len(given) != self.az_count:
                problems.append(Problem(field, list(given), f"one block per zone: {self.az_count} blocks (azCount)"))
            for i, text in enumerate(given):
                key = f"{field}.{i}"
                try:
                    block = parse_cidr(text)
                except ValueError as exc:
                    problems.append(Problem(key, text, str(exc)))
                    continue
                if not block.subnet_of(vpc):
                    problems.append(Problem(key, text, f"a block inside the VPC's {vpc}"))
                clash = next((k for k, other in seen if block.overlaps(other)), None)
                if clash:
                    problems.append(Problem(key, text, f"subnet blocks must not overlap: it overlaps {clash}"))
                seen.append((f"network:{key.replace('.', '[', 1)}]", block))
        return problems

    def _eighths(self) -> list[str]:
        return [str(s) for s in ipaddress.IPv4Network(self.cidr).subnets(prefixlen_diff=3)]

    @property
    def public_cidrs(self) -> list[str]:
        """The public subnet blocks, one per zone."""
        return list(self.public_subnet_cidrs) if self.public_subnet_cidrs else self._eighths()[: self.az_count]

    @property
    def private_cidrs(self) -> list[str]:
        """The private subnet blocks, one per zone."""
        return list(self.private_subnet_cidrs) if self.private_subnet_cidrs else self._eighths()[4: 4 + self.az_count]
