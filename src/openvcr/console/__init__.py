"""The merchant console: people and roles (``service``), sessions and CSRF (``web``), pages (``pages``)."""
