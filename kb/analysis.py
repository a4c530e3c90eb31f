"""Text analysis for French and English, shared by the index (Whoosh analyzers) and queries.

One set of plain functions does the work (tokenize → lower-case → French elision → stop
words → stem → fold accents), so an indexed text and a customer's question always go
through exactly the same steps. The Whoosh analyzers below only wrap these functions.

Accents: folding happens AFTER stemming (the Snowball French stemmer relies on accents),
but a customer typing "premiere" reaches the stemmer without them and gets another stem
("premier" vs "premi" for "première"). So each word yields up to two terms at the same
position: fold(stem(word)) and stem(fold(word)). Both are indexed and both are searched,
so accented and bare spellings always share at least one term.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from whoosh.analysis import Filter, RegexTokenizer, Token
from whoosh.analysis.analyzers import CompositeAnalyzer
from whoosh.lang.porter2 import stem as english_stem
from whoosh.lang.snowball.french import FrenchStemmer
from whoosh.lang.stopwords import stoplists

from kb.synonyms import GROUPS

# A word keeps its inner apostrophes ("l'activation", "doesn't") so elision can see them,
# and its hyphens ("D-Link", "wi-fi") so it can also be indexed joined ("dlink", "wifi"),
# the way customers type it. Digits and letters are split ("24h/24" → 24, h, 24).
WORD_PATTERN = r"\d+|[^\W\d_]+(?:['’-][^\W\d_]+)*"
_WORD_RE = re.compile(WORD_PATTERN, re.UNICODE)
_APOSTROPHES = str.maketrans({"’": "'"})

FRENCH_ELISIONS = frozenset(
    {"l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu", "presqu"}
)


@lru_cache(maxsize=100_000)
def fold(text: str) -> str:
    """Remove accents (é→e, ç→c, œ→oe) and lower-case: what people type on any keyboard."""
    text = text.replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def _folded_set(words: set[str]) -> frozenset[str]:
    return frozenset(words | {fold(w) for w in words})


# Chat words that carry no topic: greetings, politeness, modal verbs. Without them
# "bonjour, svp comment activer DAS merci" is as precise as "comment activer DAS".
_FRENCH_EXTRA = {
    "les",
    "bonjour",
    "bonsoir",
    "salut",
    "coucou",
    "merci",
    "svp",
    "stp",
    "cordialement",
    "hello",
    "ça",
    "cela",
    "ceci",
    "cet",
    "cette",
    "voici",
    "voilà",
    "ici",
    "là",
    "très",
    "aussi",
    "alors",
    "donc",
    "bien",
    "oui",
    "non",
    "si",
    "y",
    "chez",
    "peux",
    "peut",
    "pouvez",
    "pourriez",
    "puis",
    "dois",
    "doit",
    "devez",
    "faut",
    "veux",
    "voudrais",
    "aimerais",
    "savoir",
    "faire",
    "fait",
    "est-ce",
    "please",
    "aider",
    "aidez",
    "besoin",
    # chat shorthand: "jsp" (je sais pas), "qqn" (quelqu'un), "pr" (pour), "ya" (il y a)...
    "jsp",
    "jsais",
    "qqn",
    "qqun",
    "qq1",
    "qqch",
    "pr",
    "ya",
    "bcp",
    "tt",
    "tjr",
    "tjrs",
    "ds",
    "avc",
    "dc",
    "mtn",
    "mnt",
    "dsl",
    "mrc",
    "bjr",
    "slt",
    "cdt",
    "mdr",
    "ptdr",
    "bref",
    # fillers around the question: "une fois créé", "c'est où exactement ?"
    "fois",
    "exactement",
    "vraiment",
    # formal openings ("je me permets de vous écrire afin de savoir...") and Québécois
    # "pis" (puis): ways of asking, none of what is asked
    "afin",
    "permets",
    "pis",
}
_ENGLISH_EXTRA = {
    "hi",
    "hello",
    "hey",
    "please",
    "pls",
    "plz",
    "thanks",
    "thank",
    "thx",
    "regards",
    "cheers",
    "would",
    "could",
    "can",
    "cannot",
    "might",
    "must",
    "shall",
    "may",
    "also",
    "get",
    "got",
    "want",
    "wanna",
    "need",
    "tell",
    "know",
    "let",
    "us",
    "im",
    "ive",
    "id",
    "ok",
    "okay",
    "yes",
    "hmm",
    "anyone",
    "someone",
    "somebody",
    "something",
    # chat shorthand and fillers
    "lol",
    "lmao",
    "omg",
    "wtf",
    "btw",
    "asap",
    "tia",
    "ty",
    "yeah",
    "yep",
    "nope",
    "guys",
    "honestly",
    "basically",
    "actually",
    "literally",
    "wondering",
    "wonder",
    # "where do I go to open a case?": a way of asking, not what is asked
    "go",
    "goes",
    "going",
    "exactly",
    "really",
    # the end of a web name ("OneTouch AT.com"), in either language
    "com",
}
# Negative contractions typed without their apostrophe ("i cant log in", "it doesnt work").
# With it, "can't" → "can" and "doesn't" → "does" are stop words already; without it they
# must not become content words, or the one article quoting "why cant i..." matches them.
_ENGLISH_BARE_CONTRACTIONS = {
    "cant",
    "dont",
    "doesnt",
    "didnt",
    "isnt",
    "arent",
    "wasnt",
    "werent",
    "wont",
    "wouldnt",
    "couldnt",
    "shouldnt",
    "hasnt",
    "havent",
    "hadnt",
    "youre",
    "thats",
    "theres",
}
# Question words as typed in a chat, and glued to their "is" ("whats gold" asks what gold
# is): read as the question word itself. Left as typed, "hw" or "koi" is a word no article
# contains, and an unknown word weighs the most: "hw do i register a product" would look
# mostly unexplained by the registration article.
_CHAT_QUESTION_WORDS = {
    "fr": {
        "koi": "quoi",
        "kan": "quand",
        "kand": "quand",
        "koment": "comment",
        "komment": "comment",
        "cmt": "comment",
        "pk": "pourquoi",
        "pq": "pourquoi",
        "pkoi": "pourquoi",
    },
    "en": {
        "whats": "what",
        "hows": "how",
        "whos": "who",
        "wheres": "where",
        "whens": "when",
        "wat": "what",
        "wut": "what",
        "hw": "how",
    },
}
# Question words are NOT stop words: they carry the intent ("who can submit" vs "how to
# submit", "why online"). Common ones ("how", "comment") get a low IDF anyway. "où" stays
# a stop word: folded, it is "ou" (or), and customers type it without the accent.
_QUESTION_WORDS = {
    "fr": {
        "qui",
        "quoi",
        "quand",
        "pourquoi",
        "comment",
        "combien",
        "quel",
        "quelle",
        "quels",
        "quelles",
    }
    | set(_CHAT_QUESTION_WORDS["fr"]),
    "en": {"who", "what", "when", "where", "why", "which", "how"} | set(_CHAT_QUESTION_WORDS["en"]),
}
STOP_WORDS: dict[str, frozenset[str]] = {
    "fr": _folded_set(set(stoplists["fr"]) | _FRENCH_EXTRA | FRENCH_ELISIONS)
    - _QUESTION_WORDS["fr"],
    "en": _folded_set(set(stoplists["en"]) | _ENGLISH_EXTRA | _ENGLISH_BARE_CONTRACTIONS)
    - _QUESTION_WORDS["en"],
}

_FOLDED_QUESTION_WORDS = {lang: _folded_set(ws) for lang, ws in _QUESTION_WORDS.items()}

_ENGLISH_CONTRACTIONS = {"can't": "can", "won't": "will", "cannot": "can", "shan't": "shall"}
_ENGLISH_SUFFIXES = ("n't", "'s", "'re", "'ve", "'ll", "'d", "'m")

_french_stemmer = FrenchStemmer()


# Phrasal verbs whose words mean something else alone: "sign in" / "log on" is a login,
# not the "sign up" of an account article nor the "log" of "log a ticket". Both the index
# and the questions see them as the one word "login".
_ENGLISH_LOGIN = re.compile(
    r"\b(?:sign|log)(?:s|ed|ged|ing|ging)?(?:\s+|-)?(?:in|on)(?:to)?\b", re.IGNORECASE
)


# Codes, serials, model names and incident numbers ("8X5N-C9P4-W7LD", "DAP-2662",
# "S3TC270004512", "INC-000123"): letters with three digits or more. Split into letters and
# digits they would be words no article has, the heaviest of all, and a question naming its
# product would look mostly unexplained. "24h/24", "DAS-8x5" or "type 2" stay.
_IDENTIFIER = re.compile(
    r"(?<![\w/])(?=[A-Za-z0-9-]*[A-Za-z])(?=(?:[A-Za-z-]*\d){3})"
    r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*(?![\w/])"
)


def normalise_phrases(text: str, lang: str) -> str:
    text = _IDENTIFIER.sub(" ", text)
    return _ENGLISH_LOGIN.sub("login", text) if lang == "en" else text


def words(text: str) -> list[str]:
    """Lower-cased words with normalised apostrophes; punctuation and emoji are dropped."""
    return [m.group(0).translate(_APOSTROPHES).lower() for m in _WORD_RE.finditer(text)]


def split_compound(token: str, lang: str) -> tuple[list[str], str | None]:
    """A hyphenated token's parts, and its joined form when it is a real compound.

    "d-link" → (["d", "link"], "dlink"); "est-il" → (["est", "il"], None): French inverted
    pronouns (-il, -vous, -t-il) are not compounds.
    """
    if "-" not in token:
        return [token], None
    parts = [p for p in token.split("-") if p]
    if not parts or "'" in token or is_stop(parts[-1], lang) or len(parts[-1]) == 1:
        return parts, None
    return parts, "".join(parts)


def strip_clitics(word: str, lang: str) -> str:
    """French elision (l'activation → activation); English contractions (doesn't → does)."""
    if "'" not in word:
        return _CHAT_QUESTION_WORDS[lang].get(word, word)
    if lang == "fr":
        head, _, rest = word.partition("'")
        if fold(head) in FRENCH_ELISIONS and rest:
            return strip_clitics(rest, lang)
        return word.replace("'", "")
    if word in _ENGLISH_CONTRACTIONS:
        return _ENGLISH_CONTRACTIONS[word]
    for suffix in _ENGLISH_SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix):
            return word[: -len(suffix)]
    return word.replace("'", "")


def _is_lone_letter(word: str) -> bool:
    """ "h" of "24h", "j" of "7j/7": noise; a lone digit ("type 2") is kept."""
    return len(word) == 1 and not word.isdigit()


def is_stop(word: str, lang: str) -> bool:
    return fold(word) in STOP_WORDS[lang]


def is_question_word(word: str, lang: str) -> bool:
    return fold(word) in _FOLDED_QUESTION_WORDS[lang]


@lru_cache(maxsize=200_000)
def variants(word: str, lang: str) -> tuple[str, ...]:
    """The index terms of one (clitic-free, non-stop) word: fold after stem, and stem of fold."""
    stem = _french_stemmer.stem if lang == "fr" else english_stem
    first = fold(stem(word))
    bare = fold(word)
    second = fold(stem(bare)) if bare != word else first
    return (first,) if first == second else (first, second)


@dataclass(frozen=True)
class WordTerms:
    """One content word of a question and the index terms it may match."""

    surface: str  # lower-case, accent-folded, clitic-free: what spelling correction works on
    terms: tuple[str, ...]
    joined: bool = False  # the joined form of a compound: a bonus if known, never a penalty


def _content(raw: str, lang: str) -> str | None:
    word = strip_clitics(raw, lang)
    if not word or is_stop(word, lang) or _is_lone_letter(word):
        return None
    return word


@lru_cache(maxsize=4)
def _synonym_markers(lang: str) -> dict[str, str]:
    """Index term → its synonym group's marker term (see kb.synonyms)."""
    markers: dict[str, str] = {}
    for number, group in enumerate(GROUPS.get(lang, ())):
        for word in group:
            for term in variants(word.lower(), lang):
                markers[term] = f"~{lang}{number}"
    return markers


