"""The pack as the engine loads it: its catalogue, its per-stack config, and its analyzer server."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pulumi_aws
import pulumi_github
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import EnforcementLevel

from components.config import Environment
from offline.plan import SECRET
from policy.enforcement import PolicyConfigError, level_of, load_config, pack_config, stack_environments
from policy.policies import POLICIES, ResourcePolicy, Scope, by_name
from policy.policies.base import SECRET_MARKER
from tests.policy_support import urn

ROOT = Path(__file__).resolve().parents[2]
PROVIDERS = {"aws": Path(pulumi_aws.__file__).parent, "github": Path(pulumi_github.__file__).parent}


def test_policy_names_are_unique_and_every_policy_is_documented() -> None:
    assert len(by_name()) == len(POLICIES)
    for policy in POLICIES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", policy.name), policy.name
        assert policy.description.endswith("."), policy.name
        assert policy.remediation_steps, policy.name
        assert isinstance(policy.scope, Scope)


def _module_of(token: str) -> Path:
    # aws:lb/targetGroup:TargetGroup -> pulumi_aws/lb/target_group.py; github:index/x:X -> pulumi_github/x.py
    package, module, _ = token.split(":")
    directory, _, resource = module.partition("/")
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", resource).lower()
    root = PROVIDERS[package]
    return root / f"{snake}.py" if directory == "index" else root / directory / f"{snake}.py"


def test_every_type_token_is_one_the_installed_providers_register() -> None:
    tokens = {t for p in POLICIES if isinstance(p, ResourcePolicy) for t in p.types}
    for token in sorted(tokens):
        module = _module_of(token)
        assert module.exists(), f"{token}: no module {module} in the installed provider"
        assert f"'{token}'" in module.read_text(), f"{token} is not a type of the installed provider"


def test_the_config_files_are_what_the_scopes_say() -> None:
    environments = stack_environments()
    assert environments == {"production": Environment.PRODUCTION, "staging": Environment.STAGING}
    for stack, environment in environments.items():
        assert load_config(stack) == pack_config(environment), f"regenerate with `python -m policy.enforcement` ({stack})"


def test_production_enforces_everything_and_staging_relaxes_only_production_scoped_policies() -> None:
    production, staging = load_config("production"), load_config("staging")
    for policy in POLICIES:
        assert level_of(policy, production) is EnforcementLevel.MANDATORY
        expected = EnforcementLevel.ADVISORY if policy.scope is Scope.PRODUCTION else EnforcementLevel.MANDATORY
        assert level_of(policy, staging) is expected, policy.name
    assert level_of(by_name()["database-not-public"], staging) is EnforcementLevel.MANDATORY
    assert level_of(by_name()["data-multi-az"], staging) is EnforcementLevel.ADVISORY


def test_a_stack_without_a_config_file_gets_every_policy_mandatory() -> None:
    assert load_config("no-such-stack") == {}
    assert {level_of(p, {}) for p in POLICIES} == {EnforcementLevel.MANDATORY}


def test_a_policy_level_given_as_an_object_is_read_like_the_engine_reads_it() -> None:
    policy = by_name()["log-group-retention"]
    assert level_of(policy, {"all": "advisory", "log-group-retention": {"enforcementLevel": "disabled"}}) is EnforcementLevel.DISABLED
    assert level_of(policy, {"all": "advisory"}) is EnforcementLevel.ADVISORY


def test_an_unknown_level_names_the_policy_the_value_and_the_levels() -> None:
    with pytest.raises(PolicyConfigError) as caught:
        level_of(by_name()["log-group-retention"], {"log-group-retention": "strict"})
    assert str(caught.value) == (
        "policy config log-group-retention: got 'strict'; allowed levels are advisory, mandatory, remediate, disabled"
    )


# --- the real analyzer server, as `pulumi preview --policy-pack policy` starts it ----------------------


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    # The engine runs the pack through the Python SDK's policy host, from inside the pack's directory.
    # A copy under another name, away from the repository, proves the pack stands alone as published.
    pack = tmp_path_factory.mktemp("published") / "release-platform-0.2.0"
    shutil.copytree(ROOT / "policy", pack, ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pulumi.policy", "127.0.0.1:0", "."],
        cwd=pack, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        assert port.isdigit(), (port, proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_the_pack_serves_every_policy_mandatory_by_default(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    assert info.name == "release-platform"
    assert sorted(p.name for p in info.policies) == sorted(by_name())
    assert {p.enforcementLevel for p in info.policies} == {analyzer_pb2.MANDATORY}


def _analyze(analyzer: analyzer_pb2_grpc.AnalyzerStub, type_: str, props: dict[str, object]) -> list[analyzer_pb2.AnalyzeDiagnostic]:
    properties = struct_pb2.Struct()
    properties.update(props)
    request = analyzer_pb2.AnalyzeRequest(
        type=type_, properties=properties, urn=urn(type_, "db"), name="db",
        options=analyzer_pb2.AnalyzerResourceOptions(protect=True),
    )
    return list(analyzer.Analyze(request, timeout=30).diagnostics)


def test_the_staging_config_makes_production_rules_advisory_in_the_real_server(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    staging = json.loads((ROOT / "policy" / "config" / "staging.json").read_text())
    # The engine resolves "all" against the pack's policies before it configures the analyzer.
    levels = {p.name: staging.get(p.name, staging["all"]) for p in POLICIES}
    analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={
        name: analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.EnforcementLevel.Value(level.upper()))
        for name, level in levels.items()
    }), timeout=30)
    database = {"engine": "postgres", "storageEncrypted": True, "publiclyAccessible": True, "multiAz": False,
                "deletionProtection": True, "backupRetentionPeriod": 7.0}
    found = {d.policyName: d.enforcementLevel for d in _analyze(analyzer, "aws:rds/instance:Instance", database)}
    assert found == {"database-not-public": analyzer_pb2.MANDATORY, "data-multi-az": analyzer_pb2.ADVISORY}


def test_the_pack_reads_secrets_with_the_offline_plans_marker() -> None:
    assert SECRET_MARKER == SECRET
