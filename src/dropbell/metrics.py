"""Prometheus metrics: notices released, their audiences, and delivery lateness."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

RELEASED = Counter("dropbell_notices_released_total", "Notices released, by type.", ["type"])
NOTIFICATIONS = Counter(
    "dropbell_notifications_total",
    "Inbox deliveries: the audiences of released notices, by type.",
    ["type"],
)
COUNT_SECONDS = Histogram(
    "dropbell_notice_count_seconds",
    "Time to count a released notice's audience for the stats (after the release).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
LATENESS_SECONDS = Histogram(
    "dropbell_delivery_lateness_seconds",
    "Seconds from a notice's due time to the commit of its release.",
    ["type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
)
PUSHES = Counter(
    "dropbell_pushes_total",
    "Web pushes by outcome: sent, removed, failed, expired, retry.",
    ["outcome"],
)
PUSH_SECONDS = Histogram(
    "dropbell_push_send_seconds",
    "Time for a push service to answer one push request.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
