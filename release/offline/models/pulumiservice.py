"""Offline models of pulumi-pulumiservice resources and invokes."""

from __future__ import annotations
