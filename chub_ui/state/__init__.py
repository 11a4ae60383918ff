"""Reflex states, one module per feature, each thin over the services."""
