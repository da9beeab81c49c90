"""Storage: table definitions, engines and migrations shared by every stage."""
