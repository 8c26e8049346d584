"""Prometheus metrics: notifications by type, fan-out duration, delivery lateness."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

NOTIFICATIONS = Counter(
    "dropbell_notifications_total", "Notifications delivered to inboxes.", ["type"]
)
FANOUT_BATCH_SECONDS = Histogram(
    "dropbell_fanout_batch_seconds",
    "Time to deliver and commit one fan-out batch.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
FANOUT_SECONDS = Histogram(
    "dropbell_fanout_seconds",
    "Time to fan out one reminder job to all its subscribers.",
    ["type"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60),
)
LATENESS_SECONDS = Histogram(
    "dropbell_delivery_lateness_seconds",
    "Seconds from a reminder's due time to the commit of a fan-out batch (one per batch).",
    ["type"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300),
)
