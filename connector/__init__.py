"""connector: keeps a payments platform's invoices in step with Xero and QuickBooks Online."""

__version__ = "0.1.0"
