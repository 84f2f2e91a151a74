"""The repository stands on its own: no tracked file points outside it, and every relative link in
its Markdown resolves to a tracked file.

A clone has only what is tracked, so a reference to a sibling directory (the design notes the
project was started from), to a path on the machine it was written on, or to a document by a
name the repository does not hold is a dead end for its reader. Documentation lives in ``docs/``
and cites Kalshi's and the NWS's public pages by URL."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

URL = re.compile(r"https?://\S+")
# Built from parts so this file does not itself contain what it forbids.
_OUTSIDE = [
    re.escape("../" + "shared"),
    re.escape("/work" + "/") + r"[\w.-]",
    r"(?<![\w/-])" + re.escape("kalshi" + "-api.md"),
    r"(?<![\w/-])" + re.escape("kalshi" + "-facts"),
    r"(?<![\w/-])" + re.escape("weather" + ".md"),
    r"(?<![\w/-])" + re.escape("kalshi" + "-docs") + r"\b",
    # The design page exists, but only as docs/architecture.md: a bare name means the outside one.
    r"(?<![\w/-])" + re.escape("architecture" + ".md"),
]
OUTSIDE = re.compile("|".join(_OUTSIDE))
MD_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _tracked() -> list[str]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"not a git checkout: {exc}")
    return [name for name in out.stdout.decode().split("\0") if name and (ROOT / name).is_file()]


def _text(name: str) -> str | None:
    try:
        return (ROOT / name).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None


def test_no_tracked_file_refers_to_anything_outside_the_repository() -> None:
    offenders: list[str] = []
    for name in _tracked():
        text = _text(name)
        if text is None:
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            bare = URL.sub("", line)
            if name.startswith("docs/"):
                # Pages in docs/ name each other by their own relative names.
                bare = re.sub(r"\]\([\w-]+\.md(#[\w-]*)?\)", "]()", bare)
                bare = re.sub(r"\[[\w-]+\.md\]", "[]", bare)
            for match in OUTSIDE.finditer(bare):
                offenders.append(f"{name}:{lineno}: {match.group(0)!r} in {line.strip()[:100]!r}")
    assert not offenders, "references to files outside the repository:\n" + "\n".join(offenders)


def _anchors(text: str) -> set[str]:
    """The fragment ids GitHub gives a Markdown file's headings."""
    heads = re.findall(r"^#+\s+(.+?)\s*$", text, re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in heads}


def test_every_relative_markdown_link_resolves_to_a_tracked_file() -> None:
    tracked = _tracked()
    present = set(tracked) | {str(Path(name).parent) for name in tracked}
    broken: list[str] = []
    for name in tracked:
        if not name.endswith(".md"):
            continue
        text = _text(name) or ""
        for target in MD_LINK.findall(text):
            if re.match(r"[a-z]+:", target):
                continue
            if target.startswith("#"):
                target = Path(name).name + target
            path = (ROOT / Path(name).parent / target.split("#")[0]).resolve()
            try:
                relative = str(path.relative_to(ROOT))
            except ValueError:
                broken.append(f"{name}: {target} (outside the repository)")
                continue
            if relative not in present:
                broken.append(f"{name}: {target}")
            elif (
                "#" in target
                and relative.endswith(".md")
                and target.split("#", 1)[1] not in _anchors(path.read_text(encoding="utf-8"))
            ):
                broken.append(f"{name}: {target} (no such heading)")
    assert not broken, "links to files the repository does not hold:\n" + "\n".join(broken)


def test_the_check_catches_what_it_is_for() -> None:
    # The patterns above must match the references they exist to catch, and not our own docs.
    for line in (
        "see ../" + "shared/" + "architecture" + ".md",
        "kalshi" + "-api.md §7.1",
        "(weather" + ".md §3.3)",
        "architecture" + ".md §5",
        "/work/" + "shared/" + "kalshi" + "-docs/",
        "Contract (kalshi" + "-docs getting_started/rate_limits.md)",
    ):
        assert OUTSIDE.search(URL.sub("", line)), line
    for line in (
        "docs/architecture.md",
        "docs/weather-model.md",
        "https://github.com/ammario/kalshi" + "-docs/tree/main",
        "api.weather.gov",
    ):
        assert not OUTSIDE.search(URL.sub("", line)), line
