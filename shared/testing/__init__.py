"""Test helpers: private RabbitMQ and PostgreSQL servers, and waiting for the bus."""
