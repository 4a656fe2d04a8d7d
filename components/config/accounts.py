"""Which AWS account each stack deploys to, and what that means for the account-wide objects.

A stack names its account with the AWS provider's own ``aws:allowedAccountIds``
(one id); stacks without it share one account. AWS allows one OIDC provider per
issuer URL in an account (Pulumi's "Configuring OpenID Connect for AWS": "AWS
allows only one OIDC provider per URL in an account"), so in each account exactly
one stack creates GitHub's provider and exactly one creates Pulumi's; a stack alone
in its account creates both. The program sees one stack at a time, so this runs
over all stack files (tests).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from components.config.base import Problem

ACCOUNTS_KEY = "aws:allowedAccountIds"
_ACCOUNT = re.compile(r"^\d{12}$")
SHARED_ACCOUNT = "(the shared account)"


@dataclass(frozen=True)
class StackAccount:
    """One stack's account and what it creates there."""

    stack: str
    account: str | None
    """The one account id of ``aws:allowedAccountIds``; None when unset."""
    creates_github_provider: bool
    creates_pulumi_provider: bool
    owns_shared: bool
    """Whether the stack owns the image repository the other stacks look up."""


def account_of(raw: Mapping[str, str], stack: str) -> tuple[str | None, list[Problem]]:
    """The account a stack's flat config names, or None, with any problem in how it is named."""
    value = raw.get(ACCOUNTS_KEY)
    if value is None:
        return None, []
    try:
        ids = json.loads(value)
    except json.JSONDecodeError:
        ids = value
    ids = ids if isinstance(ids, list) else [ids]
    if len(ids) != 1 or not _ACCOUNT.match(str(ids[0])):
        return None, [Problem(f"{ACCOUNTS_KEY} (Pulumi.{stack}.yaml)", ids, "name exactly one 12-digit AWS account id")]
    return str(ids[0]), []


def account_problems(stacks: Sequence[StackAccount]) -> list[Problem]:
    """Problems with the account-wide objects across stacks, each naming the stacks and the fix."""
    problems: list[Problem] = []
    accounts: dict[str, list[StackAccount]] = {}
    for stack in stacks:
        accounts.setdefault(stack.account or SHARED_ACCOUNT, []).append(stack)
    owner_accounts = {s.account or SHARED_ACCOUNT for s in stacks if s.owns_shared}
    for account, members in sorted(accounts.items()):
        names = ", ".join(s.stack for s in members)
        for label, key, creates in (
            ("GitHub's", "delivery:oidcProvider", [s.stack for s in members if s.creates_github_provider]),
            ("Pulumi's", "deployments:oidcProvider", [s.stack for s in members if s.creates_pulumi_provider]),
        ):
            if len(creates) != 1:
                problems.append(Problem(
                    key, creates,
                    f"account {account} ({names}) needs exactly one stack creating {label} OIDC provider (one per URL "
                    "per account): set `create` in one of them and `existing` in the others",
                ))
        if account not in owner_accounts:
            problems.append(Problem(
                ACCOUNTS_KEY, account,
                f"{names} would look up the image repository in account {account}, but the stack that owns it "
                "deploys to another account; cross-account image pulls are not supported: keep these stacks in "
                "the owner stack's account",
            ))
    return problems
