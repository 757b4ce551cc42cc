"""Shared fixtures for the sandbox tests (the sandboxes stand for the outside world)."""
