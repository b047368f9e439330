"""The OpenAPI 3.0 document served at /api/v1/openapi.json, built from the catalog.

It describes exactly the served endpoints; the request schema takes its resource types and
filters from the catalog in use, so the document and the validation cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from api.exports import IDEMPOTENCY_KEY_PATTERN, QUEUED_MESSAGE
from api.listing import DEFAULT_LIMIT, MAX_LIMIT
from streamexport_core.catalog import Catalog, Filter, Resource
from streamexport_core.contract import FORMATS, PHASES
from streamexport_core.filters import MAX_TEXT_FILTER_LENGTH
from streamexport_core.options import COMPRESSIONS, DEFAULT_TIME_ZONE, MAX_TIME_ZONE_LENGTH
from streamexport_core.webhooks import MAX_URL_LENGTH, URL_PATTERN

Schema = dict[str, Any]

_NULLABLE_STRING: Schema = {"type": "string", "nullable": True}
_NULLABLE_TIME: Schema = {"type": "string", "format": "date-time", "nullable": True}
_NULLABLE_COUNT: Schema = {"type": "integer", "minimum": 0, "nullable": True}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _filter_schema(spec: Filter) -> Schema:
    if spec.type == "date":
        schema: Schema = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
    elif spec.type == "enum":
        schema = {"type": "string", "enum": list(spec.values or ())}
    elif spec.type == "integer":
        schema = {"type": "integer", "minimum": -(2**63) + 1, "maximum": 2**63 - 1}
    else:
        schema = {"type": "string", "maxLength": MAX_TEXT_FILTER_LENGTH}
    operator = {"dateFrom": "on or after this UTC day", "dateTo": "on or before this UTC day"}
    schema["description"] = f"{spec.column} {operator.get(spec.operator, 'equal to this')}."
    return schema


def _filters_schema(resource: Resource) -> Schema:
    return {
        "type": "object",
        "title": f"{resource.resource_type} filters",
        "additionalProperties": False,
        "properties": {name: _filter_schema(spec) for name, spec in resource.filters.items()},
    }


def _schemas(catalog: Catalog) -> dict[str, Schema]:
    resources = [catalog.get(name) for name in catalog.resource_types]
    filters: Schema = (
        _filters_schema(resources[0])
        if len(resources) == 1
        else {"anyOf": [_filters_schema(r) for r in resources]}
    )
    filters["description"] = (
        "Filters of the resource type (null or absent: none); a date range must not end"
        " before it starts."
    )
    filters["nullable"] = True
    return {
        "CreateExportRequest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["resourceType", "format"],
            "properties": {
                "resourceType": {"type": "string", "enum": catalog.resource_types},
                "format": {
                    "type": "string",
                    "description": f"{', '.join(FORMATS)}, in any letter case; answered"
                    " lower-case.",
                    "pattern": _any_case(FORMATS),
                },
                "filters": filters,
                **_option_schemas(resources),
            },
        },
        "ExportAccepted": {
            "type": "object",
            "required": ["exportId", "status", "estimatedRowCount", "format", "message"],
            "properties": {
                "exportId": {"type": "string", "format": "uuid"},
                "status": {"type": "string", "enum": ["QUEUED"]},
                "estimatedRowCount": {"type": "integer", "minimum": 0},
                "format": {"type": "string", "enum": list(FORMATS)},
                "message": {"type": "string", "example": QUEUED_MESSAGE},
            },
        },
        "Export": _export_schema(),
        "ExportList": {
            "type": "object",
            "required": ["items", "continue"],
            "properties": {
                "items": {"type": "array", "items": _ref("Export"), "maxItems": MAX_LIMIT},
                "continue": {
                    **_NULLABLE_STRING,
                    "description": "Pass as `continue` for the next page; null on the last.",
                },
            },
        },
        "Error": {
            "type": "object",
            "required": ["statusCode", "message", "error"],
            "properties": {
                "statusCode": {"type": "integer"},
                "message": {
                    "oneOf": [
                        {"type": "string"},
                        {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    ],
                    "description": "For 400: one `<field> <reason>` per problem.",
                },
                "error": {"type": "string", "example": "Bad Request"},
            },
        },
        "Health": {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"type": "string", "enum": ["ok"]}},
        },
        "Readiness": {
            "type": "object",
            "required": ["checks"],
            "properties": {
                "status": {"type": "string", "enum": ["ok"]},
                "statusCode": {"type": "integer", "enum": [503]},
                "message": {"type": "string"},
                "error": {"type": "string"},
                "checks": {
                    "type": "object",
                    "required": ["database", "kubernetes"],
                    "properties": {
                        "database": {"type": "string", "enum": ["ok", "unavailable"]},
                        "kubernetes": {"type": "string", "enum": ["ok", "unavailable"]},
                        # The export list: listed and watching (ok), or not yet/any more.
                        "exportCache": {"type": "string", "enum": ["ok", "syncing"]},
                    },
                },
            },
        },
    }


def _any_case(words: tuple[str, ...]) -> str:
    """A pattern matching each of `words` in any letter case (`csv` -> `[cC][sS][vV]`)."""
    spelled = ("".join(f"[{c.lower()}{c.upper()}]" for c in word) for word in words)
    return "^(" + "|".join(spelled) + ")$"


def _option_schemas(resources: list[Resource]) -> dict[str, Schema]:
    """The request's options (streamexport_core.options); null or absent: the default."""
    names = list(dict.fromkeys(c.name for r in resources for c in r.columns))
    return {
        "columns": {
            "type": "array",
            "nullable": True,
            "minItems": 1,
            "uniqueItems": True,
            "items": {"type": "string", "enum": names},
            "description": "Column names of the resource type, in the file's order (null or"
            " absent: every column, catalog order). Unknown or repeated names are a 400.",
        },
        "compression": {
            "type": "string",
            "nullable": True,
            "enum": list(COMPRESSIONS),
            "description": "gzip for csv and jsonl (the file gets .gz, Content-Type"
            " application/gzip); xlsx is compressed anyway. Default none.",
        },
        "csvBom": {
            "type": "boolean",
            "nullable": True,
            "description": "Start the CSV with a UTF-8 byte order mark (for Excel); csv only.",
        },
        "notify": {
            "type": "object",
            "nullable": True,
            "additionalProperties": False,
            "description": "Where the end of the export is announced besides the email.",
            "properties": {
                "webhookUrl": {
                    "type": "string",
                    "nullable": True,
                    "maxLength": MAX_URL_LENGTH,
                    "pattern": URL_PATTERN,
                    "description": "An http(s) URL that receives one signed POST when the"
                    " export ends (COMPLETED, FAILED or CANCELLED), retried until it answers"
                    " 2xx: the export's GET body without URLs, plus `eventId` (the same on"
                    " every retry) and `type` (`export.completed`, `export.failed`,"
                    " `export.cancelled`); header `Streamexport-Signature: t=<unix"
                    " seconds>,v1=<hex HMAC-SHA256 over `t.body`>`. Its host must be on the"
                    " installation's allow-list (none by default): otherwise a 400.",
                    "example": "https://hooks.example.com/streamexport",
                },
            },
        },
        "timeZone": {
            "type": "string",
            "nullable": True,
            "minLength": 1,
            "maxLength": MAX_TIME_ZONE_LENGTH,
            "pattern": r"^[A-Za-z][A-Za-z0-9_+/-]*$",
            "description": f"IANA zone the timestamps are rendered in (default"
            f" {DEFAULT_TIME_ZONE}); date filters always mean whole UTC days.",
            "example": "Europe/Berlin",
        },
    }


