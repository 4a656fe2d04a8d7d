"""Offline models of pulumi-github resources and invokes."""

from __future__ import annotations
