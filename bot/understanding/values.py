"""The values a message names, found once so that they can fill a flow's slots.

"register my DGS-3630-28TC serial S3XY1A2004242 bought 12/11/2026" names a model, a serial
and a date; "activate code NBD3-7KQ2-A9XM on my DGS-1210" a code and a model; "where is
ticket 7" an incident number; "mon code postal est 33000" a postal code. Each kind of
value is taken only where the message says what it is, or where its shape leaves no doubt:

- incident numbers only when the message refers to an incident: "INC-000002", "incident 2",
  "ticket n° 2", "#2" — never a bare number ("after 2 hours", "3 jours");
- models from the catalogue's list, however they are typed ("dgs3630", "DGS 1210-28",
  "dir-x5460"): a unique prefix names its model ("DGS-1210" → DGS-1210-28); a word shaped
  like a model (letters, dash, digits: "DGS-1100") that the catalogue does not know is
  kept as written;
- serials after "serial", "S/N", "numéro de série"… (spaces and dashes dropped, as
  services.catalog stores them); activation codes after "code" or shaped as groups of
  letters and digits joined by dashes ("NBD3-7KQ2-A9XM"); an identifier left over,
  named by nothing, is kept as `identifier` for the flow to use as serial or code;
- dates through bot.understanding.when; postal codes after "code postal", "zip", "postcode";
- subscriptions from the names passed in ("onetouch at.com", "linksprinter.com").
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.nlu import is_code_shaped
from bot.understanding.when import DateMention, dates_in


@dataclass(frozen=True)
class IncidentRef:
    number: int
    text: str  # as written: "INC-000002", "ticket 2", "#2"
    how: str  # "number" (INC-…), "word" (incident/ticket/case 2), "hash" (#2), "verb" (reopen 2)


@dataclass(frozen=True)
class ModelMention:
    text: str  # as written: "dgs3630"
    model: str | None  # the catalogue's model it names, None when unknown or ambiguous
    candidates: tuple[str, ...] = ()  # catalogue models it may name, when several


@dataclass(frozen=True)
class Values:
    model: ModelMention | None = None
    serial: str | None = None
    code: str | None = None
    identifier: str | None = None  # a serial- or code-like word named by nothing
    dates: tuple[DateMention, ...] = ()
    incident: IncidentRef | None = None
    postal_code: str | None = None
    subscription: str | None = None
    subscription_text: str | None = None  # as written, to cut it out of a summary
    summary: str | None = None  # filled by the reading for an incident report
    description: str | None = None  # the whole report, when it is longer than a summary

    @property
    def date(self) -> dt.date | None:
        """The one date given; None when none or several."""
        return self.dates[0].value if len(self.dates) == 1 else None

    def slots(self) -> dict[str, str]:
        """What this reading can fill, by the flows' slot names (values as text)."""
        out: dict[str, str] = {}
        if self.model is not None:
            out["model"] = self.model.model or self.model.text
        if self.serial:
            out["serial"] = self.serial
        if self.code:
            out["code"] = self.code
        if self.date is not None:
            out["purchase_date"] = self.date.isoformat()
        if self.incident is not None:
            out["incident_number"] = str(self.incident.number)
        if self.postal_code:
            out["postal_code"] = self.postal_code
        if self.subscription:
            out["subscription"] = self.subscription
        if self.summary:
            out["summary"] = self.summary
        if self.description:
            out["description"] = self.description
        return out


SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")

