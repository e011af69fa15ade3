"""The read-only pages: views, Jinja2 templates, and the stylesheet."""
