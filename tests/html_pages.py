"""What the web-page tests share: headless Chromium, and the check that a
page needs nothing from outside itself."""
import re
import shutil

import pytest


@pytest.fixture(scope='module')
def browser():
    webdriver = pytest.importorskip('selenium.webdriver')
    chromium, driver = shutil.which('chromium'), shutil.which('chromedriver')
    if not (chromium and driver):
        pytest.skip('needs Debian\'s chromium and chromium-driver '
                    '(apt-get install -y chromium chromium-driver)')
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ('--headless=new', '--no-sandbox', '--disable-gpu',
                 '--window-size=900,900'):
        options.add_argument(flag)
    session = webdriver.Chrome(options=options,
                               service=webdriver.ChromeService(driver))
    yield session
    session.quit()


def assert_self_contained(text):
    """No script, style sheet, font or image fetched from anywhere: every
    ``src`` is a data: URI and no ``href``/``url()`` leaves the folder."""
    sources = re.findall(r'\bsrc\s*=\s*["\']?([^"\'\s>]+)', text)
    assert sources and all(re.match(r'data:image/(png|jpeg);base64,', s)
                           for s in sources), [s[:40] for s in sources]
    assert not re.search(r'<script|<link|@import|url\(', text, re.I)
    for href in re.findall(r'\bhref\s*=\s*["\']?([^"\'\s>]+)', text):
        assert not re.match(r'[a-z]+:|//', href, re.I), href


def rendered_screenshot(browser, url, timeout=60):
    """Open ``url`` and return a screenshot (PIL) once the page is loaded,
    its images decoded and a frame painted: on a busy machine headless
    Chromium can hand back a blank first frame otherwise."""
    import io
    import time

    from PIL import Image, ImageStat
    from selenium.webdriver.support.ui import WebDriverWait
    browser.get(url)
    WebDriverWait(browser, timeout).until(lambda b: b.execute_script(
        'return document.readyState === "complete" && '
        'Array.from(document.images).every(i => i.complete)'))
    deadline = time.monotonic() + timeout
    while True:
        browser.execute_async_script(  # one painted frame
            'requestAnimationFrame(() => requestAnimationFrame('
            'arguments[arguments.length - 1]))')
        shot = Image.open(io.BytesIO(browser.get_screenshot_as_png()))
        if (max(ImageStat.Stat(shot.convert('L')).stddev) > 0
                or time.monotonic() > deadline):
            return shot
        time.sleep(0.5)
