"""Singer tap for the __Source__ API."""
