"""Issue 12 §5.3: the served OpenAPI document states the rules the server applies (tests/test_fuzz.py checks the
rest by sending requests)."""

from __future__ import annotations

from conftest import ADMIN, WEBHOOK


async def document(client) -> dict:
    response = await client.get("/api/openapi.json")
    assert response.status == 200
    return await response.json()


def resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


async def test_a_webhook_message_needs_text_or_a_card_as_the_document_says(client):
    spec = await document(client)
    body = resolve(spec, spec["paths"]["/api/v1/webhook/messages"]["post"]["requestBody"]["content"]
                   ["application/json"]["schema"])
    assert sorted(tuple(branch["required"]) for branch in body["anyOf"]) == [("card",), ("image_url",), ("text",)]
    assert body["properties"]["sent_at"]["anyOf"][0] == {"type": "string", "format": "date-time"}
    for refused in ({"customer_id": "c"}, {"customer_id": "c", "text": "   "}, {"customer_id": "c", "text": None},
                    {"customer_id": "c", "text": "hi", "sent_at": 1794355200}):
        response = await client.post(WEBHOOK, json=refused)
        assert response.status == 422, refused
    for accepted in ({"customer_id": "c", "text": "hi"}, {"customer_id": "c", "card": {"type": "order", "id": "1"}}):
        assert (await client.post(WEBHOOK, json=accepted)).status == 200


async def test_metric_ranges_are_dates_in_order(client):
    spec = await document(client)
    for path in ("/api/v1/metrics/assessment", "/api/v1/metrics/intents"):
        operation = spec["paths"][path]["get"]
        params = {p["name"]: p for p in operation["parameters"]}
        assert {"type": "string", "format": "date"} in params["from"]["schema"]["anyOf"]
        assert "from must not be after to" in operation["description"]
        reversed_range = await client.get(f"{path}?from=2026-11-11&to=2026-11-10", headers=ADMIN)
        assert reversed_range.status == 422 and (await reversed_range.json())["error"]["code"] == "invalid_range"
        week_date = await client.get(f"{path}?from=2026-W46-3", headers=ADMIN)  # fromisoformat would take it
        assert week_date.status == 422 and (await week_date.json())["error"]["code"] == "invalid_date"
    allow_long = {p["name"]: p for p in spec["paths"]["/api/v1/metrics/intents"]["get"]["parameters"]}["allow_long"]
    assert allow_long["schema"]["type"] == "boolean"


async def test_prometheus_is_text_and_websockets_answer_plain_requests_with_400(client):
    spec = await document(client)
    assert list(spec["paths"]["/metrics"]["get"]["responses"]["200"]["content"]) == ["text/plain"]
    metrics = await client.get("/metrics")
    assert metrics.status == 200 and metrics.content_type == "text/plain"
    for path in ("/api/v1/webchat/ws", "/api/v1/agents/{agent_id}/ws"):
        responses = spec["paths"][path]["get"]["responses"]
        assert {"101", "400"} <= set(responses) and "200" not in responses
        plain = await client.get(path.replace("{agent_id}", "shop:x"))
        assert plain.status == 400 and "error" in await plain.json()


async def test_bodies_the_server_may_refuse_as_too_large_say_413_and_optional_bodies_say_so(client):
    spec = await document(client)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= set(operation["responses"]), (method, path)
    assert "413" in spec["paths"]["/api/v1/offline-pool/assign"]["post"]["responses"]
    session = spec["paths"]["/api/v1/webchat/session"]["post"]
    assert session["requestBody"]["required"] is False
    assert (await client.post("/api/v1/webchat/session")).status == 200  # no body at all
    assert set(resolve(spec, session["responses"]["200"]["content"]["application/json"]["schema"])["required"]) \
        == {"customer_id", "token", "expires_at", "renewed"}


async def test_an_order_list_is_not_empty(client):
    spec = await document(client)
    body = resolve(spec, spec["paths"]["/api/v1/orders"]["post"]["requestBody"]["content"]["application/json"]
                   ["schema"])
    [as_list] = [branch for branch in body["anyOf"] if branch.get("type") == "array"]
    assert as_list["minItems"] == 1 and as_list["maxItems"] == 1000
    empty = await client.post("/api/v1/orders", json=[], headers=ADMIN)
    assert empty.status == 422


async def test_bodies_take_json_types_as_they_are(client):
    """A boolean is true or false, a date-time is text: no 1 for true, no unix seconds."""
    refused = await client.post("/api/v1/modes/penalty", json={"enabled": 1}, headers=ADMIN)
    assert refused.status == 422 and (await refused.json())["error"]["fields"][0]["field"] == "enabled"
    refused = await client.post("/api/v1/modes/penalty", json={"enabled": True, "to": 0}, headers=ADMIN)
    assert refused.status == 422
    accepted = await client.post("/api/v1/modes/penalty", json={"enabled": False, "to": "2026-11-12T00:00:00+08:00"},
                                 headers=ADMIN)
    assert accepted.status == 200, await accepted.text()
