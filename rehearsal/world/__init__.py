"""The world a rehearsal runs in: moto, application processes, the weighted proxy, load, metrics, alarms, logs, rollouts."""
