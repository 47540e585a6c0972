"""Trigger models (webhooks, schedules, deliveries)."""
