"""Benchmarks: ratios and counts measured in one run, never timed assertions."""
