"""The Xero sandbox fixtures of the end-to-end tests, for the grant refresh test."""

from tests.e2e.conftest import spec_checker, xero  # noqa: F401  (fixtures)
