"""The kam command line."""
