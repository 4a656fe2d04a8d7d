"""CrossGuard policies for the release platform's stacks."""
