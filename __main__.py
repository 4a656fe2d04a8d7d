"""The release platform's Pulumi program: config in, components, exports."""

import pulumi

from components import config as stack_config

config = stack_config.from_pulumi()
release = config.release

pulumi.export("environment", config.environment.value)
pulumi.export("strategy", release.strategy.value)
pulumi.export("live_colour", release.live.value)
pulumi.export("candidate_colour", release.candidate.value)
pulumi.export("versions", {"blue": release.versions.blue, "green": release.versions.green})
pulumi.export("weights", {colour.value: release.weight_of(colour) for colour in stack_config.Colour})
pulumi.export("steps", list(release.steps))
pulumi.export("bake_minutes", release.bake_minutes)

# Pulumi Deployments: update on push, preview pull requests, drift detection, notifications.
if config.deployments.enabled:
    from components.deployments import PulumiDeployments, deployments_args

    webhook_url = pulumi.Config("deployments").require_secret("webhookUrl")
    PulumiDeployments("deployments", deployments_args(config, pulumi.get_project(), webhook_url))

# Pulumi Cloud enforces the policy pack on every update of this stack, Deployments runs included.
if config.guardrails.enabled:
    from components.guardrails import Guardrails, guardrails_args

    Guardrails("guardrails", guardrails_args(config, pulumi.get_project()))
