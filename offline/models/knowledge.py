"""What the offline plan, diff and check know about a resource type, registered beside the type's offline model.

Each kind of knowledge is registered in the model module of its type, so adding
a type stays one file:

- ``creates``: how the type's inputs map onto the request of the AWS call that
  creates it, so the request can be validated against botocore's service model;
- ``input_rule``: a rule AWS or the provider enforces that the service model does
  not encode (mutually exclusive inputs, allowed characters, value pairs), with
  the source it comes from;
- ``replaced_on``: the inputs whose change makes the provider replace the
  resource (the provider schema's ForceNew / replaceOnChanges), with its source;
- ``review``: the input paths a reviewer sees beside the resource in a plan, and
  a ``summary`` function for lines drawn from the whole plan;
- ``lifecycle`` and ``policy_inputs``: how replacement behaves, and which inputs
  hold IAM documents.

``REQUESTS`` and ``RULES`` are the table the check reads; ``docs/verification.md``
lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

SECRET = "[secret]"  # noqa: S105 - the plan's marker for a secret value (offline.plan.SECRET), not a secret


@dataclass(frozen=True)
class Call:
    """One AWS request the provider would send for a resource: its operation, parameters and where each came from."""

    operation: str
    params: dict[str, Any]
    # Top-level request member -> the input path it was built from, to name the input in a finding.
    origin: dict[str, str] = field(default_factory=dict)
    # Top-level members left out because their value is secret or unknown offline.
    withheld: frozenset[str] = frozenset()


# A builder gets the inputs and the physical name (the one given, else a stand-in of the auto-name's shape).
RequestBuilder = Callable[[dict[str, Any], str], list[Call]]


@dataclass(frozen=True)
class RequestMap:
    """How one resource type becomes AWS requests of one service."""

    service: str
    build: RequestBuilder


REQUESTS: dict[str, RequestMap] = {}


def creates(service: str, *types: str) -> Callable[[RequestBuilder], RequestBuilder]:
    """Register the request builder of resource types whose create call is in ``service`` (botocore's name)."""

    def register(fn: RequestBuilder) -> RequestBuilder:
        for type_ in types:
            REQUESTS[type_] = RequestMap(service, fn)
        return fn

    return register


def named(call: Call, member: str, name: str) -> list[Call]:
    """The call, with the resource's physical name (the ``name`` input, or its auto-name) as ``member``."""
    call.params[member] = name
    call.origin[member] = "name"
    return [call]


def pick(inputs: Mapping[str, Any], names: Mapping[str, str], operation: str) -> Call:
    """A call whose members are inputs renamed one to one (``{"inputKey": "RequestMember"}``).

    Inputs that are absent are left out; a secret is withheld (its member is named, its value never checked).
    """
    params: dict[str, Any] = {}
    origin: dict[str, str] = {}
    withheld: set[str] = set()
    for key, member in names.items():
        value = inputs.get(key)
        if value is None:
            continue
        origin[member] = key
        if value == SECRET:
            withheld.add(member)
            continue
        params[member] = value
    return Call(operation, params, origin, frozenset(withheld))


def pascal(value: Any) -> Any:
    """A nested input value with every object key in AWS's PascalCase (``scanOnPush`` -> ``ScanOnPush``)."""
    if isinstance(value, dict):
        return {(k[:1].upper() + k[1:]): pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [pascal(v) for v in value]
    return value


@dataclass(frozen=True)
class Violation:
    """What a rule found: the input path, the value there, and what is wrong."""

    path: str
    value: Any
    message: str


# A rule's test gets the resource's inputs and every resource of the plan as (type, name, inputs, outputs).
RuleTest = Callable[[dict[str, Any], "PlanView"], Iterator[Violation]]


class PlanView:
    """The part of a plan a rule may read: the other resources' inputs and outputs, by type."""

    def __init__(self, resources: list[tuple[str, str, dict[str, Any], dict[str, Any]]]) -> None:
        self._resources = resources

    def inputs_of(self, type_: str) -> list[dict[str, Any]]:
        """The inputs of every resource of a type."""
        return [inputs for t, _, inputs, _ in self._resources if t == type_]

    def values_of(self, type_: str, key: str) -> set[str]:
        """One key of every resource of a type, from its inputs or (auto-named) its outputs."""
        found = (inputs.get(key) or outputs.get(key) for t, _, inputs, outputs in self._resources if t == type_)
        return {str(v) for v in found if v}


@dataclass(frozen=True)
class InputRule:
    """A rule on a type's inputs that botocore's shapes do not encode, and where it is written down."""

    id: str
    type: str
    test: RuleTest
    source: str
    severity: str = "error"


RULES: list[InputRule] = []


def input_rule(type_: str, rule_id: str, source: str, severity: str = "error") -> Callable[[RuleTest], RuleTest]:
    """Register a rule on the inputs of one resource type; ``source`` names the page or schema that states it."""

    def register(fn: RuleTest) -> RuleTest:
        RULES.append(InputRule(rule_id, type_, fn, source, severity))
        return fn

    return register


@dataclass(frozen=True)
class Lifecycle:
    """How a type behaves on replacement: the input holding its physical name, and whether deletion waits for users."""

    name_keys: tuple[str, ...] = ("name",)
    # Deletion fails while another resource still uses it (so delete-before-replace cannot work).
    delete_fails_while_used: bool = False
    source: str = ""


LIFECYCLES: dict[str, Lifecycle] = {}


def lifecycle(type_: str, lifecycle_: Lifecycle) -> None:
    """Register how a type behaves on replacement."""
    LIFECYCLES[type_] = lifecycle_


# Per type, the inputs holding an IAM policy document, and what kind: "identity", "resource" or "trust".
POLICY_INPUTS: dict[str, dict[str, str]] = {}


def policy_inputs(type_: str, **kinds: str) -> None:
    """Register the inputs of a type that hold IAM policy documents (``policy="identity"``)."""
    POLICY_INPUTS.setdefault(type_, {}).update(kinds)


# The replace-on marker for types the provider can never update in place: every input change is a replacement.
EVERY_INPUT = "*"


@dataclass(frozen=True)
class Replacement:
    """The inputs whose change makes the provider replace a resource of one type, and where that is written down."""

    inputs: frozenset[str]
    source: str


REPLACEMENTS: dict[str, Replacement] = {}

# pulumi-aws 7 bridges terraform-provider-aws 6, where every regional resource takes a ``region`` input; a change of
# it replaces the resource (a change between unset and the provider's own region is no change). The rule is computed
# at plan time for every resource, so it is cited once here and named in each regional type's declaration.
# Where the AWS provider keeps each resource (its schema's ForceNew arguments are the replace-on inputs).
TF = "terraform-provider-aws internal/service/"
REGION = "region"
REGION_SDKV2 = ("region: terraform-provider-aws internal/provider/sdkv2/region.go forceNewIfRegionChanges"
                " (CustomizeDiff, plan time)")
REGION_FRAMEWORK = ("region: terraform-provider-aws internal/provider/framework/region.go"
                    " resourceForceNewIfRegionChanges (ModifyPlan RequiresReplace, plan time)")
# The same, as the diff and the hazard check read it: type -> inputs (empty: every input updates in place).
REPLACE_ON: dict[str, frozenset[str]] = {}


def replaced_on(type_: str, *inputs: str, source: str) -> None:
    """Declare the inputs whose change replaces a resource of ``type_``; none given: every input updates in place.

    ``source`` names the provider schema rule (ForceNew, replaceOnChanges, or the provider's Diff) it comes from.
    """
    if not source:
        message = f"replaced_on({type_!r}) needs the source of its rule"
        raise ValueError(message)
    REPLACEMENTS[type_] = Replacement(frozenset(inputs), source)
    REPLACE_ON[type_] = frozenset(inputs)


# Per type, the input paths worth showing beside the resource in the plan's tree.
REVIEW_KEYS: dict[str, tuple[str, ...]] = {}
# Per type, a function giving extra lines from the resource and the whole plan: (PlannedResource, Plan) -> lines.
SUMMARIES: dict[str, Callable[[Any, Any], list[str]]] = {}
# Per type, an input holding a whole file: the diff shows its change line by line.
TEXT_INPUTS: dict[str, str] = {}


def review(type_: str, *paths: str, summary: Callable[[Any, Any], list[str]] | None = None, text: str = "") -> None:
    """Declare what a reviewer sees of a type: input ``paths``, a ``summary`` function, the input holding a file."""
    if paths:
        REVIEW_KEYS[type_] = paths
    if summary is not None:
        SUMMARIES[type_] = summary
    if text:
        TEXT_INPUTS[type_] = text


# Per type, the input holding actions that forward to target groups (what attaches a target group to a load balancer).
FORWARD_INPUTS: dict[str, str] = {}


def forwards_in(type_: str, key: str) -> None:
    """Declare that ``type_`` attaches target groups to a load balancer through the actions in input ``key``."""
    FORWARD_INPUTS[type_] = key


# Per Application Auto Scaling dimension, the type and input holding the value it scales (``ecs:service:DesiredCount``).
SCALED_INPUTS: dict[str, tuple[str, str]] = {}


def scaled_by(dimension: str, type_: str, key: str) -> None:
    """Declare that the scalable ``dimension`` changes input ``key`` of ``type_`` at run time."""
    SCALED_INPUTS[dimension] = (type_, key)
