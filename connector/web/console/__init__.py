"""The support console: dashboard, invoices and their timelines, queues, sync runs, reconciliation.

Registered by the app factory (``connector.web.app``) as the ``console`` blueprint. Every page
names the role it needs (viewers read; support and admins act), every action is a confirmed POST
through ``connector.actions``, and every page reads through one ``connector.reports`` function.
"""

from connector.web.console import pages, queues, runs
from connector.web.console.common import bp

__all__ = ["bp", "pages", "queues", "runs"]
