"""Licences (commerce) and customs export declarations: read, recorded, projected, drawn down."""
