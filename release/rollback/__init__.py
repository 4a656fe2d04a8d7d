"""Rollback: the fast flip, a rolling stack's rollback, a rollback to a version, resume, and the standalone migration."""