_INC = re.compile(r"(?<![\w-])inc\s*[-‐–#]?\s*(\d{1,9})(?!\w)", re.IGNORECASE)
_INCIDENT_WORD = re.compile(
    r"(?<!\w)(?:incidents?|tickets?|cases?|dossiers?|cas|demandes?|requests?)"
    r"\s*(?:(?:n°|n º|no\.?|nº|num(?:[eé]ro)?\.?|number|#)\s*)?(\d{1,9})(?![\w/.:-]|\s*(?:h|hours?|heures?|jours?|days?|min)\b)",
    re.IGNORECASE,
)
_HASH = re.compile(r"(?<![\w&])#\s?(\d{1,9})(?!\w)")
# Asking to reopen, in either language ("reopen", "rouvrir", "réouvrir").
REOPEN_WORDS = r"re-?open\w*|rouvr\w*|r[eé]-?ouvr\w*"
# A bare number right after what is done to incidents, ending the request: "reopen 6",
# "rouvrir le 5", "status 3 please". Not "check 3 products" nor "reopen in 2 days".
_INCIDENT_VERB = re.compile(
    rf"(?<!\w)(?:{REOPEN_WORDS}|status|statut|[eé]tat|suivi|follow\s+up"
    r"|reply\s+(?:to\s+)?|r[eé]pondre\s+(?:au|à|a)?)\s*"
    r"(?:(?:of|on|du|de|le|la|l['’]|au|number|num[eé]ro|n°|no\.?)\s*)?(\d{1,9})"
    r"(?=\s*(?:please|pls|svp|stp|merci|thanks)?\s*[.!?]*\s*$)",
    re.IGNORECASE,
)

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-‐–/.]*[A-Za-z0-9]|[A-Za-z0-9]")
# Letters, a dash, digits: how model names look ("DGS-1100-10", "DIR-X1860", "DAP-2662").
_MODEL_SHAPE = re.compile(r"^[A-Za-z]{2,4}-[A-Za-z]?\d{2,5}[A-Za-z0-9]*(?:-[A-Za-z0-9]+)*$")
# Groups of letters and digits joined by dashes, each with a digit somewhere: a code.
_SERIAL_KEY = re.compile(
    r"(?<!\w)(?:serial(?:\s+(?:number|no\.?|num|#))?|s/n|s\.n\.?|sn|num[eé]ro\s+de\s+s[eé]rie"
    r"|n°\s*(?:de\s+)?s[eé]rie|no\s+de\s+s[eé]rie|s[eé]rie|numero\s+serie"
    # "le numéro est S3TC 2700 04512": a number with letters in it is no incident's.
    r"|num[eé]ro(?=\s+(?:est|c['’ ]?est|:)))(?!\w)"
    r"\s*(?:is|est|c['’ ]?est|it['’ ]?s|:|=|#|-)?\s*(?:is|est|:)?\s*",
    re.IGNORECASE,
)
_CODE_KEY = re.compile(
    r"(?<!\w)(?:activation\s+code|code\s+d['’ ]?activation|code\s+das|das\s+code|code|key|cl[eé])"
    r"(?!\s*postal)(?!\w)\s*(?:is|est|:|=|#|-)?\s*",
    re.IGNORECASE,
)
_POSTAL_KEY = re.compile(
    r"(?<!\w)(?:code\s+postal|postal\s+code|post\s*code|zip(?:\s+code)?|cp)(?!\w)"
    r"\s*(?:is|est|:|=|c['’]est|it['’]s)?\s*",
    re.IGNORECASE,
)
_POSTAL = re.compile(
    r"^([A-Za-z0-9]{2,4}\s[0-9][A-Za-z]{2}|[A-Za-z0-9]{3,10}(?:-[0-9]{3,4})?)(?!\w)",
)
_ID_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-‐–]*")


_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]+")


def compact(text: str) -> str:
    """Letters and digits only, upper case, accents folded: "dgs 3630-28tc" → "DGS363028TC"."""
    if text.isascii():
        return _NOT_ALNUM.sub("", text).upper()
    folded = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in folded if ch.isalnum() and ch.isascii()).upper()


def normalize_identifier(text: str) -> str:
    """How services.catalog and services.das store serials and codes."""
    return SEPARATORS.sub("", text).upper()


