"""The tickets service."""
