"""The full-screen Textual inbox (a later issue); only the bare ``socialdesk`` command imports it.

This package is the only place allowed to import :mod:`textual` (tests/test_layers.py).
"""
