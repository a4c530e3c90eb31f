"""What a request must mention to be that request: its topic words.

Example phrasings share their frame with every other request ("I want to …", "je
voudrais …", "can you …"): on its own, closeness to "I want to activate a code" makes
"I want to talk to a human" an activation. So an intent is possible only when the message
names its topic — a product, a code, an incident… — in either language, by a word's
beginning ("enregistr" covers enregistrer, enregistrement) or with a typo
("regsiter", "activ", "tiket").
"""

from __future__ import annotations

import difflib
from functools import lru_cache

from bot.nlu import Intent

_STEMS: dict[Intent, tuple[str, ...]] = {
    Intent.REGISTER_PRODUCT: (
        "regist",
        "enregist",
        "inscri",
        "declar",
        "product",
        "produit",
        "device",
        "appareil",
        "materiel",
        "equipment",
        "equipement",
        # Not "router" or "switch" alone (see names_topic): "my switch keeps rebooting"
        # registers nothing.
        "zmodel",
        "zserial",
    ),
    Intent.ACTIVATE_SERVICE: (
        "activ",
        "redeem",
        "code",
        "das",
        "contra",
        "service",
        "assist",
        "zcode",
    ),
    Intent.FILE_INCIDENT: (
        "incident",
        "ticket",
        "case",
        "dossier",
        "support",
        "problem",
        "probleme",
        "issue",
        "souci",
        "panne",
        "bug",
        "signal",
        "report",
        "zsub",
        "assistance",
    ),
    Intent.CHECK_INCIDENT: (
        "incident",
        "ticket",
        "case",
        "dossier",
        "status",
        "statut",
        "etat",
        "suivi",
        "track",
        "news",
        "nouvelles",
        "znumber",
    ),
    Intent.REOPEN_INCIDENT: ("incident", "ticket", "case", "dossier", "reopen", "rouvr", "reouvr"),
    Intent.LIST_PRODUCTS: (
        "product",
        "produit",
        "device",
        "appareil",
        "materiel",
        "equipment",
        "equipement",
        "regist",
        "enregistr",
    ),
    Intent.LIST_SERVICES: ("service", "contra", "das", "activ"),
    Intent.LIST_SUBSCRIPTIONS: ("abonnement", "subscri", "abo", "sub"),
    Intent.PERSON: (
        "human",
        "humain",
        "person",
        "someone",
        "somebody",
        "quelqu",
        "agent",
        "conseill",
        "operat",
        "represent",
        "technici",
        "engineer",
        "ingenieur",
    ),
    Intent.LIST_INCIDENTS: ("incident", "ticket", "case", "dossier", "demande"),
}
# Whole words a typo is compared with ("regsiter" is closest to "register").
_FORMS = [
    "register",
    "registration",
    "enregistrer",
    "enregistrement",
    "declarer",
    "ajouter",
    "product",
    "products",
    "produit",
    "produits",
    "device",
    "devices",
    "appareil",
    "materiel",
    "equipment",
    "equipement",
    "activate",
    "activation",
    "activer",
    "redeem",
    "contract",
    "contrat",
    "service",
    "services",
    "subscription",
    "abonnement",
    "incident",
    "incidents",
    "ticket",
    "tickets",
    "dossier",
    "support",
    "problem",
    "probleme",
    "issue",
    "report",
    "signaler",
    "status",
    "statut",
    "update",
]


def names_topic(intent: Intent, words: list[str]) -> bool:
    """Does one of `words` (normalised) name `intent`'s topic? Intents without a topic
    (questions, commands) always may."""
    stems = _STEMS.get(intent)
    if stems is None:
        return True
    if any(_is_of(word, stems) or _form_of(word).startswith(stems) for word in words):
        return True
    if intent is Intent.REGISTER_PRODUCT:
        # A kind of device names a registration with a word of getting one: "add my new
        # switch", "j'ai acheté un routeur" — but not buying advice ("buy a new router").
        said = set(words)
        return bool(said & _DEVICES and said & _GOT and not said & _SHOPPING)
    return False


SHORT_STEM = 3


def _is_of(word: str, stems: tuple[str, ...]) -> bool:
    """A word's beginning names a topic; a stem as short as "das" or "abo" only as the whole
    word ("dashboard" is no DAS)."""
    return any(
        word.startswith(stem) if len(stem) > SHORT_STEM else word in (stem, f"{stem}s")
        for stem in stems
    )


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_DEVICES = _set(
    "router routers routeur routeurs switch switches commutateur modem nas camera firewall"
    " borne appliance ap"
)
_GOT = _set("add ajouter ajoute new nouveau nouvel nouvelle bought achete got recu received")
_SHOPPING = _set("buy acheter cherche looking recommend recommande conseil price prix cost coute")


@lru_cache(maxsize=8192)
def _form_of(word: str) -> str:
    """The topic word a misspelt word stands for ("regsiter" → "register"), or ""."""
    if len(word) < 5:
        return ""
    close = difflib.get_close_matches(word, _FORMS, n=1, cutoff=0.75)
    return close[0] if close else ""
