"""The append-only, hash-chained ledger: store, chain, signed checkpoints, verification."""
