"""The Xero world of the end-to-end tests (sandbox over HTTP, real SDK, real database)."""

from tests.e2e.conftest import spec_checker, world, xero  # noqa: F401  (fixtures)
