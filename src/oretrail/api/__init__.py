"""HTTP API: FastAPI app and one router per area."""
