"""Element and attribute names the official XSD (Finance.xsd) allows, per entity and for ``Line``.

QBO parses request bodies strictly: a property its schema does not know is refused with fault
2010 ("Request has invalid or unsupported property"). The sandbox needs the same names at run
time without reading the XSD, so they are copied here, built up the way the XSD's types extend
each other (IntuitEntity, Transaction, SalesTransaction);
``tests/sandbox/quickbooks/test_cli_schema.py`` checks this copy against the XSD.
"""

from __future__ import annotations

ATTRIBUTES = frozenset({"domain", "status", "sparse"})

#: IntuitEntity's elements, which every entity has.
_INTUIT_ENTITY = frozenset({"Id", "SyncToken", "MetaData", "CustomField", "AttachableRef"})
#: Transaction extends IntuitEntity.
_TRANSACTION = _INTUIT_ENTITY | {
    "DocNumber", "TxnDate", "TxnSubType", "DepartmentRef", "CurrencyRef", "ExchangeRate", "PrivateNote", "TxnStatus",
    "LinkedTxn", "Line", "TxnTaxDetail", "TxnSource", "TaxFormType", "TaxFormNum", "TransactionLocationType", "Tag",
    "TxnApprovalInfo", "RecurDataRef", "RecurringInfo", "ProjectRef", "TotalCostAmount", "HomeTotalCostAmount"
}
#: SalesTransaction extends Transaction (Invoice, CreditMemo, ...).
_SALES_TRANSACTION = _TRANSACTION | {
    "AutoDocNumber", "CustomerRef", "CustomerMemo", "BillAddr", "ShipAddr", "FreeFormAddress", "ShipFromAddr",
    "RemitToRef", "ClassRef", "SalesTermRef", "DueDate", "SalesRepRef", "PONumber", "FOB", "ShipMethodRef", "ShipDate",
    "TrackingNum", "GlobalTaxCalculation", "TotalAmt", "HomeTotalAmt", "ApplyTaxAfterDiscount",
    "ShippingTaxIncludedInTotalTax", "TemplateRef", "PrintStatus", "EmailStatus", "BillEmail", "BillEmailCc",
    "BillEmailBcc", "ARAccountRef", "Balance", "HomeBalance", "FinanceCharge", "PaymentMethodRef", "PaymentRefNum",
    "PaymentType", "CheckPayment", "CreditCardPayment", "DepositToAccountRef", "DeliveryInfo", "DiscountRate",
    "DiscountAmt", "GovtTxnRefIdentifier", "TaxExemptionRef"
}

