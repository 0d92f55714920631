from rest_framework.pagination import PageNumberPagination


class PortalPagination(PageNumberPagination):
    """50 per page unless `page_size` asks for up to 200."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_paginated_response_schema(self, schema):
        """The page envelope, with examples that look like the portal's own links."""
        envelope = super().get_paginated_response_schema(schema)
        properties = envelope["properties"]
        properties["count"]["example"] = 120
        properties["next"]["example"] = "https://sla.example.com/api/v1/slas/?page=3"
        properties["previous"]["example"] = "https://sla.example.com/api/v1/slas/?page=1"
        return envelope
