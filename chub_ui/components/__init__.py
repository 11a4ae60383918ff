"""Layouts, navigation, tables, forms and empty states."""
