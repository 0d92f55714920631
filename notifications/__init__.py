"""The notification outbox: rows written in the transaction of the event they
announce, delivered afterwards by a background task, retried until they go out."""
