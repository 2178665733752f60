"""The inbox's screens: the inbox itself, stats, help, and the small prompts."""
