"""tap-__source__'s streams: one class per API resource. Add a resource by adding a class here
and listing it in tap.py's discover_streams."""
from __future__ import annotations

from singer_sdk import typing as th

from tap___source__.client import __Source__Stream


class CustomersStream(__Source__Stream):
    """GET /customers: incremental on updated_at, keyed by id."""

    name = "customers"               # → the table raw___source__.customers
    path = "/customers"
    primary_keys = ("id",)           # the loader upserts on it: a record read twice is one row
    replication_key = "updated_at"   # the bookmark; the next run asks for updated_since=<it>
    # The API returns the oldest change first, so the bookmark can advance page by page and an
    # interrupted run resumes where it stopped.
    is_sorted = True

    schema = th.PropertiesList(
        th.Property("id", th.StringType, required=True, description="The customer's id (cus_…)."),
        th.Property("name", th.StringType),
        th.Property("email", th.StringType),
        th.Property("company_domain", th.StringType, description="Web domain of the customer's company, if any."),
        th.Property("status", th.StringType, description="active | churned"),
        th.Property("lifetime_value", th.StringType,
                    description="Money as the API sends it: a decimal string (staging casts it)."),
        th.Property("created_at", th.DateTimeType),
        th.Property("updated_at", th.DateTimeType, required=True),
    ).to_dict()
