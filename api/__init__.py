"""The composition root: settings, the command line (and later the HTTP API)."""
