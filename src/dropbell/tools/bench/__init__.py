"""``dropbell bench``: benchmarks that load a throwaway database and print figures.

- ``launch``: a launch to N subscribers, released by the real scheduler; its data
  (``launch_load``), its reads over HTTP (``launch_reads``), what it measured and
  prints (``launch_figures``).
- ``search``: search at a million posts (``search_corpus``: the posts it loads).
- ``push``: one launch pushed to N subscriptions on a local push service.
- ``common``: what they share (a throwaway database, set-based SQL, one drop and its
  subscribers, percentiles).
"""
