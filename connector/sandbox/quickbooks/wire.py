"""QBO's wire format: JSON numbers, company-local stamps, and the three error envelopes.

Out: amounts as JSON numbers without trailing zeros (QBO's Jackson writes ``337.5`` and
``75``, never ``337.50``); ``MetaData`` stamps in the company's own offset
(``2024-06-03T02:00:00-07:00``); the response ``time`` with milliseconds.

Errors come in three shapes, and clients must cope with all of them:

* ``{"Fault": {"Error": [{"Message", "Detail", "code"}], "type": "ValidationFault"}, "time"}``
  (HTTP 400, also inside a batch item with HTTP 200);
* the lower-case gateway envelope ``{"fault": {"error": [...], "type": "AUTHENTICATION"}}`` on 401;
* an XML ``IntuitResponse/Fault`` for throttling (429), whatever ``Accept`` said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import orjson


class Fragment(str):
    """Already-rendered JSON (a cached entity) to splice into a document unchanged."""


def number(value: Decimal) -> str:
    """A Decimal as QBO prints it: exact digits, trailing zeros dropped."""
    text = str(value)
    if "E" in text or "e" in text:
        text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _default(value: Any) -> Any:
    """What orjson hands back: Decimals become bare numbers, Fragments are spliced in verbatim."""
    if isinstance(value, Decimal):
        return orjson.Fragment(number(value))
    if type(value) is Fragment:
        return orjson.Fragment(str(value))
    if isinstance(value, str):  # another str subclass: its text
        return str(value)
    raise TypeError(f"{type(value).__name__} is not part of QBO's wire format")


_OPTIONS = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def dumps(document: Any) -> str:
    """Serialise with Decimals as bare numbers and Fragments spliced in verbatim (orjson: about
    five times the old marker-and-regex encoder on a 1,000-invoice page; UTF-8, not \\u escapes)."""
    return orjson.dumps(document, default=_default, option=_OPTIONS).decode()


# --- time --------------------------------------------------------------------------------------
def _offset_text(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def local_stamp(epoch: int, offset_minutes: int) -> str:
    """A whole-second stamp in company-local time with its offset (MetaData style)."""
    tz = timezone(timedelta(minutes=offset_minutes))
    return datetime.fromtimestamp(epoch, tz).strftime("%Y-%m-%dT%H:%M:%S") + _offset_text(offset_minutes)


def response_time(now: datetime, offset_minutes: int) -> str:
    """The ``time`` of a response: company-local, milliseconds, offset."""
    tz = timezone(timedelta(minutes=offset_minutes))
    local = now.astimezone(tz)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}" + _offset_text(offset_minutes)


#: What QBO reads as a point in time, in a query literal (``MetaData.LastUpdatedTime > '...'``) and in
#: CDC's ``changedSince``: an ISO date (``2015-11-28``), or a date-time to the minute or the second,
#: milliseconds at most, with ``Z``, ``-07:00`` or ``-0700`` (the form in Intuit's query docs) or no
#: offset (read in the company's zone; python-quickbooks formats datetimes that way). Refused: a space
#: for the ``T`` and more than three fraction digits, i.e. what ``str(datetime)`` and ``isoformat()``
#: give, and anything that is not a real day or time.
_STAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:?\d{2})?)?$")
#: What QBO takes for an ``xs:date`` field (TxnDate, DueDate ...) and a date literal: ``YYYY-MM-DD``,
#: a real calendar day, nothing before or after it.
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def parse_stamp(text: str, default_offset_minutes: int) -> float:
    """Epoch seconds of a QBO date-time literal; ValueError for anything QBO would refuse.

    A stamp without an offset is read in the company's own time (the SDK formats datetimes
    without one).
    """
    match = _STAMP.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"not a date-time: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if zone is None:
        offset = default_offset_minutes
    elif zone == "Z":
        offset = 0
    else:
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 14 or minutes > 59:
            raise ValueError(f"not a zone offset: {zone!r}")
        offset = hours * 60 + minutes
        offset = offset if zone[0] == "+" else -offset
    tz = timezone(timedelta(minutes=offset))
    micro = int((fraction or "0").ljust(6, "0"))
    when = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro, tz)
    return when.timestamp()


def strict_date(value: Any) -> date:
    """A ``YYYY-MM-DD`` value as a date; ValueError for anything else (``2024-6-3``, ``2024/06/03``,
    ``2024-02-30``, a date-time, a number)."""
    match = _DATE.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"not a date: {value!r}")
    return date(int(match[1]), int(match[2]), int(match[3]))


def parse_date(value: Any, name: str = "TxnDate") -> date | None:
    """An ``xs:date`` field of a request body; empty strings (the SDK's defaults) count as absent.

    QBO's JSON reader refuses what is not a date with fault 2010; the sandbox does the same for
    every form other than ``YYYY-MM-DD`` (Intuit's documented format).
    """
    if value in (None, ""):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return strict_date(value)
    except ValueError:
        raise QboError.invalid_date(value, name) from None


def epoch_ms(now: datetime) -> int:
    return int(now.astimezone(UTC).timestamp() * 1000)


# --- faults ------------------------------------------------------------------------------------
#: QBO's Detail for 610 and 2500, whatever the missing or inactive thing was.
INACTIVE_DETAIL = (
    "{} : Something you're trying to use has been made inactive. "
    "Check the fields with accounts, customers, items, vendors or employees."
)


@dataclass
class QboError(Exception):
    """A request QBO refuses; rendered as a ``Fault`` (or a batch item's Fault)."""

    code: str
    message: str
    detail: str = ""
    type: str = "ValidationFault"
    status: int = 400
    element: str | None = None

    def __post_init__(self) -> None:
        super().__init__(f"{self.code} {self.message}: {self.detail}")

    def error(self) -> dict[str, Any]:
        body: dict[str, Any] = {"Message": self.message, "Detail": self.detail, "code": self.code}
        if self.element:
            body["element"] = self.element
        return body

    def fault(self) -> dict[str, Any]:
        return {"Error": [self.error()], "type": self.type}

    # The faults QBO answers most often, with its own wording where it is known.
    @classmethod
    def stale(cls) -> QboError:
        return cls(
            "5010",
            "Stale Object Error",
            "Stale Object Error : You and Sandbox User were working on this at the same time. "
            "Sandbox User finished before you did, so your work was not saved.",
        )

    @classmethod
    def not_found(cls, kind: str = "", entity_id: str = "") -> QboError:
        """QBO's wording names neither the entity nor the Id (Intuit's SDK issue trackers quote it)."""
        return cls("610", "Object Not Found", INACTIVE_DETAIL.format("Object Not Found"))

    @classmethod
    def required(cls, param: str) -> QboError:
        return cls(
            "2020",
            "Required param missing, need to supply the required value for the API",
            f"Required parameter {param} is missing in the request",
            element=param,
        )

    @classmethod
    def invalid_reference(cls, what: str = "", value: str = "") -> QboError:
        """A reference to nothing, or to something inactive: QBO answers both alike, naming neither
        (the XML fault quoted in intuit/QuickBooks-V3-PHP-SDK issue 110)."""
        return cls("2500", "Invalid Reference Id", INACTIVE_DETAIL.format("Invalid Reference Id"))

    @classmethod
    def invalid_id(cls, value: str) -> QboError:
        return cls("2030", "Invalid ID", f"Id should be a valid number. Supplied value:{value}")

    @classmethod
    def unsupported_property(cls, name: str, kind: str) -> QboError:
        return cls(
            "2010",
            "Request has invalid or unsupported property",
            f'Property Name:Unrecognized field "{name}" (class com.intuit.schema.finance.v3.{kind}), '
            "not marked as ignorable specified is unsupported or invalid",
        )

    @classmethod
    def invalid_date(cls, value: Any, name: str) -> QboError:
        """A date field that is not ``YYYY-MM-DD`` (QBO's JSON reader fails on it: fault 2010)."""
        return cls(
            "2010",
            "Request has invalid or unsupported property",
            f"Property Name:Can not construct instance of java.util.Date from String value '{value}': "
            "not a valid representation (expected yyyy-MM-dd) specified is unsupported or invalid",
            element=name,
        )

    @classmethod
    def invalid_value(cls, value: str, what: str) -> QboError:
        return cls(
            "2010",
            "Request has invalid or unsupported property",
            f"Property Name:Can not construct instance of {what} from String value '{value}'",
        )

    @classmethod
    def business(cls, detail: str) -> QboError:
        return cls(
            "6000",
            "A business validation error has occurred while processing your request",
            f"Business Validation Error: {detail}",
        )

    @classmethod
    def duplicate_name(cls, existing_id: str) -> QboError:
        return cls("6240", "Duplicate Name Exists Error", f"The name supplied already exists. : Id={existing_id}")

    @classmethod
    def period_closed(cls) -> QboError:
        """The books are closed for the transaction's date (Intuit's error list: 6200, "Account Period
        Closed"); the Detail is the sentence integrators quote from production."""
        return cls(
            "6200",
            "Account Period Closed",
            "The account period has closed and the account books cannot be updated through the QBO "
            "Services API. Please use the QBO website to make these changes.",
        )

    @classmethod
    def deposited(cls) -> QboError:
        """A payment (or other deposited transaction) held in a Deposit: Intuit's "Top QuickBooks Online
        API errors" (developer blog, 2017) lists it as 6540."""
        return cls(
            "6540",
            "Deposited Transaction cannot be changed",
            "This transaction has been deposited. If you want to change or delete it, you must first "
            "edit the deposit it appears on and remove it.",
        )

    @classmethod
    def unsupported_operation(cls, operation: str, kind: str) -> QboError:
        return cls("500", "Unsupported Operation", f"Operation {operation} is not supported for {kind}.")

    @classmethod
    def parse_error(cls, detail: str) -> QboError:
        return cls("4000", "Error parsing query", f"QueryParserError: {detail}")

    @classmethod
    def invalid_query(cls, detail: str) -> QboError:
        return cls("4001", "Invalid query", f"QueryValidationError: {detail}")

    @classmethod
    def invalid_context(cls, entity: str) -> QboError:
        """``FROM`` names no entity QBO knows (wording as production answers it for ``FROM Check``)."""
        return cls.invalid_query(f"invalid context declaration: {entity}")

    @classmethod
    def property_not_found(cls, prop: str, entity: str) -> QboError:
        """A property the entity does not have, or one QBO will not select (an address)."""
        return cls.invalid_query(f"Property {prop} not found for Entity {entity}")

    @classmethod
    def system(cls, detail: str = "") -> QboError:
        return cls(
            "10000",
            "An application error has occurred while processing your request",
            detail or "System Failure Error: An unexpected error occurred while accessing or saving your data.",
            type="SystemFault",
            status=500,
        )


def fault_document(error: QboError, time_text: str) -> dict[str, Any]:
    return {"Fault": error.fault(), "time": time_text}


def auth_fault_document(detail: str, now: datetime) -> dict[str, Any]:
    """The lower-case envelope the gateway answers a bad or expired token with (HTTP 401)."""
    return {
        "warnings": None,
        "intuitObject": None,
        "fault": {
            "error": [
                {
                    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                    "detail": detail,
                    "code": "3200",
                    "element": None,
                }
            ],
            "type": "AUTHENTICATION",
        },
        "report": None,
        "queryResponse": None,
        "batchItemResponse": [],
        "attachableResponse": [],
        "syncErrorResponse": None,
        "requestId": None,
        "time": epoch_ms(now),
        "status": None,
        "cdcresponse": [],
    }


WWW_AUTHENTICATE = 'Bearer realm="Intuit", error="invalid_token"'


def throttle_xml(time_text: str, status: int = 429) -> bytes:
    """The throttling answer: XML even when JSON was asked for (python-quickbooks issue #43)."""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<IntuitResponse time="{time_text}" xmlns="http://schema.intuit.com/finance/v3">'
        '<Fault type="SERVICE"><Error code="3001">'
        f"<Message>message=ThrottleExceeded; errorCode=003001; statusCode={status}</Message>"
        "<Detail>The request limit was reached.  Try again later</Detail>"
        "</Error></Fault></IntuitResponse>"
    ).encode()


MAINTENANCE_HTML = (
    b"<html><head><title>503 Service Temporarily Unavailable</title></head><body>"
    b"<center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)
