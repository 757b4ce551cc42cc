"""Deterministic fake-but-plausible business data: the same seed always gives the same world.

Only ``random.Random(seed)`` is used (never the global RNG or uuid4), so two runs with
one seed produce byte-identical ledgers, which tests and benchmarks rely on.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

_PREFIXES = (
    "Harbour",
    "Summit",
    "Kauri",
    "Pacific",
    "Redwood",
    "Bluegum",
    "Silverfern",
    "Northgate",
    "Ironbark",
    "Lakeside",
    "Copper",
    "Golden",
    "Tui",
    "Riverbend",
    "Oakridge",
    "Cedar",
    "Coastal",
    "Highland",
    "Marlin",
    "Evergreen",
    "Granite",
    "Willow",
    "Aurora",
    "Kowhai",
    "Seaview",
    "Pinecrest",
    "Sterling",
)
_NOUNS = (
    "Bakery",
    "Plumbing",
    "Dental",
    "Fitness",
    "Design",
    "Logistics",
    "Electrical",
    "Landscaping",
    "Coffee Roasters",
    "Veterinary Clinic",
    "Cleaning",
    "Physio",
    "Joinery",
    "Print Shop",
    "Tutoring",
    "Catering",
    "Auto Repairs",
    "Yoga Studio",
    "Accounting",
    "Brewing",
    "Florist",
    "Engineering",
)
_SUFFIXES = ("Ltd", "Limited", "Co", "& Sons", "Group", "Studio", "LLC", "Inc", "Partners", "")
_FIRST = (
    "Aroha",
    "James",
    "Mere",
    "Oliver",
    "Sofia",
    "Liam",
    "Ava",
    "Noah",
    "Isla",
    "Mateo",
    "Hana",
    "Lucas",
    "Chloe",
    "Ethan",
    "Priya",
    "Wiremu",
    "Emma",
    "Leo",
    "Mia",
    "Arjun",
    "Grace",
    "Tane",
    "Zoe",
    "Daniel",
)
_LAST = (
    "Smith",
    "Ngata",
    "Brown",
    "Garcia",
    "Wilson",
    "Patel",
    "Taylor",
    "Nguyen",
    "Walker",
    "Kim",
    "Parata",
    "Martin",
    "Lee",
    "Anderson",
    "Clarke",
    "Singh",
    "Thompson",
    "Lopez",
    "Chen",
    "Harris",
    "Tuhoe",
)
_STREETS = ("Queen St", "Main Rd", "Victoria Ave", "Harbour View", "Market Lane", "Elm St", "Park Rd")


@dataclass(frozen=True)
class Product:
    description: str
    unit_price: Decimal


CATALOGUE: tuple[Product, ...] = tuple(
    Product(name, Decimal(price))
    for name, price in (
        ("Monthly service fee", "120.00"),
        ("Consulting (hours)", "95.00"),
        ("Annual subscription", "1188.00"),
        ("Site visit", "75.00"),
        ("Materials", "42.50"),
        ("Maintenance plan", "59.90"),
        ("Training session", "250.00"),
        ("Design work (hours)", "110.00"),
        ("Delivery", "15.00"),
        ("Equipment hire (day)", "180.00"),
        ("Support retainer", "400.00"),
        ("Cleaning visit", "68.00"),
    )
)


_VERSION_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_BITS = (0x4000 << 64) | (0x8000 << 48)


def rng_uuid(rng: random.Random) -> str:
    """A version-4 UUID drawn from ``rng`` (uuid4() would break determinism).

    Same value as ``str(uuid.UUID(int=bits, version=4))``, formatted by hand because bulk
    seeding makes hundreds of thousands of them.
    """
    h = "%032x" % ((rng.getrandbits(128) & _VERSION_MASK) | _VERSION_BITS)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def company_name(rng: random.Random) -> str:
    name = f"{rng.choice(_PREFIXES)} {rng.choice(_NOUNS)}"
    suffix = rng.choice(_SUFFIXES)
    return f"{name} {suffix}" if suffix else name


def person_name(rng: random.Random) -> tuple[str, str]:
    return rng.choice(_FIRST), rng.choice(_LAST)


def email_for(first: str, last: str, company: str) -> str:
    domain = "".join(ch for ch in company.lower().split()[0] if ch.isalnum()) or "example"
    return f"{first.lower()}.{last.lower()}@{domain}.example.com"


def street_address(rng: random.Random) -> str:
    return f"{rng.randint(1, 480)} {rng.choice(_STREETS)}"


def short_code(rng: random.Random) -> str:
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "!" + "".join(rng.choice(alphabet) for _ in range(5))


def token_string(rng: random.Random, length: int = 32) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(rng.choice(alphabet) for _ in range(length))


@contextmanager
def paused_gc() -> Iterator[None]:
    """Bulk creation allocates hundreds of thousands of objects and no cycles; the cyclic
    collector would rescan them again and again (a third of the seeding time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def settle_bulk(created: int, threshold: int = 10_000) -> None:
    """After a large bulk load, move everything into the collector's permanent generation.

    Otherwise every later full collection walks the hundreds of thousands of records again,
    which turns building a 1000-invoice response from 20 ms into 300 ms. Records are freed by
    reference counting as usual; only the cycle collector skips them.
    """
    if created >= threshold:
        gc.freeze()
