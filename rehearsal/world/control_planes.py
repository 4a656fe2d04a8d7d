"""Stand-ins of the control planes a bootstrap depends on: Pulumi Cloud's packs and an account's unique names.

Each behaves like its service only where the bootstrap's order depends on it, and
each refusal names its source.

- **Pulumi Cloud.** A pack version, once published, is immutable: publishing its tag again is refused
  (pulumi-pulumiservice ``provider/pkg/resources/policy_pack.go``: "Versions are immutable"; the service
  answers "Version Tag ... already exists"). A policy group names a pack version that the organisation's
  pack list holds (the stack looks it up first, ``getPolicyPacks``: ``components/guardrails.py``); a pack is
  published before it is added to a group (Pulumi docs, "Policy Packs": "A pack does nothing on its own.
  To enforce it, add it to a policy group").
- **AWS.** An OIDC provider exists once per URL in an account: ``CreateOpenIDConnectProvider`` answers
  ``EntityAlreadyExists`` (botocore ``iam/2010-05-08/service-2.json``, the operation's errors and
  ``EntityAlreadyExistsException``, code ``EntityAlreadyExists``, HTTP 409). Looking one up that does not
  exist answers ``NoSuchEntity`` (``GetOpenIDConnectProvider``'s ``NoSuchEntityException``). An ECR
  repository name likewise: ``RepositoryAlreadyExistsException`` on create, ``RepositoryNotFoundException``
  on lookup (botocore ``ecr/2015-09-21/service-2.json``, ``CreateRepository``, ``DescribeRepositories``).

Only these names are modelled; every other resource a step creates is accepted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from offline import Plan, PlannedResource

OIDC_PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
OIDC_LOOKUP = "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider"
ECR_REPOSITORY = "aws:ecr/repository:Repository"
ECR_LOOKUP = "aws:ecr/getRepository:getRepository"
POLICY_PACK = "pulumiservice:index:PolicyPack"
POLICY_GROUP = "pulumiservice:index:PolicyGroup"
CLOUD, IAM, ECR = "Pulumi Cloud", "AWS IAM", "Amazon ECR"


class Refused(Exception):  # noqa: N818 - the word the services use
    """A service refused a request: which service, what was asked, why, and the rule's source."""

    def __init__(self, service: str, request: str, why: str, source: str) -> None:
        self.service, self.request, self.why, self.source = service, request, why, source
        super().__init__(f"{service} refused {request}: {why} ({source})")


def _url(value: Any) -> str:
    # IAM keeps a provider's URL without its scheme (its ARN ends in oidc-provider/<host>/<path>).
    return str(value).removeprefix("https://").rstrip("/")


@dataclass
class PulumiCloud:
    """One organisation's policy packs: each pack's published version tags, with the content hash of each."""

    packs: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def publish(self, organization: str, name: str, tag: str, content_hash: str) -> None:
        """Publish a version; refused when the tag exists (a published version never changes)."""
        versions = self.packs.setdefault((organization, name), {})
        if tag in versions:
            why = f"Version Tag {tag} already exists for policy pack {name}; published versions are immutable"
            raise Refused(CLOUD, f"publishing {organization}/{name}@{tag}", why,
                          "pulumi-pulumiservice policy_pack.go: versions are immutable")
        versions[tag] = content_hash

    def published(self, organization: str, name: str) -> list[str]:
        """The version tags of a pack (``getPolicyPacks``: ``versionTags``)."""
        return sorted(self.packs.get((organization, name), {}))

    def group(self, organization: str, group: str, packs: Iterable[dict[str, Any]]) -> None:
        """A policy group naming packs; refused when a named version is not published."""
        for pack in packs:
            name, tag = str(pack.get("name")), str(pack.get("versionTag"))
            if tag not in self.published(organization, name):
                why = (f"policy pack {organization}/{name} has no version {tag} (published: "
                       f"{', '.join(self.published(organization, name)) or 'none'})")
                raise Refused(CLOUD, f"policy group {group} naming {name}@{tag}", why,
                              "getPolicyPacks lists no such version tag: components/guardrails.py refuses it in the preview")


