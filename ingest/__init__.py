"""Reading files into records, chunking them, and ingesting them into the store."""
