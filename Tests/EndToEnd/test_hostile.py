"""Hostile callers get a clear error and cost nothing (issue #11): numbers from outside that are
out of range, upstream secrets, redirects, partial upstream streams, oversized instructions."""

from __future__ import annotations

import os
import sqlite3
import subprocess

import pytest
import requests

from support import assert_error, binary_path
from test_upstream_and_accounts import Instance, create_key


def run_cli(data_dir, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary_path()), *args, "--data-dir", str(data_dir)],
                          capture_output=True, text=True, timeout=60, env=os.environ)


def key_count(data_dir) -> int:
    connection = sqlite3.connect(data_dir / "speechrouter.sqlite")
    try:
        return connection.execute("SELECT COUNT(*) FROM api_keys").fetchone()[0]
    finally:
        connection.close()


@pytest.fixture
def managed(tmp_path):
    """A server and a management key for it."""
    management = create_key(tmp_path, "--management")
    instance = Instance(tmp_path)
    yield instance, {"Authorization": f"Bearer {management}"}
    instance.stop()


@pytest.mark.parametrize("limit", [1e10, 1e300, -1, 1_000_000_000.5])
def test_a_key_limit_out_of_range_is_a_400_naming_the_field(managed, limit):
    instance, headers = managed
    response = requests.post(instance.base + "/api/v1/keys", json={"name": "big", "limit": limit},
                             headers=headers, timeout=30)
    assert_error(response, 400, contains="limit", param="limit")
    assert instance.process.poll() is None, "the server is alive"
    keys = requests.get(instance.base + "/api/v1/keys", headers=headers, timeout=30).json()["data"]
    assert [key["name"] for key in keys] == ["default"], "nothing was created"
    created = requests.post(instance.base + "/api/v1/keys", json={"name": "fine", "limit": 1e9},
                            headers=headers, timeout=30)
    assert created.status_code == 201, created.text
    assert created.json()["data"]["limit"] == 1e9


@pytest.mark.parametrize("args, named", [
    (["keys", "create", "--limit", "1e10"], "--limit"),
    (["keys", "create", "--limit", "nan"], "--limit"),
    (["keys", "create", "--limit", "inf"], "--limit"),
    (["keys", "create", "--rate-limit", "5", "--rate-interval", "1e300"], "--rate-interval"),
    (["keys", "create", "--rate-limit", "5", "--rate-interval", "0"], "--rate-interval"),
    (["keys", "create", "--rate-limit", "5", "--rate-interval=-1"], "--rate-interval"),
    (["keys", "create", "--rate-limit", "5", "--rate-interval", "nan"], "--rate-interval"),
    (["keys", "create", "--rate-limit", "0"], "--rate-limit"),
    (["keys", "create", "--rate-limit=-4"], "--rate-limit"),
    (["keys", "create", "--rate-limit", "99999999999"], "--rate-limit"),
    (["credits", "1e10"], "total"),
    (["credits", "nan"], "total"),
])
def test_cli_numbers_out_of_range_are_usage_errors_that_write_nothing(tmp_path, args, named):
    create_key(tmp_path)  # the database exists, with one key
    result = run_cli(tmp_path, *args)
    assert result.returncode != 0, result.stdout
    assert named in result.stderr, result.stderr
    assert "Fatal error" not in result.stderr and "Double value" not in result.stderr, result.stderr
    assert not result.stdout.strip(), "no key printed"
    assert key_count(tmp_path) == 1
    credits = sqlite3.connect(tmp_path / "speechrouter.sqlite").execute(
        "SELECT total_credits_nanos FROM account").fetchone()
    assert credits == (None,)


def test_a_rate_limit_stored_out_of_range_neither_kills_the_server_nor_fails_the_key(tmp_path):
    # A key written before intervals were checked (`--rate-interval 1e300` or `0` was accepted).
    huge = create_key(tmp_path, "--rate-limit", "5", "--rate-interval", "60")
    zero = create_key(tmp_path, "--rate-limit", "5", "--rate-interval", "60")
    connection = sqlite3.connect(tmp_path / "speechrouter.sqlite")
    hashes = [row[0] for row in connection.execute("SELECT hash FROM api_keys ORDER BY created_at")]
    connection.execute("UPDATE api_keys SET rate_limit_interval = 1e300 WHERE hash = ?", (hashes[0],))
    connection.execute("UPDATE api_keys SET rate_limit_interval = 0 WHERE hash = ?", (hashes[1],))
    connection.commit()
    connection.close()
    instance = Instance(tmp_path)
    try:
        for key in (huge, zero):
            response = requests.get(instance.base + "/api/v1/key", headers={"Authorization": f"Bearer {key}"},
                                    timeout=30)
            assert response.status_code == 200, response.text
            assert response.headers["X-RateLimit-Limit"] == "5"
        assert instance.process.poll() is None
    finally:
        instance.stop()
