"""The official OpenRouter Python SDK (PyPI `openrouter`), pointed at SpeechRouter: every account
and model call it makes parses, and says what the gateway knows."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
import requests
from openrouter import OpenRouter, errors

from support import binary_path, start_server, stop_server

PRICE = 0.001  # USD per character of local/flite, set by the config below
TEXT = "Twenty-six characters, ok."


def cli(data_dir, *args: str) -> str:
    result = subprocess.run([str(binary_path()), *args, "--data-dir", str(data_dir)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    """A server of its own, with local/flite priced, a user key limited to $1 and a management key."""
    data_dir = tmp_path_factory.mktemp("openrouter-sdk")
    config = data_dir / "config.json"
    config.write_text(json.dumps({"models": {"local/flite": {"price_per_character": str(PRICE)}}}))
    user = cli(data_dir, "keys", "create", "--name", "sdk-user", "--limit", "1")
    management = cli(data_dir, "keys", "create", "--name", "sdk-admin", "--management")
    server = start_server(data_dir, key=user, args=["--config", str(config)])
    try:
        yield server, management
    finally:
        stop_server(server)


@pytest.fixture(scope="module")
def user(gateway) -> OpenRouter:
    server, _ = gateway
    return OpenRouter(api_key=server.key, server_url=server.api)


@pytest.fixture(scope="module")
def admin(gateway) -> OpenRouter:
    server, management = gateway
    return OpenRouter(api_key=management, server_url=server.api)


@pytest.fixture(scope="module")
def spoken(gateway) -> str:
    """One priced generation by the user key; its id."""
    server, _ = gateway
    response = requests.post(server.api + "/audio/speech", headers=server.auth(), timeout=120,
                             json={"model": "local/flite", "input": TEXT, "voice": "slt", "response_format": "pcm"})
    assert response.status_code == 200, response.text
    generation_id = response.headers["X-Generation-Id"]
    deadline = time.monotonic() + 30  # the end is recorded just after the last byte is sent
    while requests.get(server.api + "/generation", params={"id": generation_id}, headers=server.auth(),
                       timeout=10).json()["data"]["status"] == "running":
        assert time.monotonic() < deadline, "the generation never ended"
        time.sleep(0.05)
    return generation_id


def test_get_generation(user, spoken):
    data = user.generations.get_generation(id=spoken).data
    assert data.id == spoken
    assert data.model == "local/flite"
    assert data.api_type == "tts"
    assert data.tokens_prompt == len(TEXT)
    assert data.native_tokens_prompt == len(TEXT)
    assert data.total_cost == pytest.approx(len(TEXT) * PRICE)
    assert data.usage == pytest.approx(len(TEXT) * PRICE)
    assert data.finish_reason == "stop"
    assert data.cancelled is False
    assert data.streamed is True
    assert data.provider_name == "local"
    assert data.data_region == "global"
    assert data.is_byok is False
    assert data.provider_responses == []
    assert data.generation_time is not None and data.generation_time >= 0


def test_get_current_key_metadata(user, spoken):
    data = user.api_keys.get_current_key_metadata().data
    cost = len(TEXT) * PRICE
    assert data.label.startswith("sk-sr-v1-")
    assert data.is_management_key is False
    assert data.limit == pytest.approx(1.0)
    assert data.usage == pytest.approx(cost)
    assert data.usage_daily == pytest.approx(cost)
    assert data.limit_remaining == pytest.approx(1.0 - cost)
    assert data.limit_reset is None
    assert data.allowed_data_regions == ["global"]
    assert data.effective_budget is not None
    assert data.effective_budget.scope == "key_limit"
    assert data.effective_budget.limit_usd == pytest.approx(1.0)
    assert data.effective_budget.spend_usd == pytest.approx(cost)
    assert data.effective_budget.remaining_usd == pytest.approx(1.0 - cost)
    assert [budget.scope for budget in data.budgets] == ["key_limit"]
    assert data.rate_limit.requests == -1 and data.rate_limit.interval == "-1"
    assert data.rate_limit.note
    assert data.free_model_daily_requests.limit == -1


def test_get_credits_unlimited_then_set(gateway, admin, user, spoken):
    server, _ = gateway
    with pytest.raises(errors.ForbiddenResponseError) as caught:
        user.credits.get_credits()  # management keys only
    assert caught.value.data.error.code == 403
    data = admin.credits.get_credits().data
    assert data.total_credits == 0  # no total set: nothing bought, and nothing refused
    assert data.total_usage == pytest.approx(len(TEXT) * PRICE)
    cli(server.data_dir, "credits", "100")
    assert admin.credits.get_credits().data.total_credits == pytest.approx(100)


def test_api_keys_create_get_list_update_delete(gateway, admin):
    server, _ = gateway
    created = admin.api_keys.create(name="from-the-sdk", limit=2.5, limit_reset="monthly")
    assert created.key.startswith("sk-sr-v1-")
    key = created.data
    assert (key.name, key.limit, key.limit_remaining, key.limit_reset) == ("from-the-sdk", 2.5, 2.5, "monthly")
    assert key.usage == 0 and key.disabled is False
    assert key.label == created.key[:13] + "..." + created.key[-4:]
    # The secret shown once works.
    mine = requests.get(server.api + "/key", headers={"Authorization": f"Bearer {created.key}"}, timeout=10)
    assert mine.status_code == 200 and mine.json()["data"]["hash"] == key.hash

    assert admin.api_keys.get(hash=key.hash).data.name == "from-the-sdk"
    listed = {item.hash: item for item in admin.api_keys.list().data}
    assert listed[key.hash].limit == 2.5
    assert listed[key.hash].workspace_id == key.workspace_id
    assert {"sdk-user", "sdk-admin", "from-the-sdk"} <= {item.name for item in listed.values()}

    updated = admin.api_keys.update(hash=key.hash, name="renamed", disabled=True, limit=3).data
    assert (updated.name, updated.disabled, updated.limit) == ("renamed", True, 3)
    assert updated.updated_at is not None

    assert admin.api_keys.delete(hash=key.hash).DELETED is True  # the SDK's name for `deleted`
    with pytest.raises(errors.NotFoundResponseError):
        admin.api_keys.get(hash=key.hash)


def test_models_list_get_count_and_endpoints(user):
    listed = user.models.list().result
    ids = [model.id for model in listed.data]
    assert "local/flite" in ids and "local/espeak-ng" in ids
    assert listed.total_count == len(ids)
    assert all(model.architecture.output_modalities == ["speech"] for model in listed.data)

    assert user.models.count().data.count == len(ids)
    assert user.models.count(output_modalities="speech").data.count == len(ids)
    assert user.models.count(output_modalities="text").data.count == 0

    model = user.models.get(author="local", slug="flite").data
    assert model.id == "local/flite"
    assert model.pricing.prompt == str(PRICE)
    assert "slt" in model.supported_voices

    endpoints = user.endpoints.list(author="local", slug="flite").data
    assert endpoints.id == "local/flite"
    assert endpoints.architecture.output_modalities == ["speech"]
    [endpoint] = endpoints.endpoints
    assert endpoint.model_id == "local/flite"
    assert endpoint.provider_name == "SpeechRouter"
    assert endpoint.pricing.prompt == str(PRICE)
    assert endpoint.context_length == model.context_length

    with pytest.raises(errors.NotFoundResponseError):
        user.models.get(author="local", slug="no-such-model")
