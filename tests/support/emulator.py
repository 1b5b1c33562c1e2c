"""Fixtures for emulator tests (filled in by that part)."""
