"""The ledger ids one import run has inserted, kept as a Bloom filter.

A first import (the connection had no invoices when the run began) knows every invoice the
connection can hold: the ones its own earlier pages inserted. A ledger id the filter has never
seen is certainly new, so the page's look-up by ledger id is asked only for the few ids the filter
may have seen (an invoice changed while the run read, and read again). On PostgreSQL that look-up
was a thousand index probes a page for ids that were never there: skipping it made a Xero first
import 10 % faster at 100k and 15 % at 10k (BENCHMARKS.md, issue 16's fifth step).

A false "maybe" only costs a look-up; there are no false "no"s. 2 MiB of bits and two positions
per id keep false "maybe"s near 0.1 % at 300,000 ids. Python's own ``hash`` of the id (fixed for
the life of the process, which is as long as a run's filter lives) gives both positions, so an id
costs no more than a dict look-up.
"""

from __future__ import annotations

from collections.abc import Iterable

_BITS = 1 << 24
_MASK = _BITS - 1


class InsertedIds:
    """Ledger ids inserted by this run: ``id in ids`` is False only for an id never added."""

    __slots__ = ("_bits",)

    def __init__(self) -> None:
        self._bits = bytearray(_BITS >> 3)

    def update(self, ids: Iterable[str]) -> None:
        bits = self._bits
        for key in ids:
            h = hash(key)
            a, b = h & _MASK, (h >> 32) & _MASK
            bits[a >> 3] |= 1 << (a & 7)
            bits[b >> 3] |= 1 << (b & 7)

    def __contains__(self, key: str) -> bool:
        h = hash(key)
        a, b = h & _MASK, (h >> 32) & _MASK
        bits = self._bits
        return bool(bits[a >> 3] & (1 << (a & 7)) and bits[b >> 3] & (1 << (b & 7)))
