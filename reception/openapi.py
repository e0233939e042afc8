"""The OpenAPI 3.1 document of the HTTP API, built from the same pydantic models that validate requests."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from . import __version__
from .models import BuyerMessage, Outcome, StaffReply

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "fields": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "message": {"type": "string"}}}}}}},
}
_MESSAGES = {
    "type": "object",
    "properties": {
        "conversation_id": {"type": "string"},
        "status": {"type": "string"},
        "messages": {"type": "array", "items": {"type": "object", "required": ["sender", "text", "created_at"],
                     "properties": {"sender": {"enum": ["buyer", "bot", "agent", "system"]},
                                    "text": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
                                    "intent": {"type": "string"}, "confidence": {"type": "number"},
                                    "agent_id": {"type": "string"}}}},
    },
}


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _json({"$ref": "#/components/schemas/Error"}, "error") for code in codes}


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    """The whole document; cached, it does not change while the server runs."""
    components: dict[str, Any] = {"Error": _ERROR, "Messages": _MESSAGES}
    inbound = _schema(BuyerMessage, components)
    outcome = _schema(Outcome, components)
    reply = _schema(StaffReply, components)
    conversation_id = [{"name": "conversation_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    admin = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "reception", "version": __version__},
        "components": {"schemas": components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                           "signature": {"type": "apiKey", "in": "header",
                                                         "name": "X-Reception-Signature"}}},
        "paths": {
            "/api/v1/webhook/messages": {"post": {
                "summary": "A buyer's message in; the bot's reply or a handover out",
                "security": [{"signature": []}, {}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": inbound}}},
                "responses": {"200": _json(outcome, "what happened to the message"),
                              **_errors(400, 401, 409, 413, 422)},
            }},
            "/api/v1/conversations/{conversation_id}/messages": {
                "get": {"summary": "The messages of a conversation", "security": admin,
                        "parameters": conversation_id,
                        "responses": {"200": _json({"$ref": "#/components/schemas/Messages"}, "messages, oldest first"),
                                      **_errors(401, 404)}},
                "post": {"summary": "The shop's staff replies to the buyer", "security": admin,
                         "parameters": conversation_id,
                         "requestBody": {"required": True, "content": {"application/json": {"schema": reply}}},
                         "responses": {"200": _json({"type": "object"}, "the stored message"),
                                       **_errors(400, 401, 404, 409, 422)}},
            },
            "/healthz": {"get": {"summary": "Liveness", "responses": {"200": _json({"type": "object"}, "ok")}}},
            "/api/openapi.json": {"get": {"summary": "This document",
                                          "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")}}},
        },
    }
