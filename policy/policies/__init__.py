"""Every policy of the pack, by area. ``POLICIES`` is what the pack and the offline runner run."""

from __future__ import annotations

from policy.policies import data, delivery, identity, load_balancing, network, protection
from policy.policies.base import PackPolicy, ResourcePolicy, Scope, StackPolicy

__all__ = ["POLICIES", "PackPolicy", "ResourcePolicy", "Scope", "StackPolicy", "by_name"]

POLICIES: list[PackPolicy] = [
    *load_balancing.POLICIES,
    *network.POLICIES,
    *data.POLICIES,
    *identity.POLICIES,
    *delivery.POLICIES,
    *protection.POLICIES,
]


def by_name() -> dict[str, PackPolicy]:
    """The policies keyed by name (names are unique in a pack)."""
    return {p.name: p for p in POLICIES}
