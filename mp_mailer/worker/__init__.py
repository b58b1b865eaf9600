"""The delivery worker, which needs no Flask app: its loop, the per-email senders, the emails it
builds from a letter row, and its settings."""
