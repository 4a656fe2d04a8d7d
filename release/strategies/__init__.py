"""The strategies: a release planned into steps (canary, blue-green, rolling), and the runners that take them."""
