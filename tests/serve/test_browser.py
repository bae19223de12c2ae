"""The page of ``speech serve`` in a real headless chromium (Debian's), driven by Selenium.

The server is the real command (``speech serve --port 0`` in a subprocess, tiny models). The test
uploads a WAV and reads the transcript on the page, then speaks a text and checks that the
``<audio>`` element got a source chromium can play (its metadata loaded, duration > 0) and that
the alignment image loaded. Skipped only where chromium or chromedriver is not installed
(``python -m data_prep.sysdeps`` installs them).
"""

from __future__ import annotations

import importlib.util
import shutil
import time
from pathlib import Path

import pytest

from tests.serve.helpers import wav_bytes

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WAIT = 60  # seconds: the upper bound of a wait, not an expected time


def _bench():
    spec = importlib.util.spec_from_file_location("serve_load_bench", ROOT / "bench" / "serve_load.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def server(checkpoints):
    models = {kind: checkpoints[kind] for kind in ("asr", "st", "tts")}
    with _bench().start_server(models, threads=1) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists() and shutil.which(Path(path).name) is None:
            pytest.skip(f"{path} is not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or CHROMIUM
    fake_microphone = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--mute-audio",
        *fake_microphone,
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_upload_transcribe_and_speak_in_chromium(browser, server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, WAIT)
    browser.get(server + "/")
    wait.until(lambda d: d.find_element(By.ID, "status").text.startswith("Ready"))
    assert browser.find_element(By.ID, "transcribe").is_displayed()

    wav = tmp_path / "hello.wav"
    wav.write_bytes(wav_bytes(1.0))
    browser.find_element(By.ID, "audio-file").send_keys(str(wav))
    browser.find_element(By.ID, "transcribe").click()
    wait.until(lambda d: d.find_element(By.ID, "s2t-text").text or d.find_element(By.ID, "s2t-error").text)
    assert browser.find_element(By.ID, "s2t-error").text == ""
    assert browser.find_element(By.ID, "s2t-text").text.strip()
    assert browser.find_element(By.ID, "s2t-meta").text.startswith("hello.wav: 1.00 s")

    browser.find_element(By.ID, "tts-text").send_keys("one two three")
    browser.find_element(By.ID, "speak").click()
    audio = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#tts-audio[src^='data:audio/wav']"))
    assert browser.find_element(By.ID, "tts-error").text == ""
    assert audio.is_displayed()
    assert browser.execute_script("return arguments[0].canPlayType('audio/wav')", audio) != ""
    # readyState >= HAVE_METADATA: chromium parsed the WAV; its duration is the synthesized length
    wait.until(lambda d: d.execute_script("return arguments[0].readyState", audio) >= 1)
    assert browser.execute_script("return arguments[0].duration", audio) > 0
    assert browser.execute_script("return arguments[0].error", audio) is None
    image = browser.find_element(By.ID, "tts-alignment")
    wait.until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image))
    assert image.is_displayed()


def test_bad_upload_shows_the_error_on_the_page(browser, server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server + "/")
    WebDriverWait(browser, WAIT).until(lambda d: d.find_element(By.ID, "status").text.startswith("Ready"))
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    browser.find_element(By.ID, "audio-file").send_keys(str(bad))
    browser.find_element(By.ID, "translate").click()
    error = WebDriverWait(browser, WAIT).until(lambda d: d.find_element(By.ID, "s2t-error").text)
    assert error.startswith("notes.wav: not a readable audio file")


def test_record_from_the_microphone_and_transcribe(browser, server):
    """Chromium's fake microphone (a beep): MediaRecorder, decoded by WebAudio, sent as a WAV."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, WAIT)
    browser.get(server + "/")
    wait.until(lambda d: d.find_element(By.ID, "status").text.startswith("Ready"))
    browser.find_element(By.ID, "record").click()
    wait.until(
        lambda d: d.find_element(By.ID, "record").text == "Stop" or d.find_element(By.ID, "s2t-error").text
    )
    assert browser.find_element(By.ID, "s2t-error").text == ""
    time.sleep(1.0)  # record about a second
    browser.find_element(By.ID, "record").click()
    wait.until(lambda d: d.find_element(By.ID, "record-status").text.startswith("Recorded"))
    browser.find_element(By.ID, "transcribe").click()
    wait.until(lambda d: d.find_element(By.ID, "s2t-meta").text.startswith("recording.wav:"))
    assert browser.find_element(By.ID, "s2t-error").text == ""
    assert browser.find_element(By.ID, "s2t-text").text.strip()