_SCOPE: Schema = {
    "type": "object",
    "nullable": True,
    "description": "Whose rows the export holds, resolved from the requester's token when"
    " it was created (null: the resource is open to every user). `unrestricted`: an admin"
    " export of every row (ADMIN_UNSCOPED_RESOURCES).",
    "required": ["column", "claim"],
    "properties": {
        "column": {"type": "string"},
        "claim": {"type": "string"},
        "values": {
            "type": "array",
            "items": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
            "minItems": 1,
        },
        "unrestricted": {"type": "boolean"},
    },
}


def _export_schema() -> Schema:
    return {
        "type": "object",
        "required": [
            "id",
            "resourceType",
            "status",
            "format",
            "filters",
            "scope",
            "columns",
            "compression",
            "csvBom",
            "timeZone",
            "notify",
            "progressPercentage",
            "estimatedRowCount",
            "actualRowCount",
            "fileSizeBytes",
            "downloadUrl",
            "downloadUrlExpiresAt",
            "createdAt",
            "startedAt",
            "completedAt",
            "expiresAt",
            "cancelRequestedAt",
            "failureReason",
            "failureMessage",
        ],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "resourceType": {"type": "string"},
            "status": {
                "type": "string",
                "enum": list(PHASES),
                "description": "QUEUED until the operator has picked the export up.",
            },
            "format": {"type": "string", "enum": list(FORMATS)},
            "filters": {"type": "object"},
            "scope": _SCOPE,
            "columns": {
                "type": "array",
                "nullable": True,
                "items": {"type": "string"},
                "description": "The requested columns; null: every column.",
            },
            "compression": {"type": "string", "enum": list(COMPRESSIONS)},
            "csvBom": {"type": "boolean"},
            "timeZone": {"type": "string"},
            "notify": {
                "type": "object",
                "required": ["webhookUrl"],
                "properties": {"webhookUrl": _NULLABLE_STRING},
                "description": "The requested webhook (null: none).",
            },
            "progressPercentage": {**_NULLABLE_COUNT, "maximum": 100},
            "estimatedRowCount": {"type": "integer", "minimum": 0},
            "actualRowCount": _NULLABLE_COUNT,
            "fileSizeBytes": _NULLABLE_COUNT,
            "downloadUrl": {
                **_NULLABLE_STRING,
                "description": "A fresh pre-signed URL on every GET of a COMPLETED export;"
                " always null in lists.",
            },
            "downloadUrlExpiresAt": _NULLABLE_TIME,
            "createdAt": _NULLABLE_TIME,
            "startedAt": _NULLABLE_TIME,
            "completedAt": _NULLABLE_TIME,
            "expiresAt": {**_NULLABLE_TIME, "description": "After this the GET is a 410 Gone."},
            "cancelRequestedAt": _NULLABLE_TIME,
            "failureReason": {
                **_NULLABLE_STRING,
                "description": "For FAILED or CANCELLED, e.g. OOMKilled, DeadlineExceeded.",
            },
            "failureMessage": _NULLABLE_STRING,
        },
    }


