"""The ``monitoring`` namespace: per-environment defaults, and every bad value named with its full key."""

from __future__ import annotations

import json

import pytest

from components.config import ConfigError, load
from tests.support import MINIMAL_CONFIG

BASE = MINIMAL_CONFIG


def monitoring(stack: str = "staging", **values: object):  # noqa: ANN201 - the model under test
    raw = {**BASE, **{f"monitoring:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}}
    return load(raw, stack).monitoring


def problems(stack: str = "staging", **values: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        monitoring(stack, **values)
    return caught.value.problems


def test_staging_defaults() -> None:
    cfg = monitoring("staging")
    assert cfg.thresholds.ecs_cpu_percent == 85
    assert cfg.thresholds.rds_free_storage_gib == 2
    assert cfg.thresholds.load_balancer_5xx_percent == 5
    assert cfg.evaluation_periods == 3
    assert cfg.breaching_datapoints == 3
    assert cfg.percentiles == (50, 99)
    assert cfg.health_check is False
    assert cfg.health_path is None  # the load balancer's path is used


def test_production_pages_earlier_and_waits_longer() -> None:
    cfg = monitoring("production")
    assert cfg.thresholds.ecs_cpu_percent == 80
    assert cfg.thresholds.rds_free_storage_gib == 10
    assert cfg.thresholds.redis_evictions == 100
    assert cfg.thresholds.load_balancer_5xx_percent == 2
    assert cfg.evaluation_periods == 5


def test_the_environment_comes_from_the_platform_namespace_not_the_stack_name() -> None:
    raw = {**BASE, "platform:environment": "production"}
    assert load(raw, "prod-eu").monitoring.thresholds.ecs_cpu_percent == 80


def test_one_threshold_set_keeps_the_environments_other_defaults() -> None:
    cfg = monitoring("production", thresholds={"ecsCpuPercent": 70})
    assert cfg.thresholds.ecs_cpu_percent == 70
    assert cfg.thresholds.ecs_memory_percent == 85


def test_settings_are_read() -> None:
    cfg = monitoring(
        evaluationPeriods="4", datapointsToAlarm="2", periodSeconds="300", percentiles=[50, 90, 99.9],
        healthPath="/healthz",
    )
    assert (cfg.evaluation_periods, cfg.breaching_datapoints, cfg.period_seconds) == (4, 2, 300)
    assert cfg.percentiles == (50, 90, 99.9)
    assert cfg.health_path == "/healthz"


def test_the_health_check_is_asked_for_and_probes_the_served_name() -> None:
    raw = {**BASE, "traffic:domainName": "app.example.com", "monitoring:healthCheck": "true"}
    assert load(raw, "staging").monitoring.health_check is True


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"thresholds": {"ecsCpuPercent": -1}},
         "monitoring:thresholds.ecsCpuPercent: got -1; input should be greater than or equal to 0"),
        ({"thresholds": {"rdsFreeStorageGib": -0.5}},
         "monitoring:thresholds.rdsFreeStorageGib: got -0.5; input should be greater than or equal to 0"),
        ({"thresholds": {"redisMemoryPercent": 120}},
         "monitoring:thresholds.redisMemoryPercent: got 120; input should be less than or equal to 100"),
        ({"thresholds": {"redisEvictions": "many"}},
         'monitoring:thresholds.redisEvictions: got "many"; input should be a valid number'),
        ({"thresholds": {"rdsConnections": True}},
         "monitoring:thresholds.rdsConnections: got true; a number is required, not a boolean"),
        ({"thresholds": {"loadBalancer5xxPercent": "nan"}}, "monitoring:thresholds.loadBalancer5xxPercent: got \"nan\""),
        ({"thresholds": {"ecsCpu": 80}}, "monitoring:thresholds.ecsCpu: got 80; unknown key"),
        ({"percentiles": [0, 99]}, "monitoring:percentiles[0]: got 0; input should be greater than 0"),
        ({"percentiles": [50, 100]}, "monitoring:percentiles[1]: got 100; input should be less than 100"),
        ({"percentiles": ["p99"]}, 'monitoring:percentiles[0]: got "p99"; input should be a valid number'),
        ({"percentiles": []}, "monitoring:percentiles: got []; at least one percentile is required"),
        ({"percentiles": [99, 99]}, "monitoring:percentiles: got [99, 99]; each percentile once"),
        ({"evaluationPeriods": "0"}, "monitoring:evaluationPeriods: got 0; input should be greater than or equal to 1"),
        ({"evaluationPeriods": "three"}, 'monitoring:evaluationPeriods: got "three"; input should be a valid integer'),
        ({"evaluationPeriods": "3", "datapointsToAlarm": "4"},
         "monitoring:datapointsToAlarm: got 4; at most evaluationPeriods (3)"),
        ({"periodSeconds": "45"}, "monitoring:periodSeconds: got 45; allowed periods are 10, 30 or a multiple of 60 seconds"),
        ({"periodSeconds": "3600", "evaluationPeriods": "30"},
         "monitoring:evaluationPeriods: got 30; periodSeconds x evaluationPeriods must be at most one day"),
        ({"domain": "app.example.com"}, 'monitoring:domain: got "app.example.com"; no longer a setting: Route 53 probes '
                                        "traffic:domainName"),
        ({"healthCheck": "true"}, "monitoring:healthCheck: got true; needs traffic:domainName"),
        ({"healthPath": "health"}, 'monitoring:healthPath: got "health"; a URL path starting with /'),
        ({"healthCheckFailures": "0"}, "monitoring:healthCheckFailures: got 0; input should be greater than or equal to 1"),
    ],
)
def test_bad_values_name_the_key_the_value_and_what_is_allowed(values: dict[str, object], expected: str) -> None:
    found = problems(**values)
    assert any(p.startswith(expected) for p in found), found


def test_every_problem_is_reported_at_once() -> None:
    found = problems(thresholds={"ecsCpuPercent": -1, "rdsConnections": "x"}, evaluationPeriods="0", percentiles=[100])
    keys = sorted(p.split(":", 2)[1].split(";")[0] for p in found)
    assert keys == ["evaluationPeriods", "percentiles[0]", "thresholds.ecsCpuPercent", "thresholds.rdsConnections"]
