"""Tributary sandbox: a local simulator of the project's vendor APIs (see README.md)."""
