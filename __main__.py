"""The release platform's Pulumi program: config in, components, exports."""

import pulumi

from components import config as stack_config
from components.config.secrets import check_github_credentials
from components.config.session import session_seconds
from components.delivery import Delivery, DeliveryArgs
from components.deployments_oidc import owned_oidc_providers
from components.environment import Environment, environment_args
from components.monitoring import Monitoring, monitoring_args

config = stack_config.from_pulumi()
# Provider config is not a namespace of ours, but a wrong github:owner governs someone else's repository.
stack_config.check_provider_owner(pulumi.Config("github").get("owner"), config.delivery)
# Secrets come from the stack's ESC environment; GitHub is reached as the App the rulesets let through.
check_github_credentials(
    token_set=pulumi.Config("github").get_secret("token") is not None,
    owns_repository_objects=config.delivery.owns_repository_objects(config.stack),
)
release = config.release

# Secret config is read here, never into a model: it stays a secret Output end to end.
cache_auth_token = pulumi.Config("data").require_secret("cacheAuthToken")
release_token = pulumi.Config("traffic").require_secret("releaseToken")
environment = Environment(config.platform.app_name, environment_args(
    config, cache_auth_token=cache_auth_token, release_token=release_token))
monitoring = Monitoring(f"{config.platform.app_name}-monitoring", monitoring_args(config, environment))

pulumi.export("environment", config.environment.value)
pulumi.export("strategy", release.strategy.value)
pulumi.export("live_colour", release.live.value)
pulumi.export("candidate_colour", release.candidate.value)
pulumi.export("versions", {"blue": release.versions.blue, "green": release.versions.green})
pulumi.export("weights", {colour.value: release.weight_of(colour) for colour in stack_config.Colour})
pulumi.export("steps", list(release.steps))
pulumi.export("bake_minutes", release.bake_minutes)

# Pulumi Deployments: update on push, drift detection, notifications; pull requests are previewed offline in CI.
if config.deployments.enabled:
    from components.deployments import PulumiDeployments, deployments_args

    webhook_url = pulumi.Config("deployments").require_secret("webhookUrl")
    PulumiDeployments("deployments", deployments_args(config, pulumi.get_project(), webhook_url, environment.permissions_boundary_arn))

# Delivery: the application's GitHub repository, pipeline, image repository and OIDC roles.
delivery_secrets = pulumi.Config("delivery")
delivery = Delivery("delivery", DeliveryArgs(
    stack=config.stack,
    environment=config.environment.value,
    region=config.region,
    app_name=config.platform.app_name,
    settings=config.delivery,
    secrets={
        "PULUMI_ACCESS_TOKEN": delivery_secrets.require_secret("pulumiAccessToken"),
        "INFRASTRUCTURE_READ_TOKEN": delivery_secrets.require_secret("infrastructureReadToken"),
    },
    permissions_boundary_arn=environment.permissions_boundary_arn,
    oidc_providers=owned_oidc_providers(config),
    tags={"app": config.platform.app_name, "environment": config.environment.value, "owner": config.platform.owner, **config.platform.tags},
    session_seconds=session_seconds(release),
    other_environments=tuple(e.value for e in stack_config.Environment if e is not config.environment),
    infrastructure_ref=config.deployments.branch,
))
pulumi.export("image_repository_url", delivery.image_repository_url)
pulumi.export("deploy_role_arn", delivery.deploy_role_arn)
pulumi.export("workflow_path", delivery.workflow_path)
for key, value in environment.exports().items():
    pulumi.export(key, value)
pulumi.export("composite_alarm_names", {c.value: n for c, n in monitoring.composite_alarm_names.items()})
pulumi.export("log_signals", monitoring.log_signals())

# Pulumi Cloud enforces the policy pack on every update of this stack, Deployments runs included.
if config.guardrails.enabled:
    from components.guardrails import Guardrails, guardrails_args

    Guardrails("guardrails", guardrails_args(config, pulumi.get_project()))
