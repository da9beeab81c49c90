"""Chain projections: lots, positions, shipments, genealogy, exports, and tracing through them."""
