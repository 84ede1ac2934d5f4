"""Mechanisms every finserv module uses — one implementation each (see DESIGN.md)."""
