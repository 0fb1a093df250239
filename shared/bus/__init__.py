"""The event bus: outbox, inbox, subscribers, and the RabbitMQ and embedded transports."""
