"""Activation codes are secrets: how they are normalised, hashed, masked and redacted.

The one place that knows what a code looks like:
- a code is compared after normalisation: upper case, every separator a person may type
  between its groups removed (spaces, dashes of any kind, `.`, `_`, `/`);
- it is stored as a keyed hash (HMAC-SHA256 with the code secret, HELPDESK_CODE_SECRET)
  plus the few characters the mask shows: nobody who reads the database, a log or a
  traceback of a failed statement learns a code;
- it is shown masked ("****-****-7F3A"), in one format everywhere;
- free text (incident summaries and notes, questions put to the KB) has every known code
  masked, whatever separators the customer typed between its groups.

The secret travels with the session factory (storage.db.make_session_factory) so that
the services the conversation calls need no extra argument to hash a code.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import CODE_SECRET_KEY, DEFAULT_CODE_SECRET
from storage.models import ActivationCode

# Spaces, dashes (including the typographic ones e-mails and word processors put in
# place of "-"), dots, underscores and slashes: what people type between a code's groups.
CODE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212._/\\]+")
MAX_CODE_LENGTH = 64
MASK_PREFIX = "****-****"
LOOKUP_CHUNK = 500

# Codes typed into free text are runs of letters and digits joined only by separators.
_WORD = re.compile(r"[^\W_]+")
_MAX_CODE_PARTS = 8
_MIN_CODE_LENGTH = 6  # shorter runs are ordinary words and numbers, never worth a look-up


# A conversation keeps the code it is activating between two messages, in the database:
# it keeps it sealed (the tail the mask shows and the keyed hash), never in full.
SEALED_PREFIX = "sealed:"


def normalize_code(code: str | None) -> str:
    if is_sealed(code):
        return str(code)
    return CODE_SEPARATORS.sub("", code or "").upper()


def could_be_code(typed: str) -> bool:
    """Could this answer be a code at all? Groups of letters and digits, with a digit, a
    dash between groups, or typed in capitals. "un instant svp", "the switch" or "ok go"
    is conversation: never worth a look-up, nor counted as a wrong code."""
    if is_sealed(typed):
        return True
    typed = typed.strip()
    groups = [group for group in CODE_SEPARATORS.split(typed) if group]
    if not groups or not all(group.isascii() and group.isalnum() for group in groups):
        return False
    if len(groups) > 1 and any(len(group) < 3 for group in groups):
        return False
    dashed = re.search(r"[^\W_][\-\u2010-\u2015\u2212][^\W_]", typed) is not None
    return any(ch.isdigit() for ch in typed) or dashed or typed.isupper()


def is_sealed(code: str | None) -> bool:
    return bool(code) and str(code).startswith(SEALED_PREFIX)


def seal_code(session: Session, code: str) -> str:
    """What may be kept of a code the customer typed: every service function that takes a
    code accepts this form too, and the full code cannot be read back from it."""
    if is_sealed(code):
        return code
    return f"{SEALED_PREFIX}{code_tail(code)}:{hash_code(session, code)}"


def _sealed_parts(code: str) -> tuple[str, str]:
    tail, _, digest = code[len(SEALED_PREFIX) :].partition(":")
    return tail, digest


def code_tail(code: str) -> str:
    """What a mask may show of a code: at most its last four characters, and only a third
    of a short one, so that the mask never gives most of it away."""
    if is_sealed(code):
        return _sealed_parts(code)[0]
    normalized = normalize_code(code)
    shown = min(4, len(normalized) // 3)
    return normalized[-shown:] if shown else ""


def mask_tail(tail: str | None) -> str:
    return f"{MASK_PREFIX}-{tail}" if tail else MASK_PREFIX


def mask_code(code: str) -> str:
    """'ab12-cd34-7f3a' -> '****-****-7F3A'."""
    return mask_tail(code_tail(code))


def code_secret(session: Session) -> bytes:
    secret = session.info.get(CODE_SECRET_KEY) or DEFAULT_CODE_SECRET
    return secret.encode() if isinstance(secret, str) else bytes(secret)


def hash_with(secret: bytes, code: str) -> str:
    """The stored form of a code: hex HMAC-SHA256 of its normalised value."""
    if is_sealed(code):
        return _sealed_parts(code)[1]
    return hmac.new(secret, normalize_code(code).encode(), hashlib.sha256).hexdigest()


def hash_code(session: Session, code: str) -> str:
    return hash_with(code_secret(session), code)


def find_code(session: Session, code: str, *, lock: bool = False) -> ActivationCode | None:
    """The stored code that `code` (as typed) is, or None."""
    normalized = normalize_code(code)
    if not normalized or (len(normalized) > MAX_CODE_LENGTH and not is_sealed(code)):
        return None
    query = select(ActivationCode).where(ActivationCode.code_hash == hash_code(session, normalized))
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def _candidates(text: str) -> dict[str, list[tuple[int, int]]]:
    """Every run of words joined only by separators that could be a code: {code: spans}."""
    spans: dict[str, list[tuple[int, int]]] = {}
    words = list(_WORD.finditer(text))
    for first in range(len(words)):
        joined = ""
        for last in range(first, min(first + _MAX_CODE_PARTS, len(words))):
            if last > first and not CODE_SEPARATORS.fullmatch(
                text[words[last - 1].end() : words[last].start()]
            ):
                break
            joined += words[last].group().upper()
            if len(joined) > MAX_CODE_LENGTH:
                break
            if len(joined) >= _MIN_CODE_LENGTH:
                spans.setdefault(joined, []).append((words[first].start(), words[last].end()))
    return spans


# What an activation code usually looks like in running text: three or more groups of
# four letters or digits joined by dashes, dots, underscores or slashes ("NBD3-7KQ2-A9XM"),
# or by spaces when every group holds a digit ("nbd3 7kq2 a9xm": not "with that code").
_GROUP = r"[^\W_]{4}"
_DIGIT_GROUP = r"(?=[^\W_]{0,3}\d)[^\W_]{4}"
_CODE_SHAPE = re.compile(
    rf"(?<![^\W_])(?:{_GROUP}(?:[\-\u2010-\u2015\u2212._/]{_GROUP}){{2,}}"
    rf"|{_DIGIT_GROUP}(?:\s+{_DIGIT_GROUP}){{2,}})(?![^\W_])"
)


def mask_code_shapes(text: str) -> str:
    """`text` with everything shaped like a code masked, without a database: for logs,
    where a look-up per line is out of the question and a false positive costs nothing."""
    return _CODE_SHAPE.sub(lambda match: mask_code(match.group()), text)


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def redact_codes(session: Session, text: str) -> str:
    """`text` with every stored activation code in it masked ("ab12 cd34.7f3a" ->
    "****-****-7F3A"), whatever separators were typed between its groups.

    Customers paste their code into incidents and questions; once there, it would be
    shown in full to staff, editors, in Slack and in CLI output. Only stored codes are
    masked: a model name or a date that looks like a code is left as it is.
    """
    if not text:
        return text
    spans = _candidates(text)
    if not spans:
        return text
    secret = code_secret(session)
    by_hash = {hash_with(secret, candidate): candidate for candidate in spans}
    known: set[str] = set()
    for chunk in _chunks(sorted(by_hash), LOOKUP_CHUNK):
        known.update(
            by_hash[digest]
            for digest in session.scalars(
                select(ActivationCode.code_hash).where(ActivationCode.code_hash.in_(chunk))
            )
        )
    # Longest match first at each position; overlapping shorter matches are dropped.
    found = sorted((start, -end, code) for code in known for start, end in spans[code])
    masked: list[str] = []
    position = 0
    for start, negative_end, code in found:
        if start < position:
            continue
        masked += [text[position:start], mask_code(code)]
        position = -negative_end
    return "".join(masked) + text[position:]
