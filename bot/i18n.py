"""Every text a user reads, in French or English: gettext catalogs, Jinja2 templates, Babel.

`texts_for(lang, tz)` gives a `Texts`: gettext/ngettext for the language, Babel formatting
of dates, times and durations for the user's locale and time zone, the Jinja2 templates
rendered with `{% trans %}` in that language, and domain refusals translated with their
parameters formatted for the locale.

Catalogs live in locales/<lang>/LC_MESSAGES/messages.po; `make catalogs` compiles them to
.mo (build output, not committed). When a .mo is missing or older than its .po (a developer
who ran pytest directly), the .po is compiled in memory, so the bot never shows stale texts.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
import re
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date, format_datetime, format_timedelta
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.media import mark
from kb.articles import LANGS
from services.das import mask_code
from services.errors import Refusal

ROOT = Path(__file__).resolve().parent.parent
LOCALES_DIR = ROOT / "locales"
TEMPLATES_DIR = ROOT / "templates"
DOMAIN = "messages"
LANGUAGES = LANGS  # the languages the KB is written in are the ones the bot speaks
DEFAULT_LANG = "en"

# Refusal parameters that are secrets: shown masked, never echoed in full.
_SECRET_PARAMS = frozenset({"code"})


def normalize_lang(value: str | None) -> str | None:
    """ "fr", "fr-FR", "fr_CA", "FR" → "fr"; anything we do not speak → None."""
    if not value:
        return None
    short = value.strip().replace("_", "-").split("-")[0].lower()
    return short if short in LANGUAGES else None


@cache
def translations(lang: str) -> gettext.NullTranslations:
    po = LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return gettext.GNUTranslations(handle)
    if po.exists():
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return gettext.GNUTranslations(buffer)
    return gettext.NullTranslations()


class Trusted(str):
    """Text the bot's own authors wrote in the neutral markup (a KB article's Markdown):
    interpolated as markup, not as data."""

    __slots__ = ()


def _as_data(value: Any) -> Any:
    """Every `{{ value }}` a template prints is data, marked for the medium to escape;
    trusted markup stays markup (`bot.media`)."""
    if value is None or isinstance(value, Trusted):
        return value
    return mark(value)


@cache
def _environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        extensions=["jinja2.ext.i18n"],
        autoescape=False,  # not HTML: each medium escapes the marked values itself
        finalize=_as_data,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    # Trimmed {% trans %} blocks give one-line msgids; babel.cfg says the same to extraction.
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    return env


def _zone(tz: str | None, fallback: str = "UTC") -> ZoneInfo:
    for name in (tz, fallback, "UTC"):
        if not name:
            continue
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def valid_timezone(tz: str | None) -> bool:
    if not tz:
        return False
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Texts:
    """The texts of one user: their language and their time zone."""

    lang: str
    tz: str = "UTC"

    @cached_property
    def locale(self) -> Locale:
        return Locale.parse(self.lang)

    @cached_property
    def zone(self) -> ZoneInfo:
        return _zone(self.tz)

    def gettext(self, message: str, **params: Any) -> str:
        text = translations(self.lang).gettext(message)
        return text % params if params else text

    _ = gettext

    def ngettext(self, singular: str, plural: str, n: int, **params: Any) -> str:
        text = translations(self.lang).ngettext(singular, plural, n)
        return text % {"num": n, **params}

    # --- Babel formatting ---------------------------------------------------------------

    def date(self, value: dt.date, style: str = "long") -> str:
        return self._first_of_month(format_date(value, style, locale=self.locale), value.day)

    def datetime(self, value: dt.datetime) -> str:
        """A moment in the user's zone, with the zone spelled out: deadlines are unambiguous."""
        date_pattern = self.locale.date_formats["full"].pattern
        time_pattern = self.locale.time_formats["short"].pattern
        pattern = str(self.locale.datetime_formats["full"]).format(time_pattern, date_pattern)
        text = format_datetime(value, f"{pattern} (zzzz)", tzinfo=self.zone, locale=self.locale)
        return self._first_of_month(text, value.astimezone(self.zone).day)

    def _first_of_month(self, text: str, day: int) -> str:
        """French writes the first of the month "1er novembre"; Babel writes "1 novembre"."""
        if self.lang == "fr" and day == 1:
            return re.sub(r"(?<!\d)1(?= \w)", "1er", text, count=1)
        return text

    def duration(self, value: dt.timedelta) -> str:
        # threshold=2: "24 hours" stays in hours instead of becoming "1 day".
        return format_timedelta(value, threshold=2, locale=self.locale)

    def join(self, items: list[str]) -> str:
        return format_list(items, locale=self.locale) if items else ""

    # --- templates and refusals ---------------------------------------------------------

    def render(self, template: str, **context: Any) -> str:
        env = _environment(self.lang)
        return env.get_template(template).render(t=self, **context).strip()

    def has_template(self, template: str) -> bool:
        return (TEMPLATES_DIR / template).is_file()

    def refusal(self, err: Refusal) -> str:
        """A domain refusal in the user's language, its parameters formatted for the locale
        and marked as data (`bot.media`)."""
        template = self.gettext(type(err).message)
        params = {key: mark(self._param(key, value)) for key, value in err.params.items()}
        try:
            return template.format(**params)
        except (KeyError, IndexError):  # a translation naming a parameter the code lacks
            return type(err).message.format(**params)

    def _param(self, key: str, value: Any) -> str:
        if key in _SECRET_PARAMS and isinstance(value, str) and "*" not in value:
            return mask_code(value)  # services mask their codes; this is a safety net
        if isinstance(value, dt.datetime):
            return self.datetime(value)
        if isinstance(value, dt.date):
            return self.date(value)
        if isinstance(value, (list, tuple, set, frozenset)):
            return self.join([str(self._param("", v)) for v in value])
        return shorten(str(value))


ECHO_CHARS = 80


def shorten(value: str, limit: int = ECHO_CHARS) -> str:
    """What the user typed, echoed in a refusal: a pasted page is not repeated in full."""
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def texts_for(lang: str | None, tz: str | None = None) -> Texts:
    return Texts(normalize_lang(lang) or DEFAULT_LANG, tz if tz and valid_timezone(tz) else "UTC")
