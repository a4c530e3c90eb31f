"""Understanding a message, in French or English, with typos and missing accents tolerated.

Text is normalised (casefold, accents stripped, punctuation to spaces) and keywords are
matched per token, fuzzily for words of five letters or more (difflib), so "enregister un
prodiut" and "etat de mon incident" are understood.

The rule between a knowledge-base question and an action: a message phrased as a how-to
question ("how do I activate my DAS contract?", "comment activer un service ?") goes to the
knowledge base; a request or a bare command ("I want to activate a code", "je veux activer
mon code", "activate a service", "can you register my product") starts the flow. Questions
about an incident's status ("where is INC-000042", "what is the status of my incident")
are requests for that status, not how-to questions.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from kb.analysis import fold
from kb.lang import ENGLISH_WORDS, FRENCH_WORDS


class Intent(StrEnum):
    CANCEL = "cancel"
    BACK = "back"
    HELP = "help"
    GREETING = "greeting"
    THANKS = "thanks"
    SWITCH_LANGUAGE = "switch_language"
    REGISTER_PRODUCT = "register_product"
    ACTIVATE_SERVICE = "activate_service"
    LIST_PRODUCTS = "list_products"
    LIST_SERVICES = "list_services"
    FILE_INCIDENT = "file_incident"
    CHECK_INCIDENT = "check_incident"
    REOPEN_INCIDENT = "reopen_incident"
    ANSWER_INCIDENT = "answer_incident"  # to answer the support team on an incident
    LIST_INCIDENTS = "list_incidents"
    LIST_SUBSCRIPTIONS = "list_subscriptions"
    QUESTION = "question"
    PERSON = "person"  # to talk to a person ("parler à un humain")


@dataclass(frozen=True)
class Understanding:
    intent: Intent
    incident_number: int | None = None  # check_incident: the number given, if any
    lang: str | None = None  # switch_language: the language asked for


# Chat spellings read as the words they stand for ("jveux declarer un pb").
_CHAT_FORMS = {
    "jveux": "je veux",
    "jvoudrais": "je voudrais",
    "jsuis": "je suis",
    "chui": "je suis",
    "jai": "j ai",
    "cest": "c est",
    "pb": "probleme",
    "pbs": "problemes",
    "prob": "probleme",
    "probs": "problems",
}
_CHAT_FORM = re.compile(r"\b(?:" + "|".join(_CHAT_FORMS) + r")\b")


def normalize(text: str) -> str:
    """Casefold, strip accents (the KB's folding), turn punctuation (apostrophes
    included) into spaces; chat spellings become the words they stand for."""
    spaced = re.sub(r"[^\w?]+", " ", fold(text.casefold()).replace("_", " "))
    spaced = _CHAT_FORM.sub(lambda found: _CHAT_FORMS[found.group()], spaced)
    return re.sub(r"\s+", " ", spaced).strip()


def tokens(text: str) -> list[str]:
    return [tok for tok in normalize(text).replace("?", " ").split() if tok]


def _matches(token: str, words: frozenset[str]) -> bool:
    if token in words:
        return True
    if len(token) < 5 or token in _VOCABULARY:  # short words are too easy to confuse
        return False
    # A typo belongs to the keyword it is closest to among all keywords: "services" is not
    # a typo of "devices", "prodiut" is one of "produit".
    return _closest(token) in words


@lru_cache(maxsize=4096)
def _closest(token: str) -> str | None:
    close = difflib.get_close_matches(token, _FUZZY_VOCABULARY, n=1, cutoff=0.8)
    return close[0] if close else None


def _has(toks: list[str], words: frozenset[str]) -> bool:
    return any(_matches(tok, words) for tok in toks)


def _words(*items: str) -> frozenset[str]:
    return frozenset(word for item in items for word in item.split())


_REGISTER = _words(
    "register registration enregistrer enregistre enregistrement declare declarer add ajouter"
    " ajout inscrire record new nouveau nouvel nouvelle"
)
_PRODUCT = _words(
    "product products produit produits device devices appareil appareils materiel equipment equipement"
)
# A kind of product: "register my switch" registers, but "my switch is broken" lists nothing.
_DEVICE = _words(
    "router routers routeur routeurs switch switches commutateur modem nas camera firewall borne appliance"
)
_ACTIVATE = _words("activate activating activation activer redeem utiliser enter saisir")
_SERVICE = _words("service services code codes das contract contracts contrat contrats assist")
_INCIDENT = _words("incident incidents ticket tickets case cases dossier dossiers inc")
_REPORT = _words(
    "report file open create submit raise log signaler signale ouvrir creer declarer soumettre"
    " new nouveau nouvel"
)
_STATUS = _words(
    "status statut etat where ou suivi suivre progress avancement track follow news nouvelles check"
)
# Alone, or nearly ("status?", "check status"), these ask about the user's incident.
_STATUS_ALONE = frozenset({"status", "statut", "etat", "suivi"})
_MINE = _words(
    "my mine mes mon ma list show see display view voir afficher lister liste consulter all tous toutes"
)
# Words close to a keyword that mean something else: "my registered products" is a list.
_NEUTRAL = _words("registered enregistres enregistrees activated active actives activees")
_VOCABULARY = frozenset().union(
    _REGISTER, _PRODUCT, _DEVICE, _ACTIVATE, _SERVICE, _INCIDENT, _REPORT, _STATUS, _MINE, _NEUTRAL
)
_FUZZY_VOCABULARY = sorted(word for word in _VOCABULARY if len(word) >= 4)
_PROBLEM = _words(
    "problem problems probleme problemes issue issues panne pannes souci bug incident outage failure"
    " dysfonctionnement defaillance"
)
_POSSESSIVE = _words("my mes mon ma have own ai possede")
# Words of a problem or a doubt: "my product does not show up" asks for help, not a list.
_NEGATION = _words(
    "not never nothing cannot cant doesnt dont didnt isnt arent wont doesn don didn isn aren won"
    " ne pas jamais rien aucun aucune"
)
# How-to questions that explain something even when they name the user's things.
_EXPLAIN_START = (
    "how",
    "why",
    "when",
    "comment",
    "pourquoi",
    "quand",
    "combien",
    "how long",
    "how many",
)
_CONTACT_SUPPORT = ("contact support", "contacter le support", "joindre le support", "need support")

_CANCEL = frozenset(
    {
        "cancel",
        "cancel that",
        "cancel it",
        "annuler",
        "annule",
        "annulez",
        "annulation",
        "stop",
        "abort",
        "quit",
        "exit",
        "abandon",
        "abandonner",
        "laisse tomber",
        "laissez tomber",
        "forget it",
        "never mind",
        "nevermind",
        "cancel please",
        "annuler svp",
        "annuler s il vous plait",
        "i want to cancel",
        "je veux annuler",
        "je souhaite annuler",
        "on annule",
        "cancel this",
        "nvm",
        "changed my mind",
        "i changed my mind",
        "non finalement",
        "finalement non",
        "bon ben non finalement",
        "bon non finalement",
        "j ai change d avis",
        "oublie",
        "oubliez",
        "oublie ca",
        "oublie tout",
        "laisse faire",
        "laissez faire",
        "tant pis",
        "pas la peine",
        "forget about it",
        "don t bother",
        "leave it",
        "drop it",
        "stop here",
        "let s stop here",
        "let s stop",
        "on arrete",
        "on arrete la",
        "arrete",
        "je veux plus",
        "j en veux plus",
    }
)
# What may come before a cancel command: "ok cancel", "actually cancel that please",
# "non finalement j'annule", "nevermind, cancel".
_CANCEL_LEAD = _words(
    "ok okay no non nan actually well oh oops oups sorry desole wait attends attendez bon ben"
    " bah alors euh hmm mais but so en fait finalement nevermind nvm please svp stp j merci"
    " thanks c est"
)
# What may follow "cancel" in a cancel command: "cancel my subscription" is not one.
_CANCEL_TAIL = _words(
    "that it this please all everything ca cela tout svp stp la demande request the s il vous plait"
)
_BACK = frozenset(
    {
        "back",
        "go back",
        "retour",
        "revenir",
        "precedent",
        "previous",
        "etape precedente",
        "previous step",
        "retour en arriere",
        "return",
        "revenir en arriere",
        "step back",
    }
)
_HELP = frozenset(
    {
        "help",
        "aide",
        "aidez moi",
        "help me",
        "menu",
        "?",
        "what can you do",
        "que sais tu faire",
        "que pouvez vous faire",
        "options",
        "commands",
        "commandes",
        "au secours",
        "help please",
        "aide svp",
        "aide moi",
        # asking who the bot is: it introduces itself with what it can do
        "who are you",
        "what are you",
        "qui es tu",
        "qui etes vous",
        "tu es qui",
        "t es qui",
        "t es qui toi",
        "tu es qui toi",
        "vous etes qui",
        "que peux tu faire",
        "que pouvez vous faire pour moi",
        "tu sais faire quoi",
        "tu peux faire quoi",
        "tu fais quoi",
    }
)
_GREETING = frozenset(
    {
        "hello",
        "hi",
        "hey",
        "bonjour",
        "salut",
        "bonsoir",
        "coucou",
        "good morning",
        "good afternoon",
        "good evening",
        "hello there",
        "hi there",
        "yo",
    }
)
_LEAVING = (
    "bye",
    "goodbye",
    "bye bye",
    "see you",
    "au revoir",
    "bonne journee",
    "bonne soiree",
    "a bientot",
    "a plus",
    "ciao",
)
_THANKS = frozenset(
    {
        "thanks",
        "thank you",
        "thank you very much",
        "thanks a lot",
        "thx",
        "merci",
        "merci beaucoup",
        "merci bien",
        "super merci",
        "great thanks",
        "parfait merci",
        "merci au revoir",
        # Leave-taking is thanks too: nothing to look up, nothing for the editors.
        *_LEAVING,
    }
)
_REOPEN = _words("reopen rouvrir reouvrir reouverture reopening")
_YES = frozenset(
    {
        "yes",
        "y",
        "yeah",
        "yep",
        "yup",
        "ok",
        "okay",
        "sure",
        "oui",
        "o",
        "ouais",
        "d accord",
        "dac",
        "confirm",
        "confirmer",
        "je confirme",
        "i confirm",
        "correct",
        "c est bon",
        "c est correct",
        "absolutely",
        "vas y",
        "allez y",
        "go",
        "go ahead",
        "valider",
        "accept",
        "accepte",
        "j accepte",
        "i accept",
        "agree",
        "i agree",
        "yes please",
        "oui merci",
        "oui svp",
        "bien sur",
        "of course",
        "exactement",
        "tout a fait",
        "parfait",
        "confirmed",
        "confirme",
        "true",
        "1 yes",
    }
)
_NO = frozenset(
    {
        "no",
        "n",
        "non",
        "nope",
        "nah",
        "pas d accord",
        "refuse",
        "je refuse",
        "decline",
        "i decline",
        "no thanks",
        "non merci",
        "not really",
        "pas vraiment",
        "false",
        "nein",
        "i do not agree",
        "je n accepte pas",
    }
)
_LANGUAGE_WORDS = {
    "english": "en",
    "anglais": "en",
    "angl": "en",
    "french": "fr",
    "francais": "fr",
    "franca": "fr",
    "francophone": "fr",
}
_HOWTO_START = (
    "how",
    "what",
    "why",
    "when",
    "which",
    "who",
    "where",
    "is",
    "are",
    "does",
    "do",
    "should",
    "can i",
    "may i",
    "could i",
    "am i",
    "will",
    "comment",
    "pourquoi",
    "quand",
    "quel",
    "quels",
    "quelle",
    "quelles",
    "qu",
    "que",
    "quoi",
    "combien",
    "est ce",
    "dois",
    "doit",
    "faut",
    "puis je",
    "peut on",
    "peux je",
    "ou",
    "a quoi",
    "y a t il",
    "est il",
    "qui",
)
_HOWTO_ANYWHERE = (
    "how to",
    "how do",
    "how can",
    "how does",
    "comment faire",
    "comment on",
    "comment je",
    "comment puis",
    "comment activer",
    "comment enregistrer",
    "comment signaler",
)
# "Can you register my product" is a request, not a how-to question.
_REQUEST_START = (
    "can you",
    "could you",
    "would you",
    "please",
    "pouvez vous",
    "peux tu",
    "pourriez vous",
    "merci de",
)

_INCIDENT_NUMBER = re.compile(r"\binc\s*-?\s*(\d{1,9})\b", re.IGNORECASE)
_BARE_NUMBER = re.compile(r"(?:^|\s)(?:n|no|num|numero|number|#)?\s*(\d{1,9})(?:\s|$)")


def _starts(norm: str, prefixes: tuple[str, ...]) -> bool:
    return any(norm == p or norm.startswith(p + " ") for p in prefixes)


def _fuzzy_phrase(norm: str, phrases: frozenset[str]) -> bool:
    """Whole-message match ("anuler", "cancle" still cancel); never on long texts."""
    if norm in phrases:
        return True
    if len(norm) < 4 or len(norm.split()) > 4:
        return False
    return bool(
        difflib.get_close_matches(norm, [p for p in phrases if len(p) >= 4], n=1, cutoff=0.82)
    )


def is_howto_question(text: str) -> bool:
    norm = normalize(text).replace("?", " ").strip()
    if _starts(norm, _REQUEST_START):
        return False
    return _starts(norm, _HOWTO_START) or any(f" {p} " in f" {norm} " for p in _HOWTO_ANYWHERE)


_FUNCTION_WORDS = _words(
    "the a an is are was what how why where when who which do does did i my me you your it this that"
    " to of for in on with not no can cannot there"
    " le la les l un une des de du d est c ce cette quoi comment pourquoi quand qui quel quelle je j"
    " mon ma mes vous votre tu ton il elle on que qu pour avec pas ne n ou y a en"
)


def content_words(text: str) -> list[str]:
    """The words of `text` that name something ("le nas" → ["nas"]), normalised."""
    return [tok for tok in tokens(text) if tok not in _FUNCTION_WORDS]


def is_sentence(text: str) -> bool:
    """Words in a sentence, not an identifier typed with spaces ("NBD3 7KQ2 A9XM")."""
    toks = tokens(text)
    return len(toks) >= 3 and sum(tok in _FUNCTION_WORDS for tok in toks) >= 2


_IDENTIFIER = re.compile(r"^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$")
# An activation code as suppliers send it ("NBD3-7KQ2-A9XM"): three or more groups of
# letters and digits joined by dashes. A service's name ("DAS-8x5") has two.
_CODE_SHAPE = re.compile(r"^[A-Za-z0-9]{3,6}(?:-[A-Za-z0-9]{3,6}){2,5}$")


def is_code_shaped(word: str) -> bool:
    return _CODE_SHAPE.match(word) is not None


_AROUND_WORD = ".,;:!?\"'«»()[]"


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def identifier_in(text: str) -> str | None:
    """The one serial or code of a message, as typed, with the words around it left out:
    "my code is NBD3-7KQ2-A9XM", "it's S3TC270004512", "S3TC270004512 merci", "le numéro
    est S3TC 2700 04512" (groups typed with spaces stay together). Letters and digits
    (dashes allowed), with a digit somewhere; None when there is not exactly one."""
    raw_words = text.split()
    words = [word.strip(_AROUND_WORD) for word in raw_words]
    if (
        len(words) > 2
        and len({len(word) for word in words}) == 1
        and any(ch.isdigit() for ch in text)
        and is_code_shaped("-".join(words))
    ):
        # A code alone, typed in groups of one length whose first are letters only ("DIRX
        # CCCC 0001"): no group opens it below, where a letters-only word must be followed
        # by digits. Not "mon code est NBD3-7KQ2-A9XM".
        return " ".join(words)

    def group(word: str) -> bool:  # a group with a digit: "S3TC", "2700", "NBD3-7KQ2-A9XM"
        return len(word) >= 3 and bool(_IDENTIFIER.match(word)) and any(c.isdigit() for c in word)

    def opens(word: str, after: str) -> bool:
        # A group of letters opens one typed in groups ("QBQE 1600 77810"), typed in the
        # same case as the letters that follow ("code NBD3-…" is a word, then a code).
        letters = [c for c in after if c.isalpha()]
        return (
            3 <= len(word) <= 6
            and word.isalpha()
            and normalize(word) not in _FUNCTION_WORDS
            and group(after)
            and (not letters or word.isupper() == "".join(letters).isupper())
        )

    runs: list[list[str]] = []
    run: list[str] = []
    for at, word in enumerate(words):
        after = words[at + 1] if at + 1 < len(words) else ""
        whole = is_code_shaped(word)
        if whole or raw_words[at].startswith("("):
            # A code pasted before "(DAS-8x5, 12 months)" is not one identifier typed in
            # groups with the service's name: a whole code, or an aside, starts anew.
            runs += [run] if run else []
            run = []
            if whole:
                runs.append([word])
                continue
        if group(word) or (not run and opens(word, after)):
            run.append(word)
            continue
        if run:
            runs.append(run)
        run = []
    if run:
        runs.append(run)
    found = [
        " ".join(run)
        for run in runs
        if any(ch.isdigit() for ch in "".join(run)) and len("".join(run).replace("-", "")) >= 4
    ]
    if len(found) > 1:
        # "c'est le code DAS-8x5 : 8x5n c9p4 w7ld": the one shaped like a code, and of
        # those the one with the most digits (a service's name has few).
        shaped = [one for one in found if is_code_shaped(one.replace(" ", "-"))]
        most = max((_digits(one) for one in shaped), default=0)
        found = [one for one in shaped if _digits(one) == most]
    return found[0] if len(found) == 1 else None


# A problem said without what it is about: "hi I have a problem", "rien ne marche !!!".
_VAGUE_LEAD = r"(?:(?:hi|hello|hey|bonjour|salut|help|aide|please|svp|stp|urgent|argh|bon)\s+)*"
_VAGUE_TAIL = r"(?:\s+(?:please|svp|stp|help|aide|urgent|again|encore|du tout|at all|plus))*"
_VAGUE_TROUBLE = re.compile(
    rf"^{_VAGUE_LEAD}(?:"
    r"(?:(?:i have|i ve got|i got|we have|got|there is|there s|j ai|jai|on a|il y a|y a)\s+)?"
    r"(?:(?:a|an|un|une|des|some|a big|un gros|un petit|encore un)\s+)?"
    r"(?:problem|issue|trouble|pb|probleme|souci|bug|panne)s?"
    r"|rien ne (?:marche|fonctionne)|(?:ca|cela) (?:ne )?(?:marche|fonctionne) (?:pas|plus)"
    r"|nothing works|it (?:doesn t|does not|don t) work|it s broken|its broken|ca bug"
    r"|ca plante|c est en panne|c est casse)"
    rf"{_VAGUE_TAIL}$"
)


def is_vague_trouble(text: str) -> bool:
    """A problem said with nothing of what it is about: nothing to search for, something
    to ask about."""
    return _VAGUE_TROUBLE.match(normalize(text).replace("?", " ").strip()) is not None


_GOODBYE = re.compile(rf"\b(?:{'|'.join(_LEAVING)})\b")


def says_goodbye(text: str) -> bool:
    return _GOODBYE.search(normalize(text)) is not None


def looks_like_question(text: str) -> bool:
    """Mid-flow: is this a question to answer before asking our own again?"""
    return text.strip().endswith("?") or is_howto_question(text)


_BUT = re.compile(r"\b(?:but|except|mais|sauf)\b")


def parse_yes_no(text: str) -> bool | None:
    norm = normalize(text).replace("?", " ").strip()
    if norm in _YES:
        return True
    if norm in _NO:
        return False
    first = norm.split(" ", 1)[0] if norm else ""
    if _BUT.search(norm):
        return None  # "oui mais change la date": not a yes, whatever it starts with
    if first in {"yes", "oui", "ok", "okay", "yep", "sure", "ouais"}:
        return True
    if first in {"no", "non", "nope"}:
        return False
    # "I accept the terms", "je refuse les conditions": a yes or no phrase, then more words.
    if any(norm.startswith(phrase + " ") for phrase in _NO if " " in phrase):
        return False
    if any(norm.startswith(phrase + " ") for phrase in _YES if " " in phrase) and not any(
        tok in _NEGATION for tok in norm.split()
    ):
        return True
    if _fuzzy_phrase(norm, _YES - {"o", "y", "go", "ok"}):
        return True
    if _fuzzy_phrase(norm, _NO - {"n", "no"}):
        return False
    return None


def incident_number_in(text: str) -> int | None:
    """INC-000042, inc 42, "incident 42", "incident n° 42" → 42."""
    found = _INCIDENT_NUMBER.search(text)
    if found:
        return int(found.group(1))
    norm = normalize(text)
    if _has(norm.split(), _INCIDENT):
        bare = _BARE_NUMBER.findall(norm)
        if len(bare) == 1:
            return int(bare[0])
    return None


def requested_language(text: str) -> str | None:
    """ "in English please", "en français", "parlez-moi en anglais" → the language asked for."""
    toks = tokens(text)
    if not toks or len(toks) > 6:
        return None
    asked = {lang for tok in toks for word, lang in _LANGUAGE_WORDS.items() if tok == word}
    if not asked:
        asked = {
            lang
            for tok in toks
            if len(tok) >= 6
            for word, lang in _LANGUAGE_WORDS.items()
            if len(word) >= 6 and difflib.SequenceMatcher(None, tok, word).ratio() >= 0.85
        }
    return asked.pop() if len(asked) == 1 else None


# The words of each language that KB language detection knows, and the bot's commands.
_FRENCH_HINTS = frozenset(normalize(word) for word in FRENCH_WORDS) | _words(
    "bonjour salut bonsoir coucou merci aide annuler retour oui non produit produits"
    " enregistrer activer signaler etat francais svp"
)
_ENGLISH_HINTS = frozenset(normalize(word) for word in ENGLISH_WORDS) | _words(
    "hello hi hey thanks help cancel back yes no product products register activate report"
    " status english please"
)


def language_hint(text: str) -> str | None:
    """For a first message too short to detect ("bonjour", "help"): its words' language."""
    toks = tokens(text)
    french = sum(tok in _FRENCH_HINTS for tok in toks)
    english = sum(tok in _ENGLISH_HINTS for tok in toks)
    if french > english:
        return "fr"
    if english > french:
        return "en"
    return None


