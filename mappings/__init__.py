"""Data only: the TOML files that map each ledger's words onto the platform's status model."""
