"""The platform's data in open columnar files, for engines other than the embedded store (docs/export.md)."""
