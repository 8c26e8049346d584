"""Search over drops, posts, partner brands and hashtags (docs/architecture.md, Search).

``text`` folds text to its plain form; ``index`` keeps the index in step (called by the
services that own each write); ``fts`` asks the database's full-text index; ``service``
answers a query; ``bench`` measures it at a million posts.
"""
