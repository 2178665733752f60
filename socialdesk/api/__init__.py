"""The Graph API layer: HTTP client, typed endpoints, errors, retry policy, pacing, redaction.

Knows nothing of the store or the UI (ARCHITECTURE.md). Core builds a ``GraphClient`` per page
and calls the functions of ``socialdesk.api.graph``; they return ``socialdesk.models`` objects
and raise the ``socialdesk.api.errors`` classes.
"""
