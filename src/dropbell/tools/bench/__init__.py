"""``dropbell bench``: benchmarks that load a throwaway database and print figures.

``launch`` (a launch to N subscribers, released by the real scheduler), ``search`` (with
``search_corpus``, the posts it loads) and ``push`` (a launch pushed to N subscriptions)."""