def _with_marker(terms: tuple[str, ...], lang: str) -> tuple[str, ...]:
    markers = _synonym_markers(lang)
    found = [markers[t] for t in terms if t in markers]
    return (*terms, found[0]) if found else terms


@lru_cache(maxsize=200_000)
def token_words(token: str, lang: str) -> tuple[WordTerms, ...]:
    """The content words of one lower-cased token (a compound gives several). Cached:
    indexing 10,000 articles meets the same few thousand tokens over and over."""
    result: list[WordTerms] = []
    parts, joined = split_compound(token, lang)
    for raw in parts:
        word = _content(raw, lang)
        if word is not None:
            result.append(
                WordTerms(surface=fold(word), terms=_with_marker(variants(word, lang), lang))
            )
    if joined is not None and (word := _content(joined, lang)) is not None:
        result.append(
            WordTerms(
                surface=fold(word), terms=_with_marker(variants(word, lang), lang), joined=True
            )
        )
    return tuple(result)


def analyse(text: str, lang: str) -> list[WordTerms]:
    """The content words of a text, in order, each with its index terms."""
    tokens = words(normalise_phrases(text, lang))
    return [word for token in tokens for word in token_words(token, lang)]


# --- Whoosh adapters ----------------------------------------------------------------------


class _ContentFilter(Filter):
    """Clitics, stop words and stemming with accent folding, on a Whoosh token stream."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ContentFilter) and other.lang == self.lang

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for token in tokens:
            for word in token_words(token.text.translate(_APOSTROPHES).lower(), self.lang):
                # Several terms at one position: the consumer reads token.text at each yield.
                for term in word.terms:
                    token.text = term
                    yield token


class _Tokenizer(RegexTokenizer):
    """Words of a language's text, after its phrasal verbs are joined (normalise_phrases)."""

    def __init__(self, lang: str) -> None:
        super().__init__(WORD_PATTERN)
        self.lang = lang

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Tokenizer) and other.lang == self.lang

    def __call__(self, value: str, **kwargs: object) -> Iterator[Token]:
        return super().__call__(normalise_phrases(value, self.lang), **kwargs)


def make_analyzer(lang: str) -> CompositeAnalyzer:
    """The indexing analyzer of a language (stemmed, folded)."""
    return _Tokenizer(lang) | _ContentFilter(lang)
