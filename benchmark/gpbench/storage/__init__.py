"""Results on disk: atomic writes and the store of a run directory's records."""
