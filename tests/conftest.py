"""Shared test fixtures: one real Temporal dev server and one emulator per session."""

pytest_plugins = [
    "support.temporal",
    "support.emulator",
    "support.stack",
    "support.pki",
]
