"""gcp provider profile (capture prerequisites, metadata reader, action plans)."""
