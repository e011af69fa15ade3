"""The test-double controls under ``/_hub/``: their views, the request journal, the fault rules, their schemas."""
