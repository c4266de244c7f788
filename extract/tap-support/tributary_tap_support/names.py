"""One name policy for the tables and columns our taps name after a vendor's data (an Attio slug,
a GA4 custom definition): the warehouse's SQL takes these names, so anyone who can name a field
in the business's SaaS tools chooses them.

A name is the vendor's own when it is plain (lower-case letters and digits, single underscores,
starting with a letter) and short enough; otherwise its plain form, cut short, with 8 hex digits
of the vendor's id for the thing named. So a name is the same for the life of what it names,
never another thing's, and within PostgreSQL's 63 bytes (longer names are cut there, silently,
and two cut names can meet).
"""
from __future__ import annotations

import hashlib
import re
import typing as t

IDENTIFIER_BYTES = 63  # PostgreSQL's limit (NAMEDATALEN - 1)
PLAIN = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


def stable_name(name: str, ident: str, limit: int = IDENTIFIER_BYTES, taken: t.Container[str] = ()) -> str:
    """`name` itself when plain, at most `limit` bytes and not in `taken`; else its plain form cut
    short plus 8 hex digits of `ident` (the vendor's id of what is named)."""
    if PLAIN.fullmatch(name) and len(name) <= limit and name not in taken:
        return name
    plain = re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")[: limit - 9].rstrip("_") or "attribute"
    return f"{plain}_{hashlib.sha1(ident.encode()).hexdigest()[:8]}"
