"""The outbox of e-mails and in-portal messages, sent after commit with retries."""
