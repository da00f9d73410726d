"""The bottom layer of whoknows: record types, errors, the store, vectors, embedders.

Nothing here imports ``ingest``, ``search`` or ``api``.
"""