def _json(schema: str, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _errors(*statuses: int) -> dict[str, Schema]:
    described = {
        400: "Invalid input: every bad field is named in `message`.",
        401: "Missing, malformed, badly signed or expired bearer token.",
        403: "The resource is scoped by a token claim that the token lacks, or a filter"
        " names rows the claim does not grant.",
        404: "No such export, or one that belongs to another user.",
        409: "The export has already finished.",
        410: "The export's file has expired.",
        413: "The request body is too large.",
        415: "The request body is not `application/json`.",
        422: "Too many rows for one export, or an Idempotency-Key reused with another body.",
        503: "The database or the Kubernetes API is unavailable, or the count timed out.",
    }
    responses = {str(status): _json("Error", described[status]) for status in statuses}
    if 401 in statuses:
        responses["401"]["headers"] = {
            "WWW-Authenticate": {"schema": {"type": "string"}, "required": True}
        }
    return responses


_EXPORT_ID = {
    "name": "exportId",
    "in": "path",
    "required": True,
    "description": "The export's id; anything that is not a UUID is a 404.",
    "schema": {"type": "string", "format": "uuid"},
}
_PUBLIC: list[Any] = []


def openapi_document(catalog: Catalog) -> dict[str, Any]:
    """The whole document for this catalog."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "streamexport API",
            "version": "1.0.0",
            "description": "Export PostgreSQL query results to CSV, XLSX, JSON Lines or"
            " Parquet files in S3.",
        },
        "security": [{"bearerAuth": []}],
        "paths": {
            "/api/v1/exports": {
                "post": {
                    "operationId": "createExport",
                    "summary": "Count the rows and queue an export",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": "Repeats with the same key (per user, 24 h) return"
                            " the original export instead of creating another.",
                            "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("CreateExportRequest")}},
                    },
                    "responses": {
                        "202": {
                            **_json("ExportAccepted", "Queued (or the keyed original)."),
                            "headers": {
                                "Location": {"schema": {"type": "string"}, "required": True}
                            },
                        },
                        **_errors(400, 401, 403, 413, 415, 422, 503),
                    },
                },
                "get": {
                    "operationId": "listExports",
                    "summary": "The caller's exports (all for SUPER_ADMIN), newest first",
                    "parameters": [
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": MAX_LIMIT,
                                "default": DEFAULT_LIMIT,
                            },
                        },
                        {
                            "name": "continue",
                            "in": "query",
                            "description": "The `continue` token of the previous page.",
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "status",
                            "in": "query",
                            "schema": {"type": "string", "enum": list(PHASES)},
                        },
                    ],
                    "responses": {
                        "200": _json("ExportList", "One page of exports."),
                        **_errors(400, 401, 503),
                    },
                },
            },
            "/api/v1/exports/{exportId}": {
                "parameters": [_EXPORT_ID],
                "get": {
                    "operationId": "getExport",
                    "summary": "An export's state and, when COMPLETED, a fresh download URL",
                    "responses": {
                        "200": _json("Export", "The export."),
                        **_errors(401, 404, 410, 503),
                    },
                },
                "delete": {
                    "operationId": "cancelExport",
                    "summary": "Ask the operator to cancel an export",
                    "responses": {
                        "202": _json("Export", "Cancellation requested."),
                        **_errors(401, 404, 409, 503),
                    },
                },
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "security": _PUBLIC,
                    "responses": {
                        "200": {
                            "description": "This document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "healthz",
                    "security": _PUBLIC,
                    "responses": {"200": _json("Health", "The process is up.")},
                }
            },
            "/readyz": {
                "get": {
                    "operationId": "readyz",
                    "security": _PUBLIC,
                    "responses": {
                        "200": _json("Readiness", "The database and Kubernetes API answer."),
                        "503": _json("Readiness", "A dependency does not answer."),
                    },
                }
            },
            "/metrics": {
                "get": {
                    "operationId": "metrics",
                    "security": _PUBLIC,
                    "responses": {
                        "200": {
                            "description": "Prometheus text exposition format.",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
            "schemas": _schemas(catalog),
        },
    }
