"""Mailpit as a component: SMTP in (a Chinese subject arrives intact), its API out, and its web
inbox served and rendered (the UI bundle is built into the binary; a screenshot is taken with
headless Chromium and checked for more than a blank page)."""

from __future__ import annotations

import json
import smtplib
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from alliance_local.infra import ensure_chromium
from alliance_local.mailpit import Mailpit

SUBJECT = "会费提醒 Dues reminder: 2026年度"


@pytest.fixture(scope="module")
def mailpit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mailpit]:
    server = Mailpit(tmp_path_factory.mktemp("mailpit"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


def get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers.get("content-type", ""), response.read()


def api(mailpit: Mailpit, path: str) -> Any:
    return json.loads(get(f"{mailpit.url}/api/v1/{path}")[2])


def send(mailpit: Mailpit, subject: str, body: str) -> str:
    message = EmailMessage()
    message["From"] = "Alliance <notifications@alliance.example>"
    message["To"] = "陈丽 <chen.li@member.example>"
    message["Subject"] = subject
    message["Message-ID"] = "<test-1@alliance.example>"
    message.set_content(body)
    with smtplib.SMTP(mailpit.smtp_host, mailpit.smtp_port, timeout=10) as smtp:
        smtp.send_message(message)
    return str(message["Message-ID"])


def test_a_chinese_subject_arrives_intact_and_the_api_reads_it(mailpit: Mailpit) -> None:
    send(mailpit, SUBJECT, "您的会费将于30天后到期。\nYour dues fall due in 30 days.")
    listing = api(mailpit, "messages")
    assert listing["total"] == 1
    summary = listing["messages"][0]
    assert summary["Subject"] == SUBJECT
    assert summary["MessageID"] == "test-1@alliance.example"
    assert [(t["Name"], t["Address"]) for t in summary["To"]] == [("陈丽", "chen.li@member.example")]
    message = api(mailpit, f"message/{summary['ID']}")
    assert "您的会费将于30天后到期。" in message["Text"]


def test_the_web_inbox_serves_its_app_and_renders(mailpit: Mailpit, tmp_path: Path) -> None:
    status, content_type, page = get(f"{mailpit.url}/")
    assert status == 200 and b"dist/app.js" in page
    status, content_type, script = get(f"{mailpit.url}/dist/app.js")
    assert status == 200 and "javascript" in content_type
    assert len(script) > 100_000  # the bundled Vue application, not an empty placeholder
    assert get(f"{mailpit.url}/dist/app.css")[0] == 200

    if not api(mailpit, "messages")["total"]:
        send(mailpit, SUBJECT, "inbox")
    shot = tmp_path / "mailpit-inbox.png"
    chromium = ensure_chromium()
    result = subprocess.run(
        [
            str(chromium),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1280,800",
            "--virtual-time-budget=8000",
            f"--screenshot={shot}",
            f"{mailpit.url}/",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.exists(), result.stderr[-2000:]
    # A blank inbox (no app.js) is one flat colour; the rendered one has the toolbar, the list and
    # the subject. Count distinct colours in the PNG's pixels as a coarse "it drew something".
    assert distinct_colours(shot) > 20, f"the inbox looks blank: {shot}"
    keep = Path(__file__).resolve().parents[2] / ".cache" / "screenshots"
    keep.mkdir(parents=True, exist_ok=True)
    (keep / shot.name).write_bytes(shot.read_bytes())


def distinct_colours(png: Path) -> int:
    """Distinct RGB colours in a screenshot (Chromium writes 8-bit RGBA PNGs), read with zlib only."""
    import struct
    import zlib

    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, b"", b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks += body
        pos += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", header[:10])
    channels = {2: 3, 6: 4}[colour_type]
    assert depth == 8
    raw = zlib.decompress(chunks)
    stride = width * channels
    colours: set[bytes] = set()
    previous = bytearray(stride)
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):  # undo the PNG row filter
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            upper_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - upper_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else upper_left
                line[i] = (line[i] + predictor) & 0xFF
        if row % 4 == 0:
            colours.update(bytes(line[i : i + 3]) for i in range(0, stride, channels * 4))
        previous = line
    return len(colours)


def test_stop_and_start_keep_the_mail(mailpit: Mailpit) -> None:
    before = api(mailpit, "messages")["total"]
    assert before >= 1
    mailpit.stop()
    mailpit.start()
    deadline = time.monotonic() + 10
    while api(mailpit, "messages")["total"] != before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert api(mailpit, "messages")["total"] == before
