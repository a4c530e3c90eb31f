"""Articles on disk: one Markdown file per article and language, with a YAML front matter.

    kb/articles/<slug>.<lang>.md
    ---
    slug: das-activate
    lang: en
    title: How do I activate a D-Link Assist (DAS) service contract?
    questions: [...]
    tags: [...]
    related: [...]
    ---
    First paragraph = the short answer the bot shows first.

Articles may sit in sub-folders; a slug+lang must still be unique across all of them.
Loading never raises on a broken file: `load_articles` returns the good articles and a
`Problem` (file, line, message) for every bad one, which is what `kb lint` prints and what
the index builder skips.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import frontmatter
import yaml

# libyaml when available: loading 10,000 articles is 10x faster than with pure Python.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
LANGS: tuple[str, ...] = ("fr", "en")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FILE_RE = re.compile(r"^(?P<slug>.+)\.(?P<lang>[^.]+)\.md$")
REQUIRED_FIELDS: tuple[str, ...] = ("slug", "lang", "title", "questions", "tags", "related")
LIST_FIELDS: tuple[str, ...] = ("questions", "tags", "related")


@dataclass(frozen=True)
class ArticleRef:
    slug: str
    lang: str
    title: str

    def to_dict(self) -> dict[str, str]:
        return {"slug": self.slug, "lang": self.lang, "title": self.title}


@dataclass(frozen=True)
class Article:
    slug: str
    lang: str
    title: str
    questions: tuple[str, ...]
    tags: tuple[str, ...]
    related: tuple[str, ...]
    body: str
    path: Path

    @property
    def summary(self) -> str:
        """The first paragraph of the body: the short answer shown first."""
        return first_paragraph(self.body)

    @property
    def ref(self) -> ArticleRef:
        return ArticleRef(self.slug, self.lang, self.title)


@dataclass(frozen=True, order=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class LoadResult:
    articles: list[Article] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def first_paragraph(markdown: str) -> str:
    """The first block of prose, skipping headings: what a reader sees before 'Details'."""
    for block in re.split(r"\n\s*\n", markdown.strip()):
        block = block.strip()
        if block and not block.startswith("#"):
            return " ".join(line.strip() for line in block.splitlines())
    return ""


def article_files(articles_dir: Path) -> list[Path]:
    """Every article file, sub-folders included (editors may group articles by topic)."""
    if not articles_dir.is_dir():
        return []
    return sorted(p for p in articles_dir.rglob("*.md") if p.is_file() and p.name != "README.md")


def content_hash(articles_dir: Path) -> str:
    """The KB version: a hash of every article file's path and bytes, in path order."""
    digest = hashlib.sha256()
    for path in article_files(articles_dir):
        digest.update(path.relative_to(articles_dir).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _key_lines(front_matter: str, offset: int) -> dict[str, int]:
    """File line of each top-level key, so a problem points at the offending field."""
    lines: dict[str, int] = {}
    try:
        node = yaml.compose(front_matter, Loader=_Loader)
    except yaml.YAMLError:
        return lines
    if isinstance(node, yaml.MappingNode):
        for key_node, _value in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                lines[str(key_node.value)] = key_node.start_mark.line + offset
    return lines


class _LazyLines:
    """Key → line, parsed (a second YAML pass) only when a problem needs a line number."""

    def __init__(self, front_matter: str, offset: int) -> None:
        self._args = (front_matter, offset)
        self._lines: dict[str, int] | None = None

    def get(self, key: str, default: int) -> int:
        if self._lines is None:
            self._lines = _key_lines(*self._args)
        return self._lines.get(key, default)


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def parse_article(path: Path) -> tuple[Article | None, list[Problem]]:
    """Parse one file; on any problem return None and every problem found in it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        return None, [Problem(path, 1, f"cannot read the file: {err}")]
    if not text.startswith("---"):
        return None, [Problem(path, 1, "no front matter: the file must start with a '---' line")]
    handler = frontmatter.YAMLHandler()
    try:
        raw_front, body = handler.split(text)
    except ValueError:
        return None, [Problem(path, 1, "front matter not closed: add a '---' line after it")]
    # File line number of the front matter's first YAML line (0 for YAML's marks).
    offset = text.count("\n", 0, text.find(raw_front)) + 1
    try:
        meta = yaml.load(raw_front, Loader=_Loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + offset if mark is not None else 1
        reason = getattr(err, "problem", None) or str(err).splitlines()[0]
        return None, [Problem(path, line, f"front matter is not valid YAML: {reason}")]
    if not isinstance(meta, dict):
        return None, [Problem(path, 1, "front matter must be a mapping of fields (key: value)")]

    lines = _LazyLines(raw_front, offset)
    problems: list[Problem] = []
    for name in REQUIRED_FIELDS:
        if name not in meta or meta[name] is None:
            problems.append(Problem(path, 1, f"missing field '{name}'"))
    for name in ("slug", "lang", "title"):
        value = meta.get(name)
        if value is not None and not (isinstance(value, str) and value.strip()):
            problems.append(
                Problem(path, lines.get(name, 1), f"field '{name}' must be a non-empty text")
            )
    for name in LIST_FIELDS:
        value = meta.get(name)
        if value is not None and not _is_str_list(value):
            problems.append(
                Problem(path, lines.get(name, 1), f"field '{name}' must be a list of texts")
            )
    if isinstance(meta.get("questions"), list) and not meta["questions"]:
        problems.append(
            Problem(path, lines.get("questions", 1), "field 'questions' must not be empty")
        )

    slug, lang = meta.get("slug"), meta.get("lang")
    match = FILE_RE.match(path.name)
    if isinstance(slug, str) and slug.strip():
        if not SLUG_RE.match(slug):
            problems.append(
                Problem(
                    path,
                    lines.get("slug", 1),
                    f"slug '{slug}' must be lower-case words joined by '-'",
                )
            )
        elif match is None or match["slug"] != slug:
            problems.append(
                Problem(
                    path,
                    lines.get("slug", 1),
                    f"slug '{slug}' does not match the file name {path.name}",
                )
            )
    if isinstance(lang, str) and lang.strip():
        if lang not in LANGS:
            problems.append(
                Problem(
                    path, lines.get("lang", 1), f"lang '{lang}' must be one of: {', '.join(LANGS)}"
                )
            )
        elif match is None or match["lang"] != lang:
            problems.append(
                Problem(
                    path,
                    lines.get("lang", 1),
                    f"lang '{lang}' does not match the file name {path.name}",
                )
            )
    if match is None:
        problems.append(Problem(path, 1, "file name must be <slug>.<lang>.md"))

    body = body.strip()
    if not first_paragraph(body):
        body_line = text.count("\n", 0, text.find(raw_front) + len(raw_front)) + 2
        problems.append(Problem(path, body_line, "empty body: write at least a first paragraph"))
    if problems:
        return None, sorted(problems)
    return (
        Article(
            slug=str(slug),
            lang=str(lang),
            title=str(meta["title"]).strip(),
            questions=tuple(q.strip() for q in meta["questions"]),
            tags=tuple(t.strip() for t in meta["tags"]),
            related=tuple(r.strip() for r in meta["related"]),
            body=body,
            path=path,
        ),
        [],
    )


def load_articles(articles_dir: Path) -> LoadResult:
    """Every parsable article of the directory; a Problem for each file that is not."""
    result = LoadResult()
    seen: dict[tuple[str, str], Path] = {}
    for path in article_files(articles_dir):
        article, problems = parse_article(path)
        result.problems.extend(problems)
        if article is None:
            continue
        key = (article.slug, article.lang)
        if key in seen:
            result.problems.append(
                Problem(
                    path,
                    1,
                    f"duplicate article {article.slug} ({article.lang}): also in {seen[key].name}",
                )
            )
            continue
        seen[key] = path
        result.articles.append(article)
    return result


def scaffold(slug: str, lang: str, phrasings: Sequence[str] = ()) -> str:
    """The text of a new article with its front matter filled in, for `kb new`; the
    `phrasings` (a customer's question the KB could not answer) as its `questions:`."""
    if lang == "fr":
        title, question, answer = (
            "Question posée par le client ?",
            "Une autre façon de poser la question ?",
            "La réponse courte et directe, en un paragraphe : c'est ce que le bot montre d'abord.",
        )
        details = "## Détails"
    else:
        title, question, answer = (
            "The customer's question?",
            "Another way to ask the question?",
            "The short, direct answer in one paragraph: this is what the bot shows first.",
        )
        details = "## Details"
    meta = {
        "slug": slug,
        "lang": lang,
        "title": title,
        "questions": [p.strip() for p in phrasings if p.strip()] or [question],
        "tags": [],
        "related": [],
    }
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=None)
    return f"---\n{front}---\n{answer}\n\n{details}\n\n"


def suggest_slug(text: str, words: int = 6) -> str:
    """A slug for an article answering `text`: its first words of 3+ letters, folded."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    kept = [w for w in re.findall(r"[a-z0-9]+", folded) if len(w) >= 3][:words]
    return "-".join(kept)[:60].strip("-") or "new-article"


def slugs_by_lang(articles: Iterable[Article]) -> dict[str, set[str]]:
    by_lang: dict[str, set[str]] = {lang: set() for lang in LANGS}
    for article in articles:
        by_lang.setdefault(article.lang, set()).add(article.slug)
    return by_lang
