"""The Redis side: the catalog, the command ledger, and waiting for Redis when it is away."""
