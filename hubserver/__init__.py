"""hubserver: a local stand-in for a hosted Docker image repository hub.

``create_app(config)`` builds the Flask application; ``hubserver --help`` (or
``python -m hubserver --help``) shows the command line that serves it.
"""

from hubserver.app import create_app

__version__ = "1.0.0"
__all__ = ["__version__", "create_app"]
