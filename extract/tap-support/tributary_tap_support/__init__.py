"""The shared base of Tributary's Singer SDK taps (README.md lists each module and whether it needs
singer_sdk). Nothing is imported here: the settings converter is used where singer_sdk is not installed."""
