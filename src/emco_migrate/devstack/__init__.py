"""Starting the local stack: Temporal dev server, emulator, worker and HTTP server."""
