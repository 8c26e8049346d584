"""Host names as they are compared and stored: IDNA2008 A-labels (the ``idna`` package).

Python's own ``"idna"`` codec is IDNA2003, which maps ``straße.example`` to
``strasse.example``: another domain, perhaps someone else's. Here user input goes
through UTS #46 mapping (case, full-width forms) without its transitional mapping, so
``ß`` (and the joiners some scripts need) survive: ``xn--strae-oqa.example``.
"""

from __future__ import annotations

import idna


def to_ascii(host: str) -> str:
    """``host`` (a trailing dot ignored) as lower-case A-labels; UnicodeError if it is not
    a valid IDNA2008 host name."""
    host = host.rstrip(".")
    if not host:
        raise UnicodeError("empty host name")
    return idna.encode(host, uts46=True, transitional=False).decode("ascii")
