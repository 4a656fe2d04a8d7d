"""The release platform's Pulumi program: config in, components, exports."""

import pulumi

from components import config as stack_config
from components.environment import Environment, environment_args
from components.monitoring import Monitoring, monitoring_args

config = stack_config.from_pulumi()
release = config.release

# Secret config is read here, never into a model: it stays a secret Output end to end.
cache_auth_token = pulumi.Config("data").require_secret("cacheAuthToken")
environment = Environment(config.platform.app_name, environment_args(config, cache_auth_token=cache_auth_token))
monitoring = Monitoring(f"{config.platform.app_name}-monitoring", monitoring_args(config, environment))

pulumi.export("environment", config.environment.value)
pulumi.export("strategy", release.strategy.value)
pulumi.export("live_colour", release.live.value)
pulumi.export("candidate_colour", release.candidate.value)
pulumi.export("versions", {"blue": release.versions.blue, "green": release.versions.green})
pulumi.export("weights", {colour.value: release.weight_of(colour) for colour in stack_config.Colour})
pulumi.export("steps", list(release.steps))
pulumi.export("bake_minutes", release.bake_minutes)
for key, value in environment.exports().items():
    pulumi.export(key, value)
pulumi.export("composite_alarm_names", {c.value: n for c, n in monitoring.composite_alarm_names.items()})
