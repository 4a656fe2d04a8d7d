"""Where the offline plan time goes: loading the AWS SDK modules it uses, or evaluating.

``pulumi_aws`` loads a service's module on first use, and each is large
(generated code for every resource of the service). A bare ``import pulumi_aws``
loads none of them, so this row compares the plan with a cold process that only
loads the modules the environment uses: the remainder is the evaluation itself.
"""

from __future__ import annotations

import sys

from bench.plan import median_seconds

# One resource class per service the environment uses: touching it loads the service's module.
SERVICES = ("ec2.Vpc", "ecs.Service", "lb.Listener", "cloudwatch.MetricAlarm", "s3.Bucket", "appautoscaling.Policy",
            "iam.Role", "kms.Key", "sns.Topic", "rds.Instance", "elasticache.ReplicationGroup", "secretsmanager.Secret",
            "ecr.Repository", "route53.HealthCheck", "vpc.SecurityGroupIngressRule")


def run() -> list[dict[str, object]]:
    """One row: SDK module load time, production plan time, and their ratio."""
    load = "import pulumi_aws as aws, pulumi_github, pulumi_pulumiservice; " + "; ".join(f"aws.{s}" for s in SERVICES)
    sdk = median_seconds([sys.executable, "-c", load])
    plan = median_seconds([sys.executable, "-m", "release", "plan", "--stack", "production", "--json"])
    return [{
        "benchmark": "environment plan vs its SDK modules",
        "stack": "production",
        "sdk_modules_s": round(sdk, 3),
        "plan_s": round(plan, 3),
        "evaluation_s": round(max(plan - sdk, 0.0), 3),
        "plan_over_sdk_ratio": round(plan / sdk, 2),
    }]
