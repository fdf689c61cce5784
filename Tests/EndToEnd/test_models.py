"""GET /api/v1/models and /api/v1/models/{author}/{slug}, in OpenRouter's Model shape."""

from __future__ import annotations

import pytest
import requests

from support import OPENAI_VOICES, assert_error

BUILTIN = {"local/flite", "local/espeak-ng"}


def get(server, path, **kwargs):
    return requests.get(server.base_url + path, timeout=30, **kwargs)


def check_model(model: dict) -> None:
    for field in ("id", "canonical_slug", "name", "created", "description", "context_length", "architecture",
                  "pricing", "top_provider", "per_request_limits", "supported_parameters", "default_parameters",
                  "supported_voices", "links"):
        assert field in model, (field, model)
    assert model["context_length"] == 100_000, model
    assert isinstance(model["created"], int), model
    architecture = model["architecture"]
    assert architecture["modality"] == "text->speech", architecture
    assert architecture["input_modalities"] == ["text"], architecture
    assert architecture["output_modalities"] == ["speech"], architecture
    assert architecture["tokenizer"] == "Other" and architecture["instruct_type"] is None, architecture
    assert model["pricing"]["prompt"] == "0", model["pricing"]
    assert model["pricing"]["completion"] == "0", model["pricing"]
    assert model["per_request_limits"] is None
    assert {"voice", "response_format"} <= set(model["supported_parameters"]), model
    assert set(OPENAI_VOICES) <= set(model["supported_voices"]), model["supported_voices"]
    assert isinstance(model["links"].get("details"), str), model["links"]


@pytest.mark.parametrize("query", ["speech", "all", "text,speech", None])
def test_list_speech_models(server, query):
    # No filter at all lists every model too: all of them are speech (the SDKs' models.list()).
    response = get(server, "/api/v1/models", params={} if query is None else {"output_modalities": query})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    ids = {model["id"] for model in body["data"]}
    assert BUILTIN <= ids, ids
    assert body["total_count"] == len(body["data"])
    assert body["links"] == {"next": None}
    for model in body["data"]:
        check_model(model)
    by_id = {model["id"]: model for model in body["data"]}
    assert {"slt", "rms", "awb", "kal16"} <= set(by_id["local/flite"]["supported_voices"])
    assert {"en-us", "de", "fr"} <= set(by_id["local/espeak-ng"]["supported_voices"])


@pytest.mark.parametrize("params", [{"output_modalities": "text"}, {"output_modalities": "image"}])
def test_other_modalities_list_no_speech_models(server, params):
    response = get(server, "/api/v1/models", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [m for m in body["data"] if m["id"] in BUILTIN] == [], body
    assert body["total_count"] == len(body["data"])


def test_models_need_no_key_and_alias_works(server):
    assert get(server, "/v1/models", params={"output_modalities": "speech"}).status_code == 200
    with_key = get(server, "/api/v1/models", params={"output_modalities": "speech"}, headers=server.auth())
    assert with_key.status_code == 200
    assert BUILTIN <= {m["id"] for m in with_key.json()["data"]}


@pytest.mark.parametrize("model_id", sorted(BUILTIN))
def test_get_one_model(server, model_id):
    response = get(server, f"/api/v1/models/{model_id}")
    assert response.status_code == 200, response.text
    model = response.json()["data"]
    assert model["id"] == model_id
    check_model(model)


def test_unknown_model_is_404(server):
    assert_error(get(server, "/api/v1/models/local/nothing"), 404)
    assert_error(get(server, "/api/v1/models/acme/flite"), 404)
