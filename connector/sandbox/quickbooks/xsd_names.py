"""Element and attribute names the official XSD (Finance.xsd) allows, per entity and for ``Line``.

QBO parses request bodies strictly: a property its schema does not know is refused with fault
2010 ("Request has invalid or unsupported property"). The sandbox needs the same names at run
time without reading the XSD (it lives outside the package), so they are copied here;
``tests/sandbox/quickbooks/test_schema_names.py`` checks this copy against the XSD.
"""

from __future__ import annotations

ATTRIBUTES = frozenset({"domain", "status", "sparse"})

FIELDS: dict[str, frozenset[str]] = {
    "Invoice": frozenset({
        "Id", "SyncToken", "MetaData", "CustomField", "AttachableRef", "DocNumber", "TxnDate", "TxnSubType",
        "DepartmentRef", "CurrencyRef", "ExchangeRate", "PrivateNote", "TxnStatus", "LinkedTxn", "Line",
        "TxnTaxDetail", "TxnSource", "TaxFormType", "TaxFormNum", "TransactionLocationType", "Tag",
        "TxnApprovalInfo", "RecurDataRef", "RecurringInfo", "ProjectRef", "TotalCostAmount",
        "HomeTotalCostAmount", "AutoDocNumber", "CustomerRef", "CustomerMemo", "BillAddr", "ShipAddr",
        "FreeFormAddress", "ShipFromAddr", "RemitToRef", "ClassRef", "SalesTermRef", "DueDate",
        "SalesRepRef", "PONumber", "FOB", "ShipMethodRef", "ShipDate", "TrackingNum",
        "GlobalTaxCalculation", "TotalAmt", "HomeTotalAmt", "ApplyTaxAfterDiscount",
        "ShippingTaxIncludedInTotalTax", "TemplateRef", "PrintStatus", "EmailStatus", "BillEmail",
        "BillEmailCc", "BillEmailBcc", "ARAccountRef", "Balance", "HomeBalance", "FinanceCharge",
        "PaymentMethodRef", "PaymentRefNum", "PaymentType", "CheckPayment", "CreditCardPayment",
        "DepositToAccountRef", "DeliveryInfo", "DiscountRate", "DiscountAmt", "GovtTxnRefIdentifier",
        "TaxExemptionRef", "Deposit", "AllowIPNPayment", "AllowOnlinePayment",
        "AllowOnlineCreditCardPayment", "AllowOnlineACHPayment", "AllowOnlinePayPalPayment",
        "AllowOnlineAffirmPayment", "EInvoiceStatus", "ECloudStatusTimeStamp", "CfdiUse", "Exportation",
        "GlobalInfo", "invoiceStatus", "callToAction", "invoiceStatusLog", "InvoiceEx", "LessCIS",
        "InvoiceLink", "PaymentDetailsMessage", "ConvenienceFeeDetail", "EnabledSurchargeInfo",
        "InvoiceLinkSecurityCode", "InvoiceLinkExpiryDate", "AutoPayEligible", "SchedulePayEligible",
        "ScheduledPaymentId", "GratuityEnabled", "FinancingProductType", "SubscriptionPaymentsSetting",
        "TxnRetainageDetail"
    }),
    "CreditMemo": frozenset({
        "Id", "SyncToken", "MetaData", "CustomField", "AttachableRef", "DocNumber", "TxnDate", "TxnSubType",
        "DepartmentRef", "CurrencyRef", "ExchangeRate", "PrivateNote", "TxnStatus", "LinkedTxn", "Line",
        "TxnTaxDetail", "TxnSource", "TaxFormType", "TaxFormNum", "TransactionLocationType", "Tag",
        "TxnApprovalInfo", "RecurDataRef", "RecurringInfo", "ProjectRef", "TotalCostAmount",
        "HomeTotalCostAmount", "AutoDocNumber", "CustomerRef", "CustomerMemo", "BillAddr", "ShipAddr",
        "FreeFormAddress", "ShipFromAddr", "RemitToRef", "ClassRef", "SalesTermRef", "DueDate",
        "SalesRepRef", "PONumber", "FOB", "ShipMethodRef", "ShipDate", "TrackingNum",
        "GlobalTaxCalculation", "TotalAmt", "HomeTotalAmt", "ApplyTaxAfterDiscount",
        "ShippingTaxIncludedInTotalTax", "TemplateRef", "PrintStatus", "EmailStatus", "BillEmail",
        "BillEmailCc", "BillEmailBcc", "ARAccountRef", "Balance", "HomeBalance", "FinanceCharge",
        "PaymentMethodRef", "PaymentRefNum", "PaymentType", "CheckPayment", "CreditCardPayment",
        "DepositToAccountRef", "DeliveryInfo", "DiscountRate", "DiscountAmt", "GovtTxnRefIdentifier",
        "TaxExemptionRef", "RemainingCredit", "InvoiceRef", "CreditMemoEx"
    }),
    "Payment": frozenset({
        "Id", "SyncToken", "MetaData", "CustomField", "AttachableRef", "DocNumber", "TxnDate", "TxnSubType",
        "DepartmentRef", "CurrencyRef", "ExchangeRate", "PrivateNote", "TxnStatus", "LinkedTxn", "Line",
        "TxnTaxDetail", "TxnSource", "TaxFormType", "TaxFormNum", "TransactionLocationType", "Tag",
        "TxnApprovalInfo", "RecurDataRef", "RecurringInfo", "ProjectRef", "TotalCostAmount",
        "HomeTotalCostAmount", "CustomerRef", "RemitToRef", "ARAccountRef", "DepositToAccountRef",
        "PaymentMethodRef", "PaymentRefNum", "PaymentType", "CheckPayment", "CreditCardPayment", "TotalAmt",
        "UnappliedAmt", "ProcessPayment", "PaymentExtendedType", "PaymentEx"
    }),
    "Deposit": frozenset({
        "Id", "SyncToken", "MetaData", "CustomField", "AttachableRef", "DocNumber", "TxnDate", "TxnSubType",
        "DepartmentRef", "CurrencyRef", "ExchangeRate", "PrivateNote", "TxnStatus", "LinkedTxn", "Line",
        "TxnTaxDetail", "TxnSource", "TaxFormType", "TaxFormNum", "TransactionLocationType", "Tag",
        "TxnApprovalInfo", "RecurDataRef", "RecurringInfo", "ProjectRef", "TotalCostAmount",
        "HomeTotalCostAmount", "DepositToAccountRef", "CashBack", "GlobalTaxCalculation", "TotalAmt",
        "HomeTotalAmt", "DepositEx"
    }),
    "Transfer": frozenset({
        "Id", "SyncToken", "MetaData", "CustomField", "AttachableRef", "DocNumber", "TxnDate", "TxnSubType",
        "DepartmentRef", "CurrencyRef", "ExchangeRate", "PrivateNote", "TxnStatus", "LinkedTxn", "Line",
        "TxnTaxDetail", "TxnSource", "TaxFormType", "TaxFormNum", "TransactionLocationType", "Tag",
        "TxnApprovalInfo", "RecurDataRef", "RecurringInfo", "ProjectRef", "TotalCostAmount",
        "HomeTotalCostAmount", "FromAccountRef", "ToAccountRef", "Amount", "ClassRef", "TransferEx"
    }),
    "Purchase": frozenset({
        "Id", "SyncToken", "MetaData", "CustomField", "AttachableRef", "DocNumber", "TxnDate", "TxnSubType",
        "DepartmentRef", "CurrencyRef", "ExchangeRate", "PrivateNote", "TxnStatus", "LinkedTxn", "Line",
        "TxnTaxDetail", "TxnSource", "TaxFormType", "TaxFormNum", "TransactionLocationType", "Tag",
        "TxnApprovalInfo", "RecurDataRef", "RecurringInfo", "ProjectRef", "TotalCostAmount",
        "HomeTotalCostAmount", "AccountRef", "PaymentMethodRef", "PaymentRefNum", "PaymentType",
        "CheckPayment", "CreditCardPayment", "EntityRef", "Credit", "RemitToAddr", "TotalAmt", "TxnId",
        "TxnNum", "Memo", "PrintStatus", "GlobalTaxCalculation", "PurchaseEx", "LessCIS",
        "IncludeInAnnualTPAR"
    }),
    "Account": frozenset({
        "Id", "SyncToken", "MetaData", "CustomField", "AttachableRef", "Name", "SubAccount", "ParentRef",
        "Description", "FullyQualifiedName", "AccountAlias", "TxnLocationType", "Active", "Classification",
        "AccountType", "AccountSubType", "AccountPurposes", "AcctNum", "AcctNumExtn", "BankNum",
        "OpeningBalance", "OpeningBalanceDate", "CurrentBalance", "CurrentBalanceWithSubAccounts",
        "CurrencyRef", "TaxAccount", "TaxCodeRef", "OnlineBankingEnabled", "FIName", "JournalCodeRef",
        "AccountEx"
    }),
    "Customer": frozenset({
        "Id", "SyncToken", "MetaData", "CustomField", "AttachableRef", "IntuitId", "Organization", "Title",
        "GivenName", "MiddleName", "FamilyName", "Suffix", "FullyQualifiedName", "CompanyName",
        "DisplayName", "PrintOnCheckName", "UserId", "Active", "V4IDPseudonym", "PrimaryPhone",
        "AlternatePhone", "Mobile", "Fax", "PrimaryEmailAddr", "WebAddr", "OtherContactInfo",
        "DefaultTaxCodeRef", "Taxable", "BillAddr", "ShipAddr", "OtherAddr", "ContactName",
        "AltContactName", "Notes", "Job", "BillWithParent", "RootCustomerRef", "ParentRef", "Level",
        "CustomerTypeRef", "SalesTermRef", "SalesRepRef", "TaxGroupCodeRef", "TaxRateRef",
        "PaymentMethodRef", "CCDetail", "PriceLevelRef", "Balance", "OpenBalanceDate", "BalanceWithJobs",
        "CreditLimit", "AcctNum", "CurrencyRef", "OverDueBalance", "TotalRevenue", "TotalExpense",
        "PreferredDeliveryMethod", "ResaleNum", "JobInfo", "TDSEnabled", "CustomerEx",
        "SecondaryTaxIdentifier", "ARAccountRef", "PrimaryTaxIdentifier", "TaxExemptionReasonId",
        "IsProject", "BusinessNumber", "GSTIN", "GSTRegistrationType", "IsCISContractor", "ClientCompanyId",
        "ClientEntityId", "Source", "TaxRegime"
    }),
    "Line": frozenset({
        "Id", "LineNum", "Description", "Amount", "Received", "LinkedTxn", "DetailType",
        "PaymentLineDetail", "DiscountLineDetail", "TaxLineDetail", "SalesItemLineDetail",
        "DescriptionLineDetail", "ItemBasedExpenseLineDetail", "AccountBasedExpenseLineDetail",
        "ReimburseLineDetail", "DepositLineDetail", "PurchaseOrderItemLineDetail",
        "SalesOrderItemLineDetail", "ItemReceiptLineDetail", "JournalEntryLineDetail", "GroupLineDetail",
        "SubTotalLineDetail", "TDSLineDetail", "ItemAdjustmentLineDetail", "CustomField", "LineEx",
        "ProjectRef", "CostAmount", "HomeCostAmount", "CustomExtensions"
    }),
}
