"""Judgement: which alarms and tests decide a candidate, their statistics, and the staging gate before production."""
