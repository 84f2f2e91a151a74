"""fairvalue package."""