# A command or a request fits in a few lines; beyond that a message is a question or a
# description, and fuzzy matching every word of a pasted log would take seconds.
UNDERSTOOD_CHARS = 500


def _is_cancel(bare: str, toks: list[str]) -> bool:
    if _fuzzy_phrase(bare, _CANCEL):
        return True
    lead = 0
    while lead < len(toks) - 1 and toks[lead] in _CANCEL_LEAD:
        lead += 1
    rest = toks[lead:]
    if lead and _fuzzy_phrase(" ".join(rest), _CANCEL):
        return True
    return rest[0] in {"cancel", "annuler", "annule"} and all(
        tok in _CANCEL_TAIL for tok in rest[1:]
    )


def understand(text: str) -> Understanding:
    text = text[:UNDERSTOOD_CHARS]
    norm = normalize(text)
    bare = norm.replace("?", " ").strip()
    toks = bare.split()
    if not toks:
        return Understanding(Intent.HELP)
    if _is_cancel(bare, toks):
        return Understanding(Intent.CANCEL)
    if _fuzzy_phrase(bare, _BACK):
        return Understanding(Intent.BACK)
    if norm in _HELP or _fuzzy_phrase(bare, _HELP):
        return Understanding(Intent.HELP)
    if bare in _GREETING or (len(toks) <= 3 and toks[0] in _GREETING):
        return Understanding(Intent.GREETING)
    if bare in _THANKS:
        return Understanding(Intent.THANKS)
    lang = requested_language(text)
    if lang is not None:
        return Understanding(Intent.SWITCH_LANGUAGE, lang=lang)

    incident = _has(toks, _INCIDENT)
    number = incident_number_in(text)
    if number is not None and _has(toks, _REOPEN):
        return Understanding(Intent.REOPEN_INCIDENT, incident_number=number)
    if number is not None and (incident or _has(toks, _STATUS) or len(toks) <= 2):
        return Understanding(Intent.CHECK_INCIDENT, incident_number=number)
    if incident and _has(toks, _STATUS):
        return Understanding(Intent.CHECK_INCIDENT)
    if len(toks) <= 2 and toks[-1] in _STATUS_ALONE:
        return Understanding(Intent.CHECK_INCIDENT)
    # "how long is my code valid", "my product does not show up": about things, not lists.
    troubled = any(tok in _NEGATION for tok in toks) or _has(toks, _PROBLEM)
    listing = None if troubled or _starts(bare, _EXPLAIN_START) else _listing(toks)
    if listing is not None and len(toks) <= 6 and _has(toks, _POSSESSIVE):
        return Understanding(listing)  # "quels sont mes produits ?", "what products do I have"
    if is_howto_question(text):
        return Understanding(Intent.QUESTION)

    if (incident or _has(toks, _PROBLEM)) and _has(toks, _REPORT):
        return Understanding(Intent.FILE_INCIDENT)
    if any(phrase in bare for phrase in _CONTACT_SUPPORT):
        return Understanding(Intent.FILE_INCIDENT)
    if incident and (_has(toks, _MINE) or toks[-1] in {"incidents", "tickets", "dossiers"}):
        return Understanding(Intent.LIST_INCIDENTS)
    if _has(toks, _ACTIVATE) and (_has(toks, _SERVICE) or len(toks) <= 3):
        return Understanding(Intent.ACTIVATE_SERVICE)
    product = _has(toks, _PRODUCT)
    if (product or _has(toks, _DEVICE)) and _has(toks, _REGISTER):
        return Understanding(Intent.REGISTER_PRODUCT)
    if troubled:
        return Understanding(Intent.QUESTION)
    if product and (_has(toks, _MINE) or len(toks) <= 2):
        return Understanding(Intent.LIST_PRODUCTS)
    if _has(toks, _SERVICE) and (_has(toks, _MINE) or len(toks) <= 2):
        return Understanding(Intent.LIST_SERVICES)
    if incident and len(toks) <= 2:
        return Understanding(Intent.LIST_INCIDENTS)
    return Understanding(Intent.QUESTION)


def _listing(toks: list[str]) -> Intent | None:
    """Which list a message names, when it names no action on it."""
    if _has(toks, _REGISTER) or _has(toks, _ACTIVATE) or _has(toks, _REPORT) or _has(toks, _STATUS):
        return None
    if _has(toks, _INCIDENT):
        return Intent.LIST_INCIDENTS
    if _has(toks, _PRODUCT):
        return Intent.LIST_PRODUCTS
    if _has(toks, _SERVICE):
        return Intent.LIST_SERVICES
    return None
