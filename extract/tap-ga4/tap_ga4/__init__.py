"""tap-ga4: Google Analytics 4 Data API v1beta."""
