"""The notify service."""
