"""Singer tap for the Attio CRM REST API v2."""
