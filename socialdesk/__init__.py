"""socialdesk: a terminal-first social inbox for a Facebook Page.

Importing the package must stay cheap (cron commands start from here), so it holds only the
version string.
"""

__version__ = "0.1.0"
