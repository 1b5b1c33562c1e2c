"""Fixtures for stack tests (filled in by that part)."""
