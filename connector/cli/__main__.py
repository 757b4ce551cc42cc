"""``python -m connector.cli``: the connector command (as installed)."""

from connector.cli import main

main()
