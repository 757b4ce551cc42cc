"""Local ledger servers that speak the Xero and QuickBooks Online wire formats.

The sandbox stands for the outside world: it imports nothing from the rest of
``connector`` so that nothing the connector believes can leak into what the
"ledger" answers.
"""
