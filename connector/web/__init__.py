"""The web application: the setup wizard, the support console, and the HTTP endpoints.

A thin shell over :mod:`connector.actions`: each view parses a form, calls one action and
renders what it returns. Served by waitress (:mod:`connector.web.serve`), never Flask's own
development server.
"""
