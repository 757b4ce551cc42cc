"""The platform events API's contract: its request models, its OpenAPI document, and its reads.

The HTTP shell is :mod:`connector.web.api`; what an event does is :mod:`connector.actions.platform`.
"""
