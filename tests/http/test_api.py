from __future__ import annotations

from starlette.testclient import TestClient

from recommendarr.functions.embed_item import embed_item
from recommendarr.http.schemas import RecommendationList
from recommendarr.shared import db
from tests.conftest import WEBHOOK_TOKEN, admin_headers, run_queued
from tests.helpers import seed_library, watch

T0 = 1_760_000_000


def test_openapi_lists_every_route(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    for path in (
        "/api/v1/health",
        "/api/v1/webhooks/tautulli",
        "/api/v1/users",
        "/api/v1/users/{user_id}/recommendations",
        "/api/v1/group",
        "/api/v1/users/{user_id}/onboarding/quiz",
        "/api/v1/users/{user_id}/history",
        "/api/v1/jobs/{job_id}",
    ):
        assert path in paths
    schemas = document["components"]["schemas"]
    assert {"RecommendationList", "Recommendation", "RecommendationMeta", "JobOut"} <= set(schemas)
    for operations in paths.values():
        for operation in operations.values():
            for response in operation["responses"].values():
                for content in response.get("content", {}).values():
                    name = content["schema"]["$ref"].rsplit("/", 1)[1]
                    assert name in schemas


def test_health_reports_database_broker_and_queues(client: TestClient) -> None:
    body = client.get("/api/v1/health").json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["broker"] == "ok"
    assert set(body["queues"]) == {"events", "embeddings", "profiles"}
    assert "token" not in str(body).lower()


def test_recommendations_have_the_documented_shape(client: TestClient, conn: db.Connection) -> None:
    ids = seed_library(conn)
    for item_id in ids.values():
        embed_item(item_id)
    for n, tmdb_id in enumerate([27205, 157336]):
        payload = watch(tmdb_id, "501", 100, T0 + n * 86_400)
        assert (
            client.post(
                "/api/v1/webhooks/tautulli", params={"token": WEBHOOK_TOKEN}, json=payload
            ).status_code
            == 202
        )
    run_queued()
    users = client.get("/api/v1/users", headers=admin_headers()).json()["users"]
    user_id = users[0]["id"]
    body = client.get(
        f"/api/v1/users/{user_id}/recommendations", params={"limit": 3}, headers=admin_headers()
    ).json()
    assert len(body["items"]) == 3
    # The hot path builds plain dicts; the documented schema must still hold for them.
    RecommendationList.model_validate(body)
    first = body["items"][0]
    assert set(first) >= {
        "tmdb_id",
        "media_type",
        "title",
        "year",
        "poster",
        "score",
        "confidence",
        "explanation",
        "signals",
        "influenced_by",
    }
    assert first["title"] == "The Prestige" and first["confidence"] in ("high", "medium", "low")
    assert first["influenced_by"][0]["title"] in ("Inception", "Interstellar")
    meta = body["meta"]
    assert meta["user"] == {"id": user_id, "username": "user501"}
    assert meta["mode"] == "tonight" and meta["total_candidates"] == 6
    assert meta["generated_at"] and meta["profile_freshness"]
    history = client.get(f"/api/v1/users/{user_id}/history", headers=admin_headers()).json()
    assert [h["title"] for h in history["items"]] == ["Interstellar", "Inception"]


def test_openapi_documents_the_modes_and_filters(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/users/{user_id}/recommendations"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert params["mode"]["schema"]["enum"] == ["tonight", "grab", "rediscover", "shuffle"]
    assert {
        "library",
        "genres",
        "exclude_genres",
        "year_min",
        "year_max",
        "language",
        "min_confidence",
        "influenced_by",
        "exclude_influence",
    } <= set(params)
    assert params["min_confidence"]["schema"]["enum"] == ["low", "medium", "high"]
    group = document["paths"]["/api/v1/group"]["get"]
    assert [p["name"] for p in group["parameters"] if p["required"]] == ["users"]
    quiz = document["paths"]["/api/v1/users/{user_id}/onboarding/quiz"]
    assert set(quiz) == {"get", "post"} and "202" in quiz["post"]["responses"]
