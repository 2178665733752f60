"""`python -m socialdesk` runs the same entry point as the `socialdesk` console script."""

from socialdesk.launch import main

main()
