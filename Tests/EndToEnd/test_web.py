"""The playground and dashboard page at / (issue #14), driven in headless Chromium through
selenium: it speaks with the built-in engines and plays as long as the server's audio lasts, shows
the API's error messages, and manages keys with a management key. Also the page's static routes
(content types, no path outside their fixed table) and GET /api/v1/generations behind it.

With SPEECHROUTER_SCREENSHOTS=<directory> set, the last test writes the README's screenshots there.
"""

from __future__ import annotations

import base64
import http.client
import os
import shutil
from pathlib import Path

import pytest
import requests

from support import pcm_seconds, probe_bytes
from test_upstream_and_accounts import PRICED, Instance, create_key

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as until  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

TEXT = "The quick brown fox jumps over the lazy dog. Speech in the browser."
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
DESKTOP = (1280, 800)
PHONE = (390, 844)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    """A priced gateway with a management key ("admin") and an ordinary one ("user")."""
    data_dir = tmp_path_factory.mktemp("web")
    management = create_key(data_dir, "--name", "admin", "--management")
    user = create_key(data_dir, "--name", "user")
    instance = Instance(data_dir, config=PRICED)
    yield instance, management, user
    instance.stop()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMEDRIVER).exists() or not shutil.which("chromium"):
        pytest.skip("Debian's chromium and chromium-driver are not installed (scripts/install-deps installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--autoplay-policy=no-user-gesture-required", f"--window-size={DESKTOP[0]},{DESKTOP[1]}"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    yield driver
    driver.quit()


def open_page(driver, base: str, key: str | None) -> WebDriverWait:
    """Loads the page afresh with `key` saved through its key form (or none)."""
    driver.get(base + "/")
    driver.execute_script("localStorage.clear()")
    driver.get(base + "/")
    # The dashboard redraws its tables after each change: an element found may be replaced at once.
    wait = WebDriverWait(driver, 60, ignored_exceptions=[StaleElementReferenceException])
    wait.until(lambda d: len(Select(d.find_element(By.ID, "model")).options) > 0)
    if key is not None:
        field = driver.find_element(By.ID, "key")
        field.clear()
        field.send_keys(key)
        driver.find_element(By.CSS_SELECTOR, "#key-form button[type=submit]").click()
        wait.until(until.text_to_be_present_in_element((By.ID, "key-state"), "saved"))
    return wait


def speak_in_page(driver, wait: WebDriverWait, model: str, fmt: str) -> None:
    Select(driver.find_element(By.ID, "model")).select_by_value(model)
    Select(driver.find_element(By.ID, "format")).select_by_value(fmt)
    text = driver.find_element(By.ID, "text")
    text.clear()
    text.send_keys(TEXT)
    driver.find_element(By.ID, "speak").click()


def download_bytes(driver) -> bytes:
    """The audio behind the page's download button, as the browser holds it."""
    encoded = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch(document.getElementById("download").href).then((r) => r.arrayBuffer()).then((buffer) => {
            let text = "";
            for (const byte of new Uint8Array(buffer)) text += String.fromCharCode(byte);
            done(btoa(text));
        }, (error) => done("error: " + error));""")
    assert not encoded.startswith("error:"), encoded
    return base64.b64decode(encoded)


def raw_get(base: str, path: str) -> tuple[int, bytes]:
    """GET with the path sent exactly as written (requests would resolve the dot segments)."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# --- the static routes ----------------------------------------------------------------------

def test_the_page_and_its_assets_are_served_with_their_types(gateway):
    instance, _, _ = gateway
    expected = {"/": "text/html; charset=utf-8", "/web/app.js": "text/javascript; charset=utf-8",
                "/web/style.css": "text/css; charset=utf-8"}
    for path, content_type in expected.items():
        response = requests.get(instance.base + path, timeout=30)
        assert response.status_code == 200, (path, response.text[:300])
        assert response.headers["Content-Type"] == content_type
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    page = requests.get(instance.base + "/", timeout=30).text
    assert "<title>SpeechRouter</title>" in page and 'src="/web/app.js"' in page
    assert "http://" not in page and "https://" not in page, "the page loads nothing from elsewhere"


@pytest.mark.parametrize("path", [
    "/web/../Package.swift", "/web/%2e%2e/%2e%2e/Package.swift", "/web/..%2f..%2fPackage.swift",
    "/web/app.js/../../README.md", "/../../../../etc/passwd", "/web/", "/web/index.html",
    "/web/%2e%2e%2fapp.js", "//etc/passwd", "/web/app.js%00.css",
])
def test_no_path_outside_the_page_s_table_is_served(gateway, path):
    instance, _, _ = gateway
    status, body = raw_get(instance.base, path)
    assert status in (400, 404), (path, status, body[:200])
    for leak in (b"swift-tools-version", b"root:", b"# SpeechRouter", b"use strict"):
        assert leak not in body, (path, body[:200])


# --- GET /api/v1/generations ----------------------------------------------------------------

def test_generations_lists_every_key_newest_first_for_a_management_key(gateway):
    instance, management, user = gateway
    ids = []
    for key in (user, management, user):
        response = requests.post(instance.base + "/api/v1/audio/speech", timeout=60,
                                 headers={"Authorization": f"Bearer {key}"},
                                 json={"model": "local/flite", "input": "Listed.", "response_format": "pcm"})
        assert response.status_code == 200, response.text
        ids.append(response.headers["X-Generation-Id"])
    admin = {"Authorization": f"Bearer {management}"}
    listed = requests.get(instance.base + "/api/v1/generations?limit=3", headers=admin, timeout=30)
    assert listed.status_code == 200, listed.text
    data = listed.json()["data"]
    assert [item["id"] for item in data] == ids[::-1]
    keys = {key["name"]: key["hash"] for key in
            requests.get(instance.base + "/api/v1/keys", headers=admin, timeout=30).json()["data"]}
    assert [item["key_hash"] for item in data] == [keys["user"], keys["admin"], keys["user"]]
    assert all(item["model"] == "local/flite" and item["tokens_prompt"] == len("Listed.") for item in data)
    assert data[0]["total_cost"] == pytest.approx(0.001 * len("Listed."))
    assert len(requests.get(instance.base + "/api/v1/generations", headers=admin, timeout=30).json()["data"]) >= 3


@pytest.mark.parametrize("limit", ["0", "201", "-1", "x", "1.5", "99999999999999999999999"])
def test_generations_refuses_a_limit_out_of_range(gateway, limit):
    instance, management, _ = gateway
    response = requests.get(instance.base + f"/api/v1/generations?limit={limit}", timeout=30,
                            headers={"Authorization": f"Bearer {management}"})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert "limit" in error["message"] and "1 to 200" in error["message"]
    assert error["metadata"]["param"] == "limit"


def test_generations_needs_a_management_key(gateway):
    instance, _, user = gateway
    response = requests.get(instance.base + "/api/v1/generations", timeout=30,
                            headers={"Authorization": f"Bearer {user}"})
    assert response.status_code == 403, response.text
    assert requests.get(instance.base + "/api/v1/generations", timeout=30).status_code == 401


# --- the page in Chromium -------------------------------------------------------------------

def test_the_page_loads_and_lists_the_models_and_voices(gateway, browser):
    instance, _, _ = gateway
    open_page(browser, instance.base, None)
    models = [option.get_attribute("value") for option in Select(browser.find_element(By.ID, "model")).options]
    listed = [model["id"] for model in requests.get(instance.base + "/api/v1/models", timeout=30).json()["data"]]
    assert models == listed and "local/flite" in models
    Select(browser.find_element(By.ID, "model")).select_by_value("local/flite")
    voices = [option.get_attribute("value") for option in Select(browser.find_element(By.ID, "voice")).options]
    flite = requests.get(instance.base + "/api/v1/models/local/flite", timeout=30).json()["data"]
    assert voices == flite["supported_voices"]
    assert browser.find_element(By.ID, "key-state").text == "no key saved"


@pytest.mark.parametrize("model,fmt", [("local/flite", "mp3"), ("local/flite", "pcm"),
                                       ("local/piper", "mp3"), ("local/piper", "pcm")])
def test_the_page_speaks_and_plays_as_long_as_the_server_s_audio(gateway, browser, tmp_path, model, fmt):
    instance, _, user = gateway
    models = [m["id"] for m in requests.get(instance.base + "/api/v1/models", timeout=30).json()["data"]]
    if model not in models:
        pytest.skip(f"{model} is not installed here (scripts/install-piper installs Piper)")
    wait = open_page(browser, instance.base, user)
    assert user not in browser.current_url
    speak_in_page(browser, wait, model, fmt)
    try:
        wait.until(lambda d: d.find_element(By.ID, "played").get_attribute("data-seconds")
                   or d.find_element(By.ID, "speak-error").text)
    except TimeoutException:
        pytest.fail(f"no playback end; status {browser.find_element(By.ID, 'speak-status').text!r}")
    assert browser.find_element(By.ID, "speak-error").text == ""
    played = float(browser.find_element(By.ID, "played").get_attribute("data-seconds"))

    audio = download_bytes(browser)
    server_seconds = pcm_seconds(audio) if fmt == "pcm" else probe_bytes(audio, ".mp3", tmp_path).decoded_seconds
    assert server_seconds > 1, "the text makes seconds of speech"
    assert abs(played - server_seconds) <= 0.1 * server_seconds, (played, server_seconds)

    generation_id = browser.find_element(By.ID, "generation-id").text
    assert generation_id.startswith("gen-tts-")
    wait.until(until.text_to_be_present_in_element((By.ID, "cost"), "$"))
    record = requests.get(instance.base + "/api/v1/generation", params={"id": generation_id}, timeout=30,
                          headers={"Authorization": f"Bearer {user}"}).json()["data"]
    assert record["model"] == model and record["response_format"] == fmt
    assert browser.find_element(By.ID, "characters").text == str(len(TEXT)) == str(record["tokens_prompt"])
    assert browser.find_element(By.ID, "cost").text == f"${record['total_cost']:.4f}"
    assert browser.find_element(By.ID, "first-audio").text.endswith(" ms")
    assert browser.find_element(By.ID, "download").get_attribute("download") == f"{generation_id}.{fmt}"


def test_a_wrong_key_shows_the_api_s_401_message(gateway, browser):
    instance, _, _ = gateway
    wrong = "sk-sr-v1-" + "0" * 64
    wait = open_page(browser, instance.base, wrong)
    speak_in_page(browser, wait, "local/flite", "mp3")
    wait.until(until.visibility_of_element_located((By.ID, "speak-error")))
    expected = requests.post(instance.base + "/api/v1/audio/speech", headers={"Authorization": f"Bearer {wrong}"},
                             json={"model": "local/flite", "input": TEXT}, timeout=30)
    assert expected.status_code == 401
    assert browser.find_element(By.ID, "speak-error").text == expected.json()["error"]["message"]


def test_the_dashboard_manages_keys_and_lists_the_latest_generations(gateway, browser):
    instance, management, _ = gateway
    admin = {"Authorization": f"Bearer {management}"}
    wait = open_page(browser, instance.base, management)
    browser.find_element(By.ID, "tab-dashboard").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#keys tbody tr")) == 2)
    names = [row.find_element(By.TAG_NAME, "td").text for row in browser.find_elements(By.CSS_SELECTOR, "#keys tbody tr")]
    assert names == ["admin (management)", "user"]

    browser.find_element(By.ID, "new-name").send_keys("fresh")
    browser.find_element(By.ID, "new-limit").send_keys("2.5")
    browser.find_element(By.CSS_SELECTOR, "#create-key button[type=submit]").click()
    wait.until(until.visibility_of_element_located((By.ID, "new-secret")))
    secret = browser.find_element(By.ID, "new-secret").text
    assert secret.startswith("sk-sr-v1-")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#keys tbody tr")) == 3)
    fresh = requests.get(instance.base + "/api/v1/key", headers={"Authorization": f"Bearer {secret}"}, timeout=30)
    assert fresh.status_code == 200 and fresh.json()["data"]["label"].startswith("sk-sr-v1-")
    assert fresh.json()["data"]["limit"] == 2.5

    spoken = requests.post(instance.base + "/api/v1/audio/speech", headers={"Authorization": f"Bearer {secret}"},
                           json={"model": "local/flite", "input": "Fresh key.", "response_format": "mp3"}, timeout=60)
    assert spoken.status_code == 200, spoken.text
    generation_id = spoken.headers["X-Generation-Id"]
    browser.find_element(By.ID, "refresh").click()
    wait.until(until.text_to_be_present_in_element((By.ID, "generations"), generation_id))
    row = next(r for r in browser.find_elements(By.CSS_SELECTOR, "#generations tbody tr") if generation_id in r.text)
    cells = [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
    assert cells[1:7] == ["fresh", "local/flite", "local", "completed", str(len("Fresh key.")),
                          f"${0.001 * len('Fresh key.'):.4f}"], cells
    assert cells[7].endswith(" ms")
    assert browser.find_elements(By.CSS_SELECTOR, "#chart-keys svg rect"), "the usage chart has bars"
    assert "fresh" in browser.find_element(By.ID, "chart-keys").text

    # The secret is shown once: gone after "Done" and after reloading.
    browser.find_element(By.ID, "hide-secret").click()
    assert secret not in browser.page_source
    browser.refresh()
    assert secret not in browser.page_source

    # Change the limit and disable the key.
    browser.find_element(By.ID, "tab-dashboard").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#keys tbody tr")) == 3)
    limit = browser.find_element(By.CSS_SELECTOR, "input[aria-label='Limit in USD for fresh']")
    limit.clear()
    limit.send_keys("7")
    browser.find_element(By.CSS_SELECTOR, "button[aria-label='Save limit of fresh']").click()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "input[aria-label='Limit in USD for fresh']")
               .get_attribute("value") == "7")
    # The saved limit re-renders the table: find the button again if the row was replaced.
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "button[aria-label='Disable fresh']").click() or True)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "button[aria-label='Enable fresh']"))
    listed = {key["name"]: key for key in
              requests.get(instance.base + "/api/v1/keys", headers=admin, timeout=30).json()["data"]}
    assert listed["fresh"]["limit"] == 7 and listed["fresh"]["disabled"] is True

    # A bad limit shows the API's message and changes nothing.
    limit = browser.find_element(By.CSS_SELECTOR, "input[aria-label='Limit in USD for fresh']")
    limit.clear()
    limit.send_keys("1e12")
    browser.find_element(By.CSS_SELECTOR, "button[aria-label='Save limit of fresh']").click()
    wait.until(until.visibility_of_element_located((By.ID, "dashboard-error")))
    assert "limit" in browser.find_element(By.ID, "dashboard-error").text
    assert requests.get(instance.base + "/api/v1/keys", headers=admin,
                        timeout=30).json()["data"][2]["limit"] == 7


