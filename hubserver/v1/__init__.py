"""The hub API under ``/v1/``: its views, request bodies, pagination and search."""
