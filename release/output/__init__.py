"""Output for people: the live panel, console lines, the report file, status and history."""
