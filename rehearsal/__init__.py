"""The rehearsal: the real driver run against a world of stand-ins for AWS's data plane and the application."""
