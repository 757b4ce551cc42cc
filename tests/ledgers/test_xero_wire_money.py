"""Reading Xero's Organisation and Bank Summary bodies: time zones as IANA names, balances exact."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import yaml

from connector.ledgers.records import OrganisationFacts
from connector.ledgers.xero_wire import WireError, bank_summary_closing, iana_timezone, parse_organisation
from tests.sandbox.xero.spec_check import SPEC_DIR


def xero_time_zones() -> list[str]:
    with (SPEC_DIR / "xero_accounting.yaml").open() as fh:
        spec = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return list(spec["components"]["schemas"]["TimeZone"]["enum"])


def test_every_xero_time_zone_has_an_iana_name() -> None:
    names = xero_time_zones()
    assert len(names) > 100
    for name in names:
        zone = iana_timezone(name)
        assert zone is not None, name
        ZoneInfo(zone)  # a real zone in the tz database


@pytest.mark.parametrize(
    ("xero", "iana"),
    [
        ("NEWZEALANDSTANDARDTIME", "Pacific/Auckland"),
        ("PACIFICSTANDARDTIME", "America/Los_Angeles"),
        ("EASTERNSTANDARDTIME", "America/New_York"),
        ("GMTSTANDARDTIME", "Europe/London"),
        ("AUSEASTERNSTANDARDTIME", "Australia/Sydney"),
        ("CENAUSTRALIASTANDARDTIME", "Australia/Adelaide"),
        ("UTC02", "Etc/GMT+2"),
        ("UTC", "Etc/UTC"),
    ],
)
def test_known_names(xero: str, iana: str) -> None:
    assert iana_timezone(xero) == iana


def test_unknown_or_missing_names_give_none() -> None:
    assert iana_timezone("MARSSTANDARDTIME") is None
    assert iana_timezone(None) is None


def test_parse_organisation() -> None:
    body = {"Organisations": [{"BaseCurrency": "NZD", "Timezone": "NEWZEALANDSTANDARDTIME"}]}
    assert parse_organisation(body) == OrganisationFacts("NZD", "Pacific/Auckland")
    assert parse_organisation({"Organisations": [{"BaseCurrency": "USD"}]}) == OrganisationFacts("USD", None)
    with pytest.raises(WireError):
        parse_organisation({"Organisations": []})


def _summary(account_id: str, closing: str) -> dict:
    return {
        "Reports": [
            {
                "Rows": [
                    {"RowType": "Header", "Cells": [{"Value": "Bank Accounts"}]},
                    {
                        "RowType": "Section",
                        "Rows": [
                            {
                                "RowType": "Row",
                                "Cells": [
                                    {"Value": "Clearing", "Attributes": [{"Id": "accountID", "Value": account_id}]},
                                    {"Value": "0.00"},
                                    {"Value": "10.00"},
                                    {"Value": "2.50"},
                                    {"Value": closing},
                                ],
                            }
                        ],
                    },
                ]
            }
        ]
    }


def test_bank_summary_closing_balance() -> None:
    body = _summary("ABC", "-7.50")
    assert bank_summary_closing(body, "abc") == Decimal("-7.50")
    with pytest.raises(WireError):
        bank_summary_closing(body, "other")
    with pytest.raises(WireError):
        bank_summary_closing({"Reports": []}, "abc")
