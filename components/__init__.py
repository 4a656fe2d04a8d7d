"""Component resources of the release platform, one concern a module."""
