"""The ``python -m release`` commands, one module per group."""
