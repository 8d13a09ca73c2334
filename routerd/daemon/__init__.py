"""The long-running daemon: engine thread, API server, signals, systemd integration."""
