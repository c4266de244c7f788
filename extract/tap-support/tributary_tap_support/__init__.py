"""What every Singer SDK tap of Tributary shares (README.md lists it): typed settings, first contact."""
