"""The API's OpenAPI 3.1 document, built from the same pydantic models that validate requests,
so the published contract cannot drift from what the server accepts."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic.json_schema import models_json_schema

from connector.domain import InvoiceStatus
from connector.platform_api import schema

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["error", "message"],
            "properties": {
                "error": {
                    "type": "string",
                    "description": "not_found | invalid | refused | unauthorized | in_progress",
                },
                "message": {"type": "string"},
                "field": {"type": ["string", "null"], "description": "the input at fault, as a JSON path"},
            },
        },
        "id": {"type": ["string", "null"]},
        "kind": {"type": "string"},
    },
}
_OUTCOME = {
    "type": "object",
    "required": ["invoice_id", "number", "outcome", "from_status", "accepted"],
    "properties": {
        "invoice_id": {"type": "integer"},
        "number": {"type": "string"},
        "outcome": {"type": "string", "description": "transition | no_change | conflict | refused | resolved"},
        "from_status": {"type": "string"},
        "to_status": {"type": ["string", "null"]},
        "message": {"type": "string"},
        "accepted": {"type": "boolean"},
    },
}
_RESULT = {
    "type": "object",
    "properties": {
        "id": {"type": ["string", "null"]},
        "kind": {"type": "string"},
        "invoices": {"type": "array", "items": {"$ref": "#/components/schemas/Outcome"}},
        "payout": {"type": "object"},
        "error": _ERROR["properties"]["error"],
        "status": {"type": "integer", "description": "this event's own HTTP status (in a batch)"},
    },
}
_SUMMARY = {
    "type": "object",
    "required": ["id", "number", "status", "currency", "total", "amount_due", "updated_at"],
    "properties": {
        "id": {"type": "integer"},
        "number": {"type": "string"},
        "connection_id": {"type": ["integer", "null"]},
        "external_id": {"type": ["string", "null"]},
        "status": {"type": "string", "enum": [s.value for s in InvoiceStatus]},
        "currency": {"type": "string"},
        "total": {"type": "string"},
        "amount_due": {"type": "string"},
        "due_date": {"type": ["string", "null"], "format": "date"},
        "collection_date": {"type": ["string", "null"], "format": "date"},
        "needs_attention": {"type": "boolean"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}


#: Ids are 32-bit on every database the connector runs on.
MAX_ID = 2**31 - 1


def _errors(*codes: int) -> dict[str, Any]:
    words = {
        401: "missing, malformed or wrong signature, or a timestamp outside the replay window",
        404: "no such invoice",
        409: "the status table refused the event (the reason is in the body), or the same key is still running",
        413: "the body is too large",
        422: "the body does not validate: error.field names the field",
    }
    return {
        str(c): {
            "description": words[c],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for c in codes
    }


@cache
def document() -> dict[str, Any]:
    _, defs = models_json_schema(
        [(m, "validation") for m in (*schema.EVENT_MODELS, schema.Batch)],
        ref_template="#/components/schemas/{model}",
    )
    components = dict(defs.get("$defs", {}))
    one_event = {
        "oneOf": [{"$ref": f"#/components/schemas/{m.__name__}"} for m in schema.EVENT_MODELS],
        "discriminator": {"propertyName": "kind"},
    }
    components.update(
        Event=one_event,
        Error=_ERROR,
        Outcome=_OUTCOME,
        Result=_RESULT,
        InvoiceSummary=_SUMMARY,
        Batch=components["Batch"],
    )
    signed = [{"signature": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Connector platform events API",
            "version": "1.0.0",
            "description": (
                "The payments platform tells the connector what happened. Every request is signed: "
                '`X-Connector-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with the '
                "account's shared secret, within 5 minutes of the connector's clock. Events are idempotent by "
                "their `id`, requests by the `Idempotency-Key` header: a retry answers the first result. "
                "A batch is answered per event (each applied on its own); a batch that does not validate is "
                "refused whole, before anything is applied."
            ),
        },
        "components": {
            "schemas": components,
            "securitySchemes": {"signature": {"type": "apiKey", "in": "header", "name": "X-Connector-Signature"}},
        },
        "security": signed,
        "paths": {
            "/api/v1/events": {
                "post": {
                    "operationId": "postEvents",
                    "summary": "Report one event, or a batch of them",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/Event"},
                                        {"$ref": "#/components/schemas/Batch"},
                                    ]
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "applied (one event), or each event's result (a batch)",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "anyOf": [
                                            {"$ref": "#/components/schemas/Result"},
                                            {
                                                "type": "object",
                                                "required": ["results"],
                                                "properties": {
                                                    "results": {
                                                        "type": "array",
                                                        "items": {"$ref": "#/components/schemas/Result"},
                                                    }
                                                },
                                            },
                                        ]
                                    }
                                }
                            },
                        },
                        **_errors(401, 404, 409, 413, 422),
                    },
                }
            },
            "/api/v1/invoices": {
                "get": {
                    "operationId": "listInvoices",
                    "summary": "Invoices, oldest change first, optionally by status and changed since a time",
                    "parameters": [
                        {
                            "name": "status",
                            "in": "query",
                            "schema": {"type": "string", "enum": [s.value for s in InvoiceStatus]},
                        },
                        {"name": "updated_since", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                        {
                            "name": "after",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "the `next` cursor of the previous page",
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "a page",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["invoices", "next"],
                                        "properties": {
                                            "invoices": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/InvoiceSummary"},
                                            },
                                            "next": {"type": ["string", "null"]},
                                        },
                                    }
                                }
                            },
                        },
                        **_errors(401, 422),
                    },
                }
            },
            "/api/v1/invoices/{invoice_id}": {
                "get": {
                    "operationId": "getInvoice",
                    "summary": "One invoice, with its activity timeline",
                    "parameters": [
                        {
                            "name": "invoice_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "the invoice and its timeline",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["invoice", "events"],
                                        "properties": {
                                            "invoice": {"type": "object"},
                                            "events": {"type": "array", "items": {"type": "object"}},
                                        },
                                    }
                                }
                            },
                        },
                        **_errors(401, 404),
                    },
                }
            },
        },
    }
