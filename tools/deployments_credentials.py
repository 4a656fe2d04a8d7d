"""Point the AWS SDK of a Pulumi Deployments run at the role its operation is trusted for.

Pulumi Cloud mounts each deployment's OIDC token at ``/mnt/pulumi/pulumi.oidc``
(and in ``PULUMI_OIDC_TOKEN``); its ``operation`` claim is one of preview, update,
refresh or destroy (Pulumi Cloud docs, Deployments, "OpenID Connect integration").
This writes the default profile of the AWS shared config file so the SDK exchanges
that token itself (``role_arn`` + ``web_identity_token_file``: the AWS SDKs and
Tools Reference Guide, "Assume role credential provider"). The choice is a
convenience, not the guard: each role's trust admits only its operations'
``sub``, so a preview that asked for the deploy role would be refused by STS.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from components.deployments_oidc import READ_OPERATIONS, WRITE_OPERATIONS

TOKEN_FILE = "/mnt/pulumi/pulumi.oidc"  # noqa: S105 - a path, not a secret


class CredentialsError(ValueError):
    """The run's token or settings do not say which role to use."""


def claims(token: str) -> dict[str, object]:
    """The claims of a JWT, unverified: STS verifies the token; this only reads which operation it is for."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        message = f"the OIDC token has {len(parts)} part(s); a JWT has 3"
        raise CredentialsError(message)
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    data = json.loads(base64.urlsafe_b64decode(payload))
    if not isinstance(data, dict):
        message = "the OIDC token's payload is not a JSON object"
        raise CredentialsError(message)
    return data


def profile(token: str, env: Mapping[str, str], token_file: str) -> str:
    """The ``[default]`` profile text for this run's operation."""
    operation = claims(token).get("operation")
    if operation in WRITE_OPERATIONS:
        variable = "PULUMI_DEPLOY_ROLE_ARN"
    elif operation in READ_OPERATIONS:
        variable = "PULUMI_PREVIEW_ROLE_ARN"
    else:
        allowed = ", ".join((*READ_OPERATIONS, *WRITE_OPERATIONS))
        message = f"the OIDC token's operation is {operation!r}; allowed are {allowed}"
        raise CredentialsError(message)
    role = env.get(variable, "")
    if not role.startswith("arn:"):
        message = f"{variable}: got {role!r}; the deployment settings set it to the role's ARN"
        raise CredentialsError(message)
    lines = [
        "[default]",
        f"role_arn = {role}",
        f"web_identity_token_file = {token_file}",
        f"role_session_name = {env.get('PULUMI_ROLE_SESSION_NAME', 'pulumi-deployments')}",
        f"duration_seconds = {int(env.get('PULUMI_ROLE_SESSION_SECONDS', '3600'))}",
        f"region = {env['AWS_REGION']}" if env.get("AWS_REGION") else "",
    ]
    return "\n".join(line for line in lines if line) + "\n"


def main(env: Mapping[str, str] | None = None) -> int:
    """Write the profile; 0 done, 2 when the token or the settings are missing or unknown."""
    env = os.environ if env is None else env
    token_file = env.get("PULUMI_OIDC_TOKEN_FILE", TOKEN_FILE)
    path = Path(token_file)
    token = env.get("PULUMI_OIDC_TOKEN") or (path.read_text() if path.exists() else "")
    target = Path(env.get("AWS_CONFIG_FILE", str(Path.home() / ".aws" / "config")))
    try:
        if not token:
            message = f"no OIDC token: neither PULUMI_OIDC_TOKEN nor {token_file}"
            raise CredentialsError(message)
        if not path.exists():
            path.write_text(token)
        text = profile(token, env, token_file)
    except (CredentialsError, ValueError) as exc:
        print(f"deployments credentials: {exc}", file=sys.stderr)
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    print(f"AWS profile written to {target}: {text.splitlines()[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