@dataclass
class AwsAccount:
    """The account-wide names of one AWS account: OIDC providers by URL, ECR repositories by name."""

    oidc_providers: set[str] = field(default_factory=set)
    repositories: set[str] = field(default_factory=set)

    def create_oidc_provider(self, url: Any) -> None:
        """``CreateOpenIDConnectProvider``: one provider per URL in an account."""
        if _url(url) in self.oidc_providers:
            raise Refused(IAM, f"CreateOpenIDConnectProvider {url}", "EntityAlreadyExists: a provider for this URL exists",
                          "botocore iam/2010-05-08/service-2.json CreateOpenIDConnectProvider errors")
        self.oidc_providers.add(_url(url))

    def get_oidc_provider(self, url: Any) -> None:
        """``GetOpenIDConnectProvider`` (the provider's lookup by URL): NoSuchEntity when there is none."""
        if _url(url) not in self.oidc_providers:
            raise Refused(IAM, f"the lookup of the OIDC provider {url}", "NoSuchEntity: no provider for this URL yet",
                          "botocore iam/2010-05-08/service-2.json GetOpenIDConnectProvider errors")

    def create_repository(self, name: Any) -> None:
        """``CreateRepository``: one repository per name in an account and region."""
        if str(name) in self.repositories:
            raise Refused(ECR, f"CreateRepository {name}", "RepositoryAlreadyExistsException",
                          "botocore ecr/2015-09-21/service-2.json CreateRepository errors")
        self.repositories.add(str(name))

    def get_repository(self, name: Any) -> None:
        """``DescribeRepositories`` (the provider's lookup by name): RepositoryNotFoundException when there is none."""
        if str(name) not in self.repositories:
            raise Refused(ECR, f"the lookup of the image repository {name}", "RepositoryNotFoundException",
                          "botocore ecr/2015-09-21/service-2.json DescribeRepositories errors")


@dataclass
class ControlPlanes:
    """Pulumi Cloud and the AWS account, and what each stack has deployed into them (its state)."""

    cloud: PulumiCloud = field(default_factory=PulumiCloud)
    aws: AwsAccount = field(default_factory=AwsAccount)
    deployed: dict[str, set[str]] = field(default_factory=dict)

    def apply(self, stack: str, plan: Plan) -> tuple[list[str], list[str]]:
        """A first ``pulumi up`` of ``plan``: its lookups (run in the preview, before any change), then its creations.

        Returns what was looked up and what was created; Refused at the first request a service refuses.
        Resources the stack's state already holds are left alone, as an update leaves an unchanged resource.
        """
        looked_up: list[str] = []
        for token, arguments in plan.invokes:
            if token == OIDC_LOOKUP:
                self.aws.get_oidc_provider(arguments.get("url"))
                looked_up.append(f"OIDC provider {arguments.get('url')}")
            elif token == ECR_LOOKUP:
                self.aws.get_repository(arguments.get("name"))
                looked_up.append(f"image repository {arguments.get('name')}")
        # The group's version was looked up in the preview too (getPolicyPacks), before anything changed.
        for resource in plan.of_type(POLICY_GROUP):
            if resource.urn not in self.deployed.get(stack, set()):
                self._group(resource, publishing=plan.of_type(POLICY_PACK))
        created: list[str] = []
        state = self.deployed.setdefault(stack, set())
        for resource in plan.resources:
            if resource.urn in state or not resource.custom:
                continue
            self._create(resource)
            state.add(resource.urn)
            created.append(f"{resource.type.rsplit(':', 1)[-1]} {resource.name}")
        return looked_up, created

    def _group(self, resource: PlannedResource, publishing: list[PlannedResource]) -> None:
        org = str(resource.inputs.get("organizationName"))
        # A pack the same update publishes exists by the time its group is created.
        ahead = {(str(p.inputs.get("name")), str(p.inputs.get("versionTag"))) for p in publishing}
        named = [p for p in resource.inputs.get("policyPacks") or [] if (str(p.get("name")), str(p.get("versionTag"))) not in ahead]
        self.cloud.group(org, str(resource.inputs.get("name")), named)

    def _create(self, resource: PlannedResource) -> None:
        inputs = resource.inputs
        if resource.type == OIDC_PROVIDER:
            self.aws.create_oidc_provider(inputs.get("url"))
        elif resource.type == ECR_REPOSITORY:
            self.aws.create_repository(inputs.get("name"))
        elif resource.type == POLICY_PACK:
            self.cloud.publish(str(inputs.get("organization")), str(inputs.get("name")), str(inputs.get("versionTag")),
                               str(resource.outputs.get("contentHash")))
