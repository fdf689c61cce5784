"""Every relative link in the repository's documentation leads somewhere real.

Checked files: README.md, every .md under docs/, and Benchmarks/README.md. For each relative
markdown link `[text](path)`, `[text](path#anchor)`, `[text](#anchor)` or reference definition
`[ref]: path`, the path must exist inside the repository (no `..` out of it), and an anchor into
a .md file must be the slug of one of its headings, by GitHub's rules. http(s) and mailto links
are not checked. Needs no server: plain Python and pytest.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[2]

FENCE = re.compile(r"^ {0,3}(```|~~~)")
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
# [text](target) and ![alt](target); the text may hold one level of brackets (badges, code).
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^()\s]+(?:\([^()\s]*\)[^()\s]*)*)(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
HTML_ANCHOR = re.compile(r"<a\s[^>]*\b(?:name|id)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
SKIPPED_SCHEMES = re.compile(r"^(?:https?:|mailto:)", re.IGNORECASE)


def documentation_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "Benchmarks" / "README.md"]
    files += sorted((ROOT / "docs").rglob("*.md"))
    return [path for path in files if path.is_file()]


def prose_lines(text: str, blank_code: bool = True) -> list[tuple[int, str]]:
    """The lines outside fenced code blocks, numbered from 1, with inline code spans blanked
    unless `blank_code` is false."""
    lines: list[tuple[int, str]] = []
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)
            continue
        if fence is not None:
            if match and match.group(1) == fence:
                fence = None
            continue
        lines.append((number, INLINE_CODE.sub(lambda code: " " * len(code.group(0)), line) if blank_code else line))
    return lines


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: the rendered text, lowercased, with everything but
    letters, digits, underscores, hyphens and spaces removed, and each space made a hyphen."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links and images: their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML tags
    text = text.replace("`", "")
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor a reader can jump to in a markdown file, duplicates numbered as GitHub does."""
    text = path.read_text(encoding="utf-8")
    found: set[str] = set()
    seen: dict[str, int] = {}

    def add(heading: str) -> None:
        slug = github_slug(heading)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")

    previous: str | None = None
    previous_number = -1
    for number, line in prose_lines(text, blank_code=False):
        for name in HTML_ANCHOR.findall(line):
            found.add(name)
        heading = ATX_HEADING.match(line)
        if heading:
            add(heading.group(2) or "")
            previous = None
            continue
        if (SETEXT_UNDERLINE.match(line) and previous and previous.strip()
                and previous_number == number - 1 and not previous.lstrip().startswith(("-", "*", "|", ">"))):
            add(previous.strip())
            previous = None
            continue
        previous, previous_number = line, number
    return found


def links(path: Path) -> list[tuple[int, str]]:
    """(line number, target) of every inline link, image and reference definition."""
    found: list[tuple[int, str]] = []
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        definition = REFERENCE_DEFINITION.match(line)
        if definition:
            found.append((number, definition.group(1)))
            continue
        for match in INLINE_LINK.finditer(line):
            found.append((number, match.group(1)))
    return [(number, target.strip("<>")) for number, target in found]


def problem(source: Path, target: str) -> str | None:
    """Why a link target is broken, or None when it is fine or not ours to check."""
    if SKIPPED_SCHEMES.match(target):
        return None
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
        return "uses a scheme other than http(s) or mailto"
    path_part, _, anchor = target.partition("#")
    path_part = unquote(path_part.split("?", 1)[0])
    if path_part:
        base = ROOT if path_part.startswith("/") else source.parent
        resolved = (base / path_part.lstrip("/")).resolve()
        if resolved != ROOT and ROOT not in resolved.parents:
            return "points outside the repository"
        if not resolved.exists():
            return "does not exist"
    else:
        resolved = source
    if anchor:
        if resolved.is_file() and resolved.suffix.lower() == ".md":
            if unquote(anchor) not in anchors(resolved):
                return f"has no heading for #{anchor}"
        elif resolved.is_dir() or resolved.suffix.lower() != ".md":
            return None  # anchors into code or directories are GitHub line/UI anchors, not checked
    return None


def broken_links() -> list[str]:
    broken = []
    for source in documentation_files():
        for number, target in links(source):
            reason = problem(source, target)
            if reason:
                broken.append(f"{source.relative_to(ROOT)}:{number}: ({target}) {reason}")
    return broken


def test_the_documentation_files_exist():
    names = {str(path.relative_to(ROOT)) for path in documentation_files()}
    assert {"README.md", "Benchmarks/README.md", "docs/API.md"} <= names, names


def test_every_relative_link_resolves():
    broken = broken_links()
    assert not broken, f"{len(broken)} broken link(s):\n" + "\n".join(broken)


def test_github_slug_rules():
    assert github_slug("Differences from OpenRouter") == "differences-from-openrouter"
    assert github_slug("`GET /api/v1/models/{author}/{slug}`") == "get-apiv1modelsauthorslug"
    assert github_slug("Swift: `SpeechRouterClient`") == "swift-speechrouterclient"
    assert github_slug("local/piper against Piper's own command line (`bench_piper.py`)") == (
        "localpiper-against-pipers-own-command-line-bench_piperpy")
    assert github_slug("Keys management API") == "keys-management-api"
    assert github_slug("Error — and hyphen-ated") == "error--and-hyphen-ated"


def test_the_checker_catches_what_it_should(tmp_path, monkeypatch):
    """The rules themselves, on a throwaway tree: every kind of broken link is reported."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "other.md").write_text(
        "# Real heading\n\n## Twice\n\n## Twice\n\n### `GET /api/v1/key`\n\nSetext\n---\n", encoding="utf-8")
    (tmp_path / "README.md").write_text(
        "[ok](other.md) [ok](other.md#real-heading) [ok](other.md#twice-1) [ok](#top)\n"
        "[ok](https://example.com/x) [ok](docs/) [ok](other.md#get-apiv1key) [ok](<other.md#setext> \"t\")\n"
        "[missing](nothing.md) [anchor](other.md#nope) [self](#nowhere) [out](../outside.md)\n"
        "`[in code](nothing.md)`\n\n```\n[in fence](nothing.md)\n```\n\n# Top\n",
        encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path.resolve())
    broken = broken_links()
    assert [line.split(" ", 1)[0] for line in broken] == ["README.md:3:"] * 4, broken
    assert any("does not exist" in line for line in broken)
    assert any("#nope" in line for line in broken)
    assert any("#nowhere" in line for line in broken)
    assert any("outside the repository" in line for line in broken)
