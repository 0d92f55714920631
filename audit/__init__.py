"""The append-only governance log: one AuditEvent per governance action, each row
chained to the previous one by SHA-256, written in the action's own transaction."""
