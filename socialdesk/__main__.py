"""`python -m socialdesk` runs the same CLI as the `socialdesk` console script."""

from socialdesk.cli import main

main()
