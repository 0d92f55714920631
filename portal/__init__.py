"""The Django project only: settings, urls (the API routers joined there), wsgi and asgi."""
