"""Live events: published after commit, carried to every API process, pushed to streams.

- :mod:`dropbell.live.events` — what an event says, and its wire form;
- :mod:`dropbell.live.brokers` — how it reaches every process (PostgreSQL LISTEN/NOTIFY,
  or memory for a single SQLite process);
- :mod:`dropbell.live.publish` — what services and the scheduler call; imports no domain;
- :mod:`dropbell.live.hub` — one process's open streams, and what each event sends them;
- :mod:`dropbell.live.routes` — ``GET /api/v1/streaming/notifications`` (server-sent events).
"""
