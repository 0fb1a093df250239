"""Benchmarks of the event bus (run them with ``python -m bench.<name>``)."""