def test_the_dashboard_with_an_ordinary_key_shows_the_api_s_403_message(gateway, browser):
    instance, _, user = gateway
    wait = open_page(browser, instance.base, user)
    browser.find_element(By.ID, "tab-dashboard").click()
    wait.until(until.visibility_of_element_located((By.ID, "dashboard-error")))
    expected = requests.get(instance.base + "/api/v1/keys", headers={"Authorization": f"Bearer {user}"}, timeout=30)
    assert expected.status_code == 403
    assert browser.find_element(By.ID, "dashboard-error").text == expected.json()["error"]["message"]


@pytest.mark.skipif(not os.environ.get("SPEECHROUTER_SCREENSHOTS"), reason="set SPEECHROUTER_SCREENSHOTS=<dir>")
def test_screenshots(gateway, browser):
    """The README's screenshots: playground after speaking, dashboard, at desktop and phone width."""
    instance, management, user = gateway
    for key, model, text in [(user, "local/flite", TEXT), (management, "local/espeak-ng", "A second model."),
                             (user, "local/flite", "And a third request.")]:
        response = requests.post(instance.base + "/api/v1/audio/speech", headers={"Authorization": f"Bearer {key}"},
                                 json={"model": model, "input": text, "response_format": "mp3"}, timeout=60)
        assert response.status_code == 200, response.text
    directory = Path(os.environ["SPEECHROUTER_SCREENSHOTS"])
    directory.mkdir(parents=True, exist_ok=True)
    for name, (width, height) in {"desktop": DESKTOP, "phone": PHONE}.items():
        browser.set_window_size(width, height)
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": name == "phone"})
        wait = open_page(browser, instance.base, management)
        speak_in_page(browser, wait, "local/flite", "mp3")
        wait.until(lambda d: d.find_element(By.ID, "played").get_attribute("data-seconds"))
        browser.save_screenshot(str(directory / f"web-playground-{name}.png"))
        browser.find_element(By.ID, "tab-dashboard").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#generations tbody tr"))
        browser.save_screenshot(str(directory / f"web-dashboard-{name}.png"))
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    browser.set_window_size(*DESKTOP)
