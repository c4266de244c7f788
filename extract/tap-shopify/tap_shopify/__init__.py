"""Singer tap for the Shopify Admin GraphQL API."""
