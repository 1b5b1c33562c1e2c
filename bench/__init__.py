"""Benchmarks of the start path, migration throughput, worker memory and the emulator (issue 6)."""
