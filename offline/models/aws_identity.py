"""Offline models of IAM and KMS: roles, policies, OIDC providers, keys.

Shared by every concern that grants access (the fleet's roles, the delivery and
deployment OIDC trusts, encryption keys), so each type token is modelled once.
"""

from __future__ import annotations

from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from offline.models import MockContext, autoname, invoke, resource
from offline.models.knowledge import REGION, REGION_SDKV2, TF, Call, creates, named, pick, policy_inputs, replaced_on, review


@resource("aws:iam/role:Role")
def _role(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    name = autoname(args, ctx)
    path = str(args.inputs.get("path") or "/")
    return {
        "id": name,
        "name": name,
        "arn": f"arn:aws:iam::{ctx.account}:role{path}{name}",
        "uniqueId": f"AROA{ctx.digest(args.name, length=17).upper()}",
        "createDate": "2026-01-01T00:00:00Z",
    }


@resource("aws:iam/policy:Policy")
def _policy(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    name = autoname(args, ctx)
    path = str(args.inputs.get("path") or "/")
    arn = f"arn:aws:iam::{ctx.account}:policy{path}{name}"
    return {"id": arn, "arn": arn, "name": name, "policyId": f"ANPA{ctx.digest(args.name, length=17).upper()}"}


@resource("aws:iam/rolePolicy:RolePolicy")
def _role_policy(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    name = autoname(args, ctx)
    return {"id": f"{args.inputs.get('role')}:{name}", "name": name}


@resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
def _attachment(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    return {"id": f"{args.inputs.get('role')}-{ctx.digest(args.name, length=8)}"}


@resource("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
def _oidc_provider(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    host = str(args.inputs.get("url", "")).removeprefix("https://")
    arn = f"arn:aws:iam::{ctx.account}:oidc-provider/{host}"
    return {"id": arn, "arn": arn}


@invoke("aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider")
def _lookup_oidc_provider(args: dict[str, Any], ctx: MockContext) -> dict[str, Any]:
    url = str(args.get("url", ""))
    host = url.removeprefix("https://")
    arn = str(args.get("arn") or f"arn:aws:iam::{ctx.account}:oidc-provider/{host}")
    return {"id": arn, "arn": arn, "url": host, "clientIdLists": ["sts.amazonaws.com"], "thumbprintLists": [], "tags": {}}


@resource("aws:kms/key:Key")
def _key(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    key_id = f"{ctx.digest(args.name, length=8)}-{ctx.digest(args.name, 'a', length=4)}-4000-8000-{ctx.digest(args.name, 'b', length=12)}"
    return {"id": key_id, "keyId": key_id, "arn": ctx.arn("kms", f"key/{key_id}")}


@resource("aws:kms/alias:Alias")
def _alias(args: MockResourceArgs, ctx: MockContext) -> dict[str, Any]:
    name = autoname(args, ctx)
    return {"id": name, "name": name, "arn": ctx.arn("kms", name), "targetKeyArn": ctx.arn("kms", f"key/{args.inputs.get('targetKeyId')}")}


# --- create requests, validated by the offline check against botocore's service models ---------
# The policy documents themselves are checked by the IAM rules of the check (offline/check/iam.py).


@creates("iam", "aws:iam/role:Role")
def _role_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {"assumeRolePolicy": "AssumeRolePolicyDocument", "description": "Description",
                         "maxSessionDuration": "MaxSessionDuration", "path": "Path",
                         "permissionsBoundary": "PermissionsBoundary"}, "CreateRole")
    call.params["RoleName"] = name
    call.origin["RoleName"] = "name"
    return [call]


@creates("iam", "aws:iam/policy:Policy")
def _policy_request(inputs: dict[str, Any], name: str) -> list[Call]:
    call = pick(inputs, {"policy": "PolicyDocument", "description": "Description", "path": "Path"}, "CreatePolicy")
    return named(call, "PolicyName", name)


@creates("iam", "aws:iam/rolePolicy:RolePolicy")
def _role_policy_request(inputs: dict[str, Any], name: str) -> list[Call]:
    return named(pick(inputs, {"role": "RoleName", "policy": "PolicyDocument"}, "PutRolePolicy"), "PolicyName", name)


@creates("iam", "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
def _attachment_request(inputs: dict[str, Any], name: str) -> list[Call]:
    return [pick(inputs, {"role": "RoleName", "policyArn": "PolicyArn"}, "AttachRolePolicy")]


@creates("iam", "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
def _oidc_request(inputs: dict[str, Any], name: str) -> list[Call]:
    return [pick(inputs, {"url": "Url", "clientIdLists": "ClientIDList", "thumbprintLists": "ThumbprintList"},
                 "CreateOpenIDConnectProvider")]


@creates("kms", "aws:kms/key:Key")
def _key_request(inputs: dict[str, Any], name: str) -> list[Call]:
    return [pick(inputs, {"description": "Description", "keyUsage": "KeyUsage", "customerMasterKeySpec": "KeySpec",
                          "policy": "Policy", "multiRegion": "MultiRegion"}, "CreateKey")]


@creates("kms", "aws:kms/alias:Alias")
def _alias_request(inputs: dict[str, Any], name: str) -> list[Call]:
    return [pick(inputs, {"name": "AliasName", "targetKeyId": "TargetKeyId"}, "CreateAlias")]


policy_inputs("aws:iam/role:Role", assumeRolePolicy="trust")
policy_inputs("aws:iam/rolePolicy:RolePolicy", policy="identity")
policy_inputs("aws:iam/policy:Policy", policy="identity")
policy_inputs("aws:kms/key:Key", policy="resource")


# What a change to an input replaces (the provider's schema rule, cited) and what a reviewer sees.
replaced_on("aws:iam/role:Role",
    "name", "namePrefix", "path",
    source=f"{TF}iam/role.go: name, name_prefix, path ForceNew (assume_role_policy, description,"
           " max_session_duration, permissions_boundary, inline and managed policies update in place)")
replaced_on("aws:iam/policy:Policy",
    "description", "name", "namePrefix", "path",
    source=f"{TF}iam/policy.go: description, name, name_prefix, path ForceNew (a policy change is a new default"
           " policy version)")
replaced_on("aws:iam/rolePolicy:RolePolicy",
    "name", "namePrefix", "role",
    source=f"{TF}iam/role_policy.go: name, name_prefix, role ForceNew (policy updates through PutRolePolicy)")
replaced_on("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "policyArn", "role",
    source=f"{TF}iam/role_policy_attachment.go: role, policy_arn ForceNew (the resource has no update)")
replaced_on("aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    "url",
    source=f"{TF}iam/openid_connect_provider.go: url ForceNew (client_id_list and thumbprint_list update in place)")
replaced_on("aws:kms/key:Key",
    "customKeyStoreId", "customerMasterKeySpec", "keyUsage", "multiRegion", REGION,
    source=f"{TF}kms/key.go: custom_key_store_id, customer_master_key_spec, key_usage, multi_region ForceNew;"
           f" {REGION_SDKV2} (IAM is global: its types take no region)")
replaced_on("aws:kms/alias:Alias",
    "name", "namePrefix", REGION, source=f"{TF}kms/alias.go: name, name_prefix ForceNew; {REGION_SDKV2}")
review("aws:iam/role:Role", "name")