def extract(
    text: str,
    *,
    today: dt.date,
    catalogue_models: Sequence[str] = (),
    subscriptions: Sequence[str] = (),
) -> tuple[Values, list[tuple[int, int, str]]]:
    """The values `text` names, and where each is ((start, end, kind)) so that the words
    around them can be read without them."""
    taken: list[tuple[int, int, str]] = []

    def free(start: int, end: int) -> bool:
        return not any(start < e and s < end for s, e, _ in taken)

    incident = _incident(text)
    if incident is not None:
        taken.append((*incident[1], "incident"))
    subscription = _subscription(text, subscriptions)
    if subscription is not None:
        taken.append((*subscription[2], "subscription"))
    postal = _after_key(text, _POSTAL_KEY, _POSTAL, free)
    if postal is not None:
        taken.append((*postal[1], "postal_code"))
    serial = _serial(text, free)
    if serial is not None:
        taken.append((*serial[1], "serial"))
    model = _model(text, catalogue_models, free)
    if model is not None:
        taken.append((*model[1], "model"))
    code = _code(text, free)
    if code is not None:
        taken.append((*code[1], "code"))
    identifier = _identifier(text, free)
    if identifier is not None:
        taken.append((*identifier[1], "identifier"))
    dates = tuple(d for d in dates_in(text, today) if free(d.start, d.start + len(d.text)))
    taken.extend((d.start, d.start + len(d.text), "date") for d in dates)
    values = Values(
        model=model[0] if model else None,
        serial=serial[0] if serial else None,
        code=code[0] if code else None,
        identifier=identifier[0] if identifier else None,
        dates=dates,
        incident=incident[0] if incident else None,
        postal_code=postal[0].upper() if postal else None,
        subscription=subscription[0] if subscription else None,
        subscription_text=text[subscription[2][0] : subscription[2][1]] if subscription else None,
    )
    return values, sorted(taken)


def _incident(text: str) -> tuple[IncidentRef, tuple[int, int]] | None:
    patterns = (
        (_INC, "number"),
        (_INCIDENT_WORD, "word"),
        (_HASH, "hash"),
        (_INCIDENT_VERB, "verb"),
    )
    for pattern, how in patterns:
        found = pattern.search(text)
        if found:
            ref = IncidentRef(int(found.group(1)), found.group(0).strip(), how)
            return ref, (found.start(), found.end())
    return None


_WEB_END = re.compile(r"\.(?:com|net|org|io)$", re.IGNORECASE)


def _subscription(text: str, names: Sequence[str]) -> tuple[str, str, tuple[int, int]] | None:
    """The subscription named, matched on letters and digits only ("linksprinter.com",
    "onetouch at com"); the longest name wins ("Nuclias Cloud Pro" over a shorter one)."""
    if not names:
        return None
    index, squeezed = _squeeze(text)
    # "linksprinter" names LinkSprinter.com: a web name is also said without its ending.
    keys = [(compact(name), name) for name in names]
    keys += [(compact(bare), name) for name in names if (bare := _WEB_END.sub("", name)) != name]
    for key, name in sorted(keys, key=lambda pair: -len(pair[0])):
        if len(key) < 4:
            continue
        at = squeezed.find(key)
        # Whole words only: "link" in "linksprinter" names nothing.
        while at >= 0:
            start, end = index[at], index[at + len(key) - 1] + 1
            before = text[start - 1] if start else " "
            after = text[end] if end < len(text) else " "
            if not before.isalnum() and not after.isalnum():
                return name, key, (start, end)
            at = squeezed.find(key, at + 1)
    return None


def _squeeze(text: str) -> tuple[list[int], str]:
    """`text` as compact() letters, with each letter's position in `text`."""
    index: list[int] = []
    letters: list[str] = []
    for i, ch in enumerate(text):
        if ch.isascii():
            if ch.isalnum():
                index.append(i)
                letters.append(ch.upper())
            continue
        for part in compact(ch):
            index.append(i)
            letters.append(part)
    return index, "".join(letters)


def _after_key(
    text: str, key: re.Pattern[str], shape: re.Pattern[str], free: Callable[[int, int], bool]
) -> tuple[str, tuple[int, int]] | None:
    for found in key.finditer(text):
        rest = text[found.end() :]
        value = shape.match(rest)
        if value and any(ch.isdigit() for ch in value.group(1)):
            start = found.end() + value.start(1)
            return value.group(1), (start, start + len(value.group(1)))
    return None


def _identifier_after(text: str, at: int, *, spaced: bool) -> tuple[str, int, int] | None:
    """The identifier starting at `at`; with `spaced`, groups typed with spaces
    ("R4AB 1C30 0988") are joined while each group has a digit."""
    first = _ID_TOKEN.match(text, at)
    if first is None:
        return None
    end = first.end()
    if not any(ch.isdigit() for ch in first.group()):
        # "QBQE 1600 77810": a group of letters opens a serial typed in groups.
        gap = re.match(r"[ \t]+", text[end:]) if spaced and len(first.group()) <= 6 else None
        nxt = _ID_TOKEN.match(text, end + gap.end()) if gap else None
        if nxt is None or not any(ch.isdigit() for ch in nxt.group()) or len(nxt.group()) > 6:
            return None
    while spaced:
        gap = re.match(r"[ \t]+", text[end:])
        if gap is None:
            break
        nxt = _ID_TOKEN.match(text, end + gap.end())
        if nxt is None or not any(ch.isdigit() for ch in nxt.group()) or len(nxt.group()) > 6:
            break
        end = nxt.end()
    raw = text[at:end].rstrip("-‐–")
    return raw, at, at + len(raw)