FIELDS: dict[str, frozenset[str]] = {
    "Invoice": _SALES_TRANSACTION | {
        "Deposit", "AllowIPNPayment", "AllowOnlinePayment", "AllowOnlineCreditCardPayment", "AllowOnlineACHPayment",
        "AllowOnlinePayPalPayment", "AllowOnlineAffirmPayment", "EInvoiceStatus", "ECloudStatusTimeStamp", "CfdiUse",
        "Exportation", "GlobalInfo", "invoiceStatus", "callToAction", "invoiceStatusLog", "InvoiceEx", "LessCIS",
        "InvoiceLink", "PaymentDetailsMessage", "ConvenienceFeeDetail", "EnabledSurchargeInfo",
        "InvoiceLinkSecurityCode", "InvoiceLinkExpiryDate", "AutoPayEligible", "SchedulePayEligible",
        "ScheduledPaymentId", "GratuityEnabled", "FinancingProductType", "SubscriptionPaymentsSetting",
        "TxnRetainageDetail"
    },
    "CreditMemo": _SALES_TRANSACTION | {
        "RemainingCredit", "InvoiceRef", "CreditMemoEx"
    },
    "Payment": _TRANSACTION | {
        "CustomerRef", "RemitToRef", "ARAccountRef", "DepositToAccountRef", "PaymentMethodRef", "PaymentRefNum",
        "PaymentType", "CheckPayment", "CreditCardPayment", "TotalAmt", "UnappliedAmt", "ProcessPayment",
        "PaymentExtendedType", "PaymentEx"
    },
    "Deposit": _TRANSACTION | {
        "DepositToAccountRef", "CashBack", "GlobalTaxCalculation", "TotalAmt", "HomeTotalAmt", "DepositEx"
    },
    "Transfer": _TRANSACTION | {
        "FromAccountRef", "ToAccountRef", "Amount", "ClassRef", "TransferEx"
    },
    "Purchase": _TRANSACTION | {
        "AccountRef", "PaymentMethodRef", "PaymentRefNum", "PaymentType", "CheckPayment", "CreditCardPayment",
        "EntityRef", "Credit", "RemitToAddr", "TotalAmt", "TxnId", "TxnNum", "Memo", "PrintStatus",
        "GlobalTaxCalculation", "PurchaseEx", "LessCIS", "IncludeInAnnualTPAR"
    },
    "Account": _INTUIT_ENTITY | {
        "Name", "SubAccount", "ParentRef", "Description", "FullyQualifiedName", "AccountAlias", "TxnLocationType",
        "Active", "Classification", "AccountType", "AccountSubType", "AccountPurposes", "AcctNum", "AcctNumExtn",
        "BankNum", "OpeningBalance", "OpeningBalanceDate", "CurrentBalance", "CurrentBalanceWithSubAccounts",
        "CurrencyRef", "TaxAccount", "TaxCodeRef", "OnlineBankingEnabled", "FIName", "JournalCodeRef", "AccountEx"
    },
    "Customer": _INTUIT_ENTITY | {
        "IntuitId", "Organization", "Title", "GivenName", "MiddleName", "FamilyName", "Suffix", "FullyQualifiedName",
        "CompanyName", "DisplayName", "PrintOnCheckName", "UserId", "Active", "V4IDPseudonym", "PrimaryPhone",
        "AlternatePhone", "Mobile", "Fax", "PrimaryEmailAddr", "WebAddr", "OtherContactInfo", "DefaultTaxCodeRef",
        "Taxable", "BillAddr", "ShipAddr", "OtherAddr", "ContactName", "AltContactName", "Notes", "Job",
        "BillWithParent", "RootCustomerRef", "ParentRef", "Level", "CustomerTypeRef", "SalesTermRef", "SalesRepRef",
        "TaxGroupCodeRef", "TaxRateRef", "PaymentMethodRef", "CCDetail", "PriceLevelRef", "Balance", "OpenBalanceDate",
        "BalanceWithJobs", "CreditLimit", "AcctNum", "CurrencyRef", "OverDueBalance", "TotalRevenue", "TotalExpense",
        "PreferredDeliveryMethod", "ResaleNum", "JobInfo", "TDSEnabled", "CustomerEx", "SecondaryTaxIdentifier",
        "ARAccountRef", "PrimaryTaxIdentifier", "TaxExemptionReasonId", "IsProject", "BusinessNumber", "GSTIN",
        "GSTRegistrationType", "IsCISContractor", "ClientCompanyId", "ClientEntityId", "Source", "TaxRegime"
    },
    "Line": frozenset({
        "Id", "LineNum", "Description", "Amount", "Received", "LinkedTxn", "DetailType", "PaymentLineDetail",
        "DiscountLineDetail", "TaxLineDetail", "SalesItemLineDetail", "DescriptionLineDetail",
        "ItemBasedExpenseLineDetail", "AccountBasedExpenseLineDetail", "ReimburseLineDetail", "DepositLineDetail",
        "PurchaseOrderItemLineDetail", "SalesOrderItemLineDetail", "ItemReceiptLineDetail", "JournalEntryLineDetail",
        "GroupLineDetail", "SubTotalLineDetail", "TDSLineDetail", "ItemAdjustmentLineDetail", "CustomField", "LineEx",
        "ProjectRef", "CostAmount", "HomeCostAmount", "CustomExtensions"
    }),
}

#: Elements of the entities above typed ``xs:date`` (checked against the XSD by the tests). QBO takes
#: ``YYYY-MM-DD`` for them in a request body and in a query literal; the sandbox refuses anything else.
DATE_FIELDS = frozenset({
    "TxnDate", "DueDate", "ShipDate", "InvoiceLinkExpiryDate", "OpeningBalanceDate", "OpenBalanceDate"
})
#: Elements typed ``PhysicalAddress``: ``SELECT *`` returns them, but a query that names one in its
#: property list is refused ("Property BillAddr not found for Entity Customer", as integrators report).
ADDRESS_FIELDS = frozenset({"BillAddr", "ShipAddr", "ShipFromAddr", "OtherAddr", "RemitToAddr"})
