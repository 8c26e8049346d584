"""``dropbell demo``: believable demo data (:mod:`.data`) and its loading (:mod:`.loader`)."""