def _serial(text: str, free: Callable[[int, int], bool]) -> tuple[str, tuple[int, int]] | None:
    for found in _SERIAL_KEY.finditer(text):
        got = _identifier_after(text, found.end(), spaced=True)
        if got is not None and len(compact(got[0])) >= 4:
            return normalize_identifier(got[0]), (got[1], got[2])
    return None


def _code(text: str, free: Callable[[int, int], bool]) -> tuple[str, tuple[int, int]] | None:
    for found in _CODE_KEY.finditer(text):
        got = _identifier_after(text, found.end(), spaced=True)
        if got is not None and len(compact(got[0])) >= 6 and free(got[1], got[2]):
            return normalize_identifier(got[0]), (got[1], got[2])
    for word in _ID_TOKEN.finditer(text):
        raw = word.group().rstrip("-")
        if (
            is_code_shaped(raw)
            and any(ch.isdigit() for ch in raw)
            and any(ch.isalpha() for ch in raw)
            and free(word.start(), word.start() + len(raw))
        ):
            return normalize_identifier(raw), (word.start(), word.start() + len(raw))
    return None


def _identifier(text: str, free: Callable[[int, int], bool]) -> tuple[str, tuple[int, int]] | None:
    """One word of letters and digits, eight characters or more, named by nothing."""
    for word in _ID_TOKEN.finditer(text):
        raw = word.group().rstrip("-")
        key = compact(raw)
        if (
            len(key) >= 8
            and any(ch.isdigit() for ch in key)
            and any(ch.isalpha() for ch in key)
            and free(word.start(), word.start() + len(raw))
        ):
            return normalize_identifier(raw), (word.start(), word.start() + len(raw))
    return None


def _model(
    text: str, catalogue: Sequence[str], free: Callable[[int, int], bool]
) -> tuple[ModelMention, tuple[int, int]] | None:
    keys = {compact(m): m for m in catalogue}
    words = [w for w in _WORD.finditer(text) if free(w.start(), w.end())]
    # A model may be typed in one piece ("dgs3630") or two ("DGS 3630", "dgs-3630 28tc").
    for i in range(len(words)):
        for j in (i + 2, i + 1):
            if j > len(words):
                continue
            pieces = words[i:j]
            if j == i + 2 and text[pieces[0].end() : pieces[1].start()].strip(" -"):
                continue
            raw = text[pieces[0].start() : pieces[-1].end()].rstrip(".")
            key = compact(raw)
            if len(key) < 5 or not any(ch.isdigit() for ch in key) or not key[:2].isalpha():
                continue
            span = (pieces[0].start(), pieces[0].start() + len(raw))
            if key in keys:
                return ModelMention(raw, keys[key]), span
            longer = sorted(m for k, m in keys.items() if k.startswith(key) and _ends_group(m, key))
            if longer:
                if len(longer) == 1:
                    return ModelMention(raw, longer[0]), span
                return ModelMention(raw, None, tuple(longer)), span
    for word in words:
        raw = word.group().rstrip(".")
        # Shaped like a model but not in the catalogue; never a code ("ABCD-1234-EFGH").
        if (
            _MODEL_SHAPE.match(raw)
            and not raw.upper().startswith("INC")
            and not is_code_shaped(raw)
        ):
            return ModelMention(raw, None), (word.start(), word.start() + len(raw))
    return None


def _ends_group(model: str, key: str) -> bool:
    """Do `key`'s letters end where one of `model`'s dash-separated groups ends?
    ("DGS1210" ends a group of DGS-1210-28, "DGS12" does not.)"""
    count = 0
    for at, ch in enumerate(model):
        if ch.isalnum():
            count += 1
            if count == len(key):
                return at + 1 == len(model) or not model[at + 1].isalnum()
    return False
