"""Alert URLs are shown only redacted, and error text is scrubbed of every piece that may be secret."""

from __future__ import annotations

import pytest

from kalshi_trader.alerts.urls import redact, scrub, secrets_of


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("tgram://123456789:AAHsecretBotToken/987654", "tgram://***"),
        ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", "discord://***"),
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ", "slack://***"),
        ("ntfys://my-private-topic", "ntfys://***"),
        ("json://127.0.0.1:8080/hook?+X-Token=s3cr3t-header", "json://127.0.0.1:8080/***"),
        ("jsons://user:pass-word@hooks.example.com/x", "jsons://hooks.example.com/***"),
        ("mailtos://me:app-password@smtp.example.com?to=ops@example.com", "mailtos://smtp.example.com/***"),
        ("not a url", "***"),
    ],
)
def test_redact_keeps_only_what_cannot_be_secret(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_scrub_removes_tokens_from_a_library_message() -> None:
    url = "tgram://123456789:AAHsecretBotToken/987654?format=markdown"
    message = "Failed to send to https://api.telegram.org/bot123456789:AAHsecretBotToken/sendMessage chat 987654"
    text = scrub(message, [url])
    assert "AAHsecretBotToken" not in text
    assert "987654" not in text
    assert "123456789" not in text
    assert text.startswith("Failed to send to https://api.telegram.org/bot")


def test_scrub_covers_percent_encoded_passwords_and_header_values() -> None:
    url = "json://bob:p%40ss-w0rd@127.0.0.1:9/hook?+Authorization=Bearer%20tok-123456"
    assert "p@ss-w0rd" in secrets_of(url)
    text = scrub("login p@ss-w0rd refused; header Bearer tok-123456 rejected", [url])
    assert "p@ss-w0rd" not in text
    assert "tok-123456" not in text


def test_short_pieces_are_not_scrubbed() -> None:
    assert scrub("port 9 on host", ["json://127.0.0.1:9/a"]) == "port 9 on host"
