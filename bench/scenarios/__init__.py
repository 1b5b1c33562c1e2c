"""The four benchmark scenarios, one module each."""
