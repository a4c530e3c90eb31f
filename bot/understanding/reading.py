"""One reading per message: what it asks, whether it is a question or a request, in which
language, and the values it names — read once, routed on.

`read(text, today=…, catalogue_models=…, subscriptions=…, encoder=None)` returns a
frozen `Reading`. How it decides, in order (the sharp rules first, then the examples):

1. Nothing but a command ("annuler", "back", "aide", "bonjour", "merci") → that command;
   "oui"/"no" and bare values ("DGS-1210-28", "12/11/2026") → kind "answer".
2. A language switch said as such ("in English please", "en français svp", "can we
   switch to english?") → SWITCH_LANGUAGE; whatever else the message says is read as
   well and asked second: "in English please, I want to register a product" asks
   (SWITCH_LANGUAGE, REGISTER_PRODUCT). "Do your technicians speak French?" is no switch.
3. A reference to an incident ("INC-000002", "ticket 2", "#2") → its status, or reopening
   it when the message says so. Numbers alone never refer to one ("after 2 hours").
4. A question about things ("how long is my code valid?", "what if my code expired",
   "j'ai perdu mon code", "my printer is offline") → QUESTION, answered from the KB.
   Questions may still ask for the user's own data ("which services do I have?",
   "where is my ticket?"): among questions only the lists and the status stay possible.
   A problem with a named subscription, or asking for a ticket, files an incident.
5. Otherwise the closest intent by example phrasings (examples.py), with the encoder
   when one is given, lexically when not; too far from every example → QUESTION.

How routing should consume a Reading (bot/conversation.py, once branch i7's refactor is
merged; nothing routes on it yet). Read once per turn, at the top of the turn:
`read(text, today=<the user's local date>, catalogue_models=<catalogue model names>,
subscriptions=<the account's subscription names>, encoder=<kb's encoder, if loaded>)`;
every decision below uses that one object, never the raw text again.

- Language: `reading.lang_switch` set → switch and persist the conversation's language
  (UserPreference.lang, as "in English please" does today); it stays until the user
  asks otherwise, whatever language later messages are in. Then route
  `reading.then` (the rest of the message, same values) as a message of its own; when
  it is None, say the language changed and show the menu — inside a flow, re-ask the
  pending step instead. `reading.lang` (detected, None when unsure), `reading.hint`
  (what short words suggest) and the reading's kind are all the language policy
  (bot.language) looks at: the message is not read again for it.
- Outside a flow, by `reading.intent`:
  * a flow intent (`FLOWS`: register_product, activate_service, file_incident,
    check_incident, reopen_incident) → start that flow with initial values from
    `reading.values`: registration ← model (`values.model.model`, else its text for the
    catalogue choice to match), serial, purchase_date (`values.date`); activation ←
    product (`values.model`, matched among the account's registered products), code,
    service_purchase_date (`values.date`); incident ← subscription, summary;
    check/reopen ← `values.incident.number`. (`values.slots()` gives these by slot name.)
    Each value is validated by the slot's own parser as if typed at its step; a refused
    value is dropped and its step asked. The flow then confirms what it understood
    ("DGS-3630-28TC, serial S3XY1A2004242, bought 12 Nov 2026") and asks only for the
    rest. `reading.also` (a second request, "… and activate a code") is offered when the
    first flow completes.
  * a list intent (`LISTS`) → that list; REOPEN/CHECK with a number → as today.
  * QUESTION → the KB (`kb.ask`): whether it answers, asks which of two articles, or
    says it has no answer is the KB's decision.
  * a command (kind "command") → as today; greeting/help → the menu.
  * no intent (kind "answer": "oui", "DGS-1210-28", a date) → the menu.
- Inside a flow (a pending step):
  * kind "command" → cancel / back / help / language switch as today, step re-asked;
  * kind "question" with `reading.asking` (phrased as a question: "how long is my code
    valid?", "c'est quoi le DAS ?") or naming trouble ("j'ai perdu mon code") → answer
    from the KB, then ask the pending step again, without starting anything;
    a free-text step (name, company, street, city, summary, description) gets the raw
    text unless `reading.asking`;
  * kind "request" for the same flow → its values fill the pending and later slots; for
    a list or an incident status → show it and re-ask the pending step; for another
    flow → set the current one aside (as today) and start the new one with its values;
  * kind "answer", or anything else → the pending step's parser gets the raw text (the
    values already found — a serial inside "my serial is …", a postal code inside "mon
    code postal est 33000", a date — can be offered to it first).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from bot.i18n import shorten
from bot.nlu import (
    Intent,
    is_code_shaped,
    is_howto_question,
    language_hint,
    normalize,
    parse_yes_no,
    understand,
)
from bot.understanding.intents import Encoder, matcher, prepare
from bot.understanding.switch import language_switch, names_language
from bot.understanding.topics import names_topic
from bot.understanding.values import REOPEN_WORDS, Values, extract
from kb.lang import detect_language
from services.incidents import SUMMARY_MAX

# A command or a request fits in a few lines; the rest of a pasted log adds nothing.
READ_CHARS = 500

FLOWS = frozenset(
    {
        Intent.REGISTER_PRODUCT,
        Intent.ACTIVATE_SERVICE,
        Intent.FILE_INCIDENT,
        Intent.CHECK_INCIDENT,
        Intent.REOPEN_INCIDENT,
        Intent.ANSWER_INCIDENT,
    }
)
LISTS = frozenset(
    {Intent.LIST_PRODUCTS, Intent.LIST_SERVICES, Intent.LIST_INCIDENTS, Intent.LIST_SUBSCRIPTIONS}
)
COMMANDS = frozenset(
    {
        Intent.CANCEL,
        Intent.BACK,
        Intent.HELP,
        Intent.GREETING,
        Intent.THANKS,
        Intent.SWITCH_LANGUAGE,
    }
)
# Below this closeness to every example, a message is no request the bot knows: a question.
MIN_SCORE = 0.34
MIN_SCORE_ENCODER = 0.80


@dataclass(frozen=True)
class Reading:
    text: str
    lang: str | None  # the message's language, None when too short or mixed to tell
    asks: tuple[Intent, ...]  # what it asks, in order; empty for a bare answer
    kind: str  # "question" | "request" | "command" | "answer"
    values: Values = field(default_factory=Values)
    lang_switch: str | None = None  # the language asked for ("in English please")
    yes_no: bool | None = None  # "oui", "no thanks"
    asking: bool = False  # phrased as a question ("…?", "how…", "comment…"), request or not
    scores: tuple[tuple[Intent, float], ...] = ()  # the closest intents, for tracing
    # The language its words point to when the text is too short to detect ("bonjour",
    # "aide"): a hint, which the language policy uses only where it is sure enough.
    hint: str | None = None
    # A word of correction ("actually", "non attends", "change the date"): values it
    # names for steps already answered replace them.
    correcting: bool = False

    @property
    def intent(self) -> Intent | None:
        """What to do about the message (once any language switch is done)."""
        others = [ask for ask in self.asks if ask is not Intent.SWITCH_LANGUAGE]
        return others[0] if others else (self.asks[0] if self.asks else None)

    @property
    def also(self) -> Intent | None:
        """A second request in the same message ("register my switch and activate a
        code"), to be done — or offered — once the first is."""
        others = [ask for ask in self.asks if ask is not Intent.SWITCH_LANGUAGE]
        return others[1] if len(others) > 1 else None

    @property
    def then(self) -> Reading | None:
        """After a language switch: the rest of the message, as its own reading."""
        if self.lang_switch is None or len(self.asks) < 2:
            return None
        rest = self.asks[1:]
        return replace(self, asks=rest, kind=_kind(rest[0]), lang_switch=None)


def read(
    text: str,
    *,
    today: dt.date,
    catalogue_models: Sequence[str] = (),
    subscriptions: Sequence[str] = (),
    encoder: Encoder | None = None,
) -> Reading:
    text = text[:READ_CHARS].strip()
    return replace(
        _read(text, today, catalogue_models, subscriptions, encoder),
        hint=language_hint(text),
        correcting=bool(_CORRECTING.search(normalize(text))),
    )


def _read(
    text: str,
    today: dt.date,
    catalogue_models: Sequence[str],
    subscriptions: Sequence[str],
    encoder: Encoder | None,
) -> Reading:
    lang = detect_language(text)
    values, spans = extract(
        text, today=today, catalogue_models=catalogue_models, subscriptions=subscriptions
    )
    switch = language_switch(text)
    if switch is not None:
        lang_asked, rest = switch
        if not rest.strip(" ,.;:!?-") or names_language(rest):
            return Reading(text, lang, (Intent.SWITCH_LANGUAGE,), "command", values, lang_asked)
        inner = _read_request(rest, values, spans, encoder)
        if inner.intent is None or inner.intent in COMMANDS - {Intent.SWITCH_LANGUAGE}:
            return Reading(text, lang, (Intent.SWITCH_LANGUAGE,), "command", values, lang_asked)
        return replace(
            inner,
            text=text,
            lang=lang,
            asks=(Intent.SWITCH_LANGUAGE, *inner.asks),
            lang_switch=lang_asked,
        )
    return replace(_read_request(text, values, spans, encoder), lang=lang)


def _kind(intent: Intent) -> str:
    if intent in COMMANDS:
        return "command"
    if intent is Intent.QUESTION:
        return "question"
    return "request"


def _reading(text: str, intent: Intent, values: Values, **more: object) -> Reading:
    if intent is Intent.FILE_INCIDENT:
        told = summary_of(text, values)
        sentences = _SENTENCE_END.split(told, maxsplit=1) if told is not None else []
        if told is not None and (len(told) > SUMMARY_MAX or len(sentences) > 1):
            # A report longer than a summary, or of several sentences: its first
            # sentence sums it up, all of it is the description.
            first = sentences[0]
            values = replace(values, summary=shorten(first, SUMMARY_MAX), description=told)
        else:
            values = replace(values, summary=told)
    if intent is Intent.ANSWER_INCIDENT and ":" in text and values.description is None:
        # "reply to INC-000002: the firmware is 6.5.1": the answer itself.
        answer = text.split(":", 1)[1].strip()
        if len(answer.split()) >= 2:
            values = replace(values, description=answer)
    # A serial- or code-like word named by nothing is what the flow needs it to be.
    if intent is Intent.REGISTER_PRODUCT and values.serial is None and values.identifier:
        values = replace(values, serial=values.identifier)
    if intent is Intent.ACTIVATE_SERVICE and values.identifier:
        # Shaped like a supplier's code, or beside the product's model ("activate
        # ABCD12345678 on my DAP-2662"), it is the code; else it is the product's serial
        # ("activer DAS sur le produit NS34L11000562", "activate code … on NS34L…"): a
        # serial tried as a code would count as a wrong code, and five lock the account.
        shaped = is_code_shaped(values.identifier)
        if values.code is None and (shaped or values.model is not None):
            values = replace(values, code=values.identifier)
        elif values.serial is None and not shaped:
            values = replace(values, serial=values.identifier)
    return Reading(text, None, (intent,), _kind(intent), values, **more)  # type: ignore[arg-type]


GREETING_START = re.compile(
    r"^\s*(?:bonjour|bonsoir|salut|coucou|hello|hi|hey|good (?:morning|afternoon|evening))\b[\s,.!]*",
    re.IGNORECASE,
)
_REOPEN = re.compile(rf"\b(?:{REOPEN_WORDS})\b", re.IGNORECASE)
# The problem of a resolved incident back: "the problem is back", "le problème est revenu",
# "ça recommence". The resolved incident is reopened (or the user asked which).
_CAME_BACK = re.compile(
    r"\b(?:(?:problem|issue|bug|probleme|souci|panne|pb)s?\s+(?:is|est|has|a|came|come)?\s*"
    r"(?:back|come back|revenue?|de retour|again|recommence)|ca recommence|it s back again"
    r"|it came back|it s happening again|it happens again|ca revient)\b"
)
# Asking to take something away, which no flow does.
_REMOVE = re.compile(
    r"\b(?:delete|remove|unregister|supprime[rz]?|retire[rz]?|efface[rz]?|enleve[rz]?"
    r"|desenregistre[rz]?)\b"
)
# Asking to close an incident, which only the support team does.
_CLOSE = re.compile(
    r"\b(?:close|fermer|fermez|ferme|cloturer|cloturez|cloture|annuler|annulez|annule|cancel)\b"
)


def asks_to_close(text: str) -> bool:
    """ "please close INC-000004, the problem is solved": asking for the closing, which only
    the support team does (not "can you close tickets?")."""
    norm = normalize(text).replace("?", " ").strip()
    return bool(_CLOSE.search(norm)) and not _QUESTION_START.match(norm)


# The user answering the support team, not asking when the team will answer ("when will
# support answer my ticket?" is a question): the message starts with the answering.
_ANSWER_SUPPORT = re.compile(
    r"^(?:(?:i want to|i d like to|i would like to|let me|can i|je veux|je voudrais|j aimerais"
    r"|je souhaite|puis je|je dois)\s+)?(?:reply|answer|respond|repondre|reponds|repondez)"
    r"(?:\s+(?:to|a|au|aux|sur))?\s+(?:the\s+|l\s+|le\s+|la\s+|mon\s+|my\s+)?"
    r"(?:support|team|equipe|incident|ticket|case|dossier|agent|engineer|ingenieur|technicien"
    r"|inc|them|leur)\b"
)
_QUESTION_START = re.compile(
    r"^(?:hw|hoe|howto|how|why|what|whats|when|which|who|where|is|are|does|do|did|should|can i"
    r"|could i|am i|will|is there|comment|pourquoi|quand|quel|quels|quelle|quelles|qu|que|quoi"
    r"|combien|est ce|c est quoi|ca veut dire|dois|doit|faut|puis je|peut on|ou|y a t il"
    r"|est il|qui)\b"
)
_REQUEST_START = re.compile(
    r"^(?:can you|could you|would you|will you|please|pls|plz|pouvez vous|peux tu|pourriez vous"
    r"|pourrais tu|merci de|i want|i d like|i would like|i need|je veux|je voudrais|je souhaite"
    r"|j aimerais|je dois|let me|help me|aidez moi|aide moi)\b"
)
# Asked to do it, anywhere in the message: "j'ai reçu le code …, pouvez-vous l'activer ?".
_ASKED_TO_DO = re.compile(
    r"\b(?:can|could|would|will) you (?:please |pls |kindly )?(?:\w+ )?(?:activate|register"
    r"|enable|open|file|create|log|raise)\b"
    r"|\b(?:pouvez|pourriez|voulez|voudriez|peux|pourrais|peut|pourrait) (?:vous|tu|on) "
    r"(?:(?:me|m|l|le|la|les|nous|svp|stp|bien) )*(?:activer|enregistrer|ouvrir|creer"
    r"|declarer|signaler|valider)\b"
)
_CORRECTING = re.compile(
    r"\b(?:actually|sorry|i meant|i mean|correction|wait|oops|my bad|my mistake|instead"
    r"|rather|change[rz]?|modifie[rz]?|corrige[rz]?|en fait|pardon|attends"
    r"|attendez|oups|plutot|je me suis trompe|je me suis trompee|erreur|non|no|nope"
    r"|c etait|it was|not)\b"
)
# Words of trouble: "my code is expired", "j'ai perdu mon code", "the test fails".
_TROUBLE = re.compile(
    r"\b(?:not|never|no (?:answer|reply|response|news)|cannot|cant|can t|doesnt|doesn t|dont"
    r"|don t|didnt|didn t|isnt|isn t|wont|won t|hasnt|hasn t|ne|pas|plus|jamais|aucun|aucune"
    r"|rien|expired|expire|expiree|lost|perdu|perdue|refused|refuse|rejected|invalid"
    r"|invalide|fails|failed|failing|fail|broken|error|errors|erreur|erreurs|offline|down"
    r"|panne|bug|bugs|crash|crashes|problem|problems|probleme|problemes|issue|issues|souci"
    r"|soucis|wrong|stuck|bloque|nobody|no one|noone|personne|slow|lent|lente|lag|freeze"
    r"|freezes|plante|empty|vide|blank|impossible|unable|echoue|echec|failure"
    r"|already (?:used|registered|activated|taken|in use)"
    r"|deja (?:utilise|utilisee|enregistre|enregistree|active|activee|pris)"
    r"|someone else|quelqu un d autre|reboot|reboots|rebooting|restarts|redemarre|keeps"
    r"|missing|manquant|manque|disappeared|disparu|introuvable|not found)\b"
)
_TICKET_WORDS = re.compile(
    r"\b(?:incident|incidents|ticket|tickets|case|dossier|support request|demande de support"
    r"|support case)\b"
)
_OPEN_WORDS = re.compile(
    r"\b(?:open|file|create|report|raise|log|submit|new|ouvrir|ouvre|ouvrez|creer|cree|signaler"
    r"|signale|declarer|soumettre|nouveau|nouvel)\b"
)
# Reporting a problem is filing an incident, whatever the word for it ("declarer un pb").
_REPORT_PROBLEM = re.compile(
    r"\b(?:report|reporting|raise|log|flag|signaler|signale|declarer|declare|remonter)\s+"
    r"(?:\w+\s+){0,2}(?:problems?|problemes?|issues?|bugs?|pannes?|soucis?|outages?"
    r"|dysfonctionnements?|faults?)\b"
)
_HELP = re.compile(
    r"^(?:i need|need|i want|je veux|j ai besoin d|besoin d|can you|could you|pouvez vous"
    r"|peux tu|please|svp)?\s*(?:help|aide|an aide|de l aide|some help|assistance)"
    r"(?:\s+(?:please|pls|svp|stp|s il vous plait|me|moi))*$"
    # What the bot can do, asked in so many words: the menu.
    r"|^(?:(?:hello|hi|hey|bonjour|salut)\s+)?(?:what can you do(?: for me)?|what do you do"
    r"|how can you help(?: me)?|what are (?:my |the |your )?options|(?:show (?:me )?)?(?:the )?"
    r"(?:main )?menu(?: please| pls| svp| stp)?|start|get started|anyone there|is anybody there"
    r"|is anyone there|que peux tu faire(?: pour moi)?|que sais tu faire|tu sers a quoi"
    r"|qu est ce que (?:tu sais|tu peux|vous savez|vous pouvez) faire(?: pour moi)?"
    r"|comment peux tu m aider|quelles sont les options|(?:afficher )?le menu(?: svp| stp)?"
    r"|commencer|demarrer|il y a quelqu un|allo)"
    r"(?:\s+(?:exactement|exactly|au juste|actually|here|ici|alors|then|donc|please|pls|svp"
    r"|stp))*$"
    # Not understanding what was asked: the step (or the menu) explained again, never a
    # knowledge-base search nor an answer to the step.
    r"|^(?:sorry |pardon |desole |euh |hmm )?(?:what|quoi|hein|huh|pardon|sorry|comment"
    r"|comment ca|c est a dire|what do you mean|what does (?:that|this|it) mean"
    r"|i (?:don t|dont|do not) (?:understand|get it|get what you mean)|(?:don t|dont) understand"
    r"|je (?:ne )?comprends? pas|j comprends pas|jcomprends pas|comprends pas|pas compris"
    r"|j ai pas compris|je n ai pas compris|(?:qu est ce que )?ca veut dire quoi"
    r"|qu est ce que ca veut dire|que voulez vous dire|tu veux dire quoi|vous voulez dire quoi)"
    r"(?:\s+(?:please|pls|svp|stp|again|encore))*$"
)
_THANKS = re.compile(
    r"^(?:ok |okay |great |super |parfait |perfect )?(?:thanks|thank you|thx|ty|merci|cheers)\b"
)
# "my open tickets", "mes incidents ouverts": a list, not a request to open one.
_MY_TICKETS = re.compile(
    r"\b(?:my|mes|all|tous|toutes|list|liste|show|voir)\s+(?:\w+\s+)?(?:incidents|tickets|cases|dossiers)\b"
)
# What asks for a list: a possessive, a list word, a "which … do I have".
_LIST_CUE = re.compile(
    r"\b(?:my|mine|our|mes|nos|which|what|quels?|quelles?|list|liste|lister|show|see|view"
    r"|voir|afficher|affiche|montre|montrer|consulter|do i have|have i|ai je|j ai|all|tous"
    r"|toutes|active|actives|actifs|actif|activated|activees|actuels|current|open|opened"
    r"|ouverts|ouverts|registered|enregistres|en cours|how many|combien)\b"
)
# "liste de mes contrats", "show me my services": a list asked for in so many words.
_LIST_START = re.compile(
    r"^(?:please |pls |svp |stp )?(?:list|liste|lister|show|show me|afficher|affiche|affichez"
    r"|montre|montrez|montre moi|montrez moi|voir|view|see)\b(?:\s+\w+)?\s+"
    r"(?:my|our|mes|nos|all my|tous mes|toutes mes|de mes|des|the|les)\b"
)
# A question about things of one's own: "which services do I have", "quels sont mes
# services actifs"; "quels contrats DAS existent pour le DAP-X2850 ?" asks about the offer.
_OWN = re.compile(
    r"\b(?:my|mine|our|ours|mes|mon|ma|nos|notre|do i have|have i|i have|we have|do we have"
    r"|ai je|j ai|avons nous|nous avons|on a|active|actives|actifs|actif|activated|activees"
    r"|registered|enregistres|enregistrees|en cours|current|actuels|ouverts|open|opened)\b"
)
# ("How many products do I have?" counts the user's things, "when do my services end?"
# asks for their dates: lists, not explanations.)
_HOWTO = re.compile(
    r"\b(?:how to|how do i|how can i|how should i|how does one|comment faire|comment je"
    r"|comment on|comment puis je|comment activer|comment enregistrer|comment ouvrir"
    r"|comment creer|comment signaler|comment suivre|comment voir)\b"
)
_POSSESSIVE = re.compile(r"\b(?:my|mon|ma|mes|our|notre|nos)\b")
_ABOUT = re.compile(
    r"\b(?:delai|delais|days|jours|duree|duration|time|temps|validity|validite|valid|valable"
    r"|limit|limits|limite|limites|price|prix|cost|coute|tarif|abroad|etranger|holiday"
    r"|holidays|christmas|noel|ferie|feries|weekend|during|pendant|rule|rules|regle|regles"
    r"|policy|politique|conditions|terms|prerequisites|prerequis|requirements|eligible"
    r"|eligibility|eligibilite|deadline|maximum|minimum)\b"
)
_WANT = re.compile(
    r"\b(?:i want|i d like|i would like|i need|je veux|je voudrais|je souhaite|j aimerais"
    r"|please|pls|plz|svp|stp|can you|could you|pouvez vous|peux tu)\b"
)
_NOW = re.compile(r"\b(?:please|pls|now|right now|today|svp|stp|maintenant|tout de suite)\b")
_EXPLAIN = re.compile(r"\b(?:why|how(?! many| long)|pourquoi|comment)\b")
_INCIDENT_NOUN = re.compile(
    r"\b(?:incidents?|tickets?|cases?|dossiers?|demandes?|requests?|tiket|inc)\b"
)
# The user's own things: only then may a question ask for a list or a status.
_MINE = re.compile(r"\b(?:my|mine|our|we|i|mon|ma|mes|nos|notre|nous|je|j|ai je)\b")
# Asking whether something may be done is asking about the rule, not for one's things:
# "est-ce que je peux annuler un service activé ?", "can I register two products?"
_ABILITY = re.compile(
    r"\b(?:can i|could i|may i|am i allowed|is it possible|puis je|je peux|peut on"
    r"|on peut|est il possible|ai je le droit)\b"
    # … but "can I see my products?" asks to see them.
    r"(?! (?:see|view|have|get|check|look|voir|avoir|consulter|afficher))"
)
# Status of things that are no incident of ours ("the status of my RMA", "my order").
_NOT_INCIDENTS = re.compile(r"\b(?:rma|order|orders|commande|commandes|delivery|livraison)\b")
# "my serial is QB…", "mon code postal est 33000", "voici le code …": a value, given.
_GIVING = re.compile(
    r"^(?:(?:my|mon|ma|the|le|la|l|this|ce|c|it|here|voici|voila)\s+)?(?:\w+\s+){0,4}"
    r"(?:is|est|s|:)\s+(?:z(?:model|serial|code|date|number|sub)\s*)+$"
    r"|^(?:c est|it s|it is|this is|voici|voila|here is|here s|i have|j ai)"
    r"(?:\s+(?:le|la|l|the|a|an|un|une|mon|ma|my|un|a))?\s+(?:z(?:model|serial|code|sub)\s*)+$"
)
_CONTACT = re.compile(r"\b(?:contact support|contacter le support|joindre le support)\b")
# A person asked for ("I want to talk to someone", "un conseiller svp", "speek to a humen"):
# a word for a person, with a verb of talking or reaching, or nearly alone.
_PERSON_NOUNS = (
    "human",
    "humans",
    "humain",
    "humains",
    "humaine",
    "person",
    "someone",
    "somebody",
    "quelqu un",
    "quelquun",
    "qqn",
    "qq1",
    "agent",
    "agents",
    "conseiller",
    "conseillere",
    "conseillers",
    "operator",
    "operateur",
    "operatrice",
    "representative",
    "rep",
    "technician",
    "technicien",
    "technicienne",
    "engineer",
    "ingenieur",
    "real person",
    "une personne",
    "vraie personne",
    "vrai personne",
    "live agent",
    "live person",
)
_PERSON_NOUN = "(?:" + "|".join(sorted(_PERSON_NOUNS, key=len, reverse=True)) + ")"
_PERSON = re.compile(
    r"\b(?:talk|talking|speak|speaking|chat|discuss|contact|reach|call|get|connect|transfer"
    r"|put me through|parler|parle|causer|discuter|echanger|joindre|contacter|appeler|avoir"
    r"|passer|mettre en relation|etre mis en relation|besoin d|want|need|veux|voudrais)\b"
    rf"(?:\s+\w+){{0,3}}?\s+{_PERSON_NOUN}\b"
    rf"|^(?:\w+\s+){{0,3}}?{_PERSON_NOUN}"
    r"(?:\s+(?:please|pls|plz|svp|stp|s il vous plait|s il te plait|now|maintenant|asap|vite))*$"
)
# Misspelt person words and verbs, corrected before matching ("humen" → "human").
_PERSON_FORMS = [
    "human",
    "humain",
    "someone",
    "conseiller",
    "operator",
    "operateur",
    "representative",
    "technician",
    "technicien",
    "engineer",
    "ingenieur",
    "speak",
    "talk",
    "parler",
    "discuter",
    "contacter",
]


def asks_for_person(norm: str) -> bool:
    """Does the (normalised) message ask to talk to a person?"""
    if _PERSON.search(norm):
        return True
    words = norm.replace("?", " ").split()
    fixed = [_person_form(word) for word in words]
    return fixed != words and bool(_PERSON.search(" ".join(fixed)))


def _person_form(word: str) -> str:
    if len(word) < 4 or word in _PERSON_FORMS:
        return word
    close = difflib.get_close_matches(word, _PERSON_FORMS, n=1, cutoff=0.75)
    return close[0] if close else word


_PLACEHOLDER = {
    "model": "{model}",
    "serial": "{serial}",
    "identifier": "{serial}",
    "code": "{code}",
    "date": "{date}",
    "incident": "{number}",
    "postal_code": "{number}",
    "subscription": "{sub}",
}
_QUESTION_SET = frozenset({Intent.QUESTION, Intent.CHECK_INCIDENT, *LISTS})


_AND = re.compile(
    r"\s*(?:,\s*)?\b(?:and then|and also|and|et puis|et aussi|et ensuite|et|then|puis|pis|ensuite"
    r"|also|aussi)\b\s*",
    re.IGNORECASE,
)


def _read_request(
    text: str, values: Values, spans: list[tuple[int, int, str]], encoder: Encoder | None
) -> Reading:
    """What `text` asks: one thing, or two requests joined by "and"/"et"/"then"."""
    whole = _read_one(text, values, spans, encoder)
    # Two requests read as one sentence can look like neither ("register my switch and
    # activate a code" is closest to a question): a statement is split and each half read.
    if whole.kind != "request" and not (whole.kind == "question" and not whole.asking):
        return whole
    for joint in _AND.finditer(text):
        left, right = text[: joint.start()], text[joint.end() :]
        if len(left.split()) < 2 or len(right.split()) < 2:
            continue
        cut = joint.end()
        first = _read_one(left, values, [sp for sp in spans if sp[1] <= joint.start()], encoder)
        second = _read_one(
            right, values, [(s - cut, e - cut, k) for s, e, k in spans if s >= cut], encoder
        )
        one, two = first.intent, second.intent
        if first.kind == second.kind == "request" and one and two and one != two:
            base = whole if whole.kind == "request" else first
            return replace(base, text=text, asks=(one, two))
    return whole


def _read_one(
    text: str, values: Values, spans: list[tuple[int, int, str]], encoder: Encoder | None
) -> Reading:
    greeting = GREETING_START.match(text)
    if greeting and greeting.end() < len(text) and len(text[greeting.end() :].split()) >= 2:
        cut = greeting.end()
        text = text[cut:]
        spans = [(s - cut, e - cut, k) for s, e, k in spans if s >= cut]
    norm = normalize(text).replace("?", " ").strip()
    if not norm:
        return Reading(text, None, (Intent.HELP,), "command", values)
    # Commands are a few words ("cancel that please"); longer messages never are one.
    command = understand(text).intent if len(norm.split()) <= 5 else None
    if command is not None and command in COMMANDS - {Intent.SWITCH_LANGUAGE}:
        return Reading(text, None, (command,), "command", values)
    if _HELP.match(norm):
        return Reading(text, None, (Intent.HELP,), "command", values)
    if _THANKS.match(norm) and len(norm.split()) <= 6:
        return Reading(text, None, (Intent.THANKS,), "command", values)
    if asks_for_person(norm):
        return _reading(text, Intent.PERSON, values)
    if _ANSWER_SUPPORT.match(norm):
        # "répondre au support", "reply to INC-000002: the firmware is 6.5.1"
        return _reading(text, Intent.ANSWER_INCIDENT, values)
    if values.incident is not None and asks_to_close(text):
        # "please close INC-000004, the problem is solved": support closes incidents; the
        # request reaches them as the customer's answer on it, in the customer's words.
        told = replace(values, description=text.strip())
        return _reading(text, Intent.ANSWER_INCIDENT, told)
    if values.incident is not None:
        intent = Intent.REOPEN_INCIDENT if _REOPEN.search(text) else Intent.CHECK_INCIDENT
        return _reading(text, intent, values)
    if _REMOVE.search(norm):
        # "supprime le produit AP26G81002107 de mon compte": nothing the bot can do, and
        # no registration to start; the knowledge base answers, or editors learn of it.
        return _reading(text, Intent.QUESTION, values)
    words = norm.split()
    yes_no = parse_yes_no(text) if len(words) <= 4 else None
    masked = _mask(text, spans)
    bare = prepare(masked).split()
    requested = bool(_REQUEST_START.match(norm) or _ASKED_TO_DO.search(norm))
    asking = (text.rstrip().endswith("?") or bool(_QUESTION_START.match(norm))) and not requested
    asking = asking or (is_howto_question(text) and not requested)
    # "I'd like to know how to register a product": a how-to, whatever frames it.
    howto = bool(_HOWTO.search(norm))
    asking = asking or howto
    # "Can I activate code NBD3-… on my DGS-1210?", "puis-je enregistrer mon switch
    # maintenant ?": asking leave to do it, now, to one's own thing, is asking for it.
    polite = _ABILITY.match(norm) and (
        values.code
        or values.serial
        or _NOW.search(norm)
        or (values.model and _POSSESSIVE.search(norm))  # not "on a DIR-X5460?": eligibility
    )
    if polite and not howto:
        asking = False
    giving = not asking and _GIVING.match(" ".join(bare))
    if yes_no is not None or not bare or (len(bare) <= 2 and spans) or giving:
        # "oui", "DGS-1210-28", "12/11/2026", "my serial is …": the answer to a question
        # the bot asked.
        return Reading(text, None, (), "answer", values, yes_no=yes_no, asking=asking)

    if not asking and (_REOPEN.search(text) or _CAME_BACK.search(norm)):
        # "le problème est revenu, je veux rouvrir l'incident": the resolved one, or which.
        return _reading(text, Intent.REOPEN_INCIDENT, values)
    trouble = bool(_TROUBLE.search(norm))
    if (
        not asking
        and not trouble
        and _ABOUT.search(norm)
        and not _WANT.search(norm)
        and not (values.code or values.serial or values.model or values.subscription)
    ):
        # "activation code 90 days", "ticket during christmas": keywords about a rule,
        # typed as into a search box, not a request.
        asking = True
    ticket = bool(_TICKET_WORDS.search(norm)) and bool(_OPEN_WORDS.search(norm))
    ticket = (ticket or bool(_REPORT_PROBLEM.search(norm))) and not _MY_TICKETS.search(norm)
    if not asking and (ticket or _CONTACT.search(norm)):
        return _reading(text, Intent.FILE_INCIDENT, values)
    if not asking and trouble and values.subscription is not None:
        return _reading(text, Intent.FILE_INCIDENT, values)

    scores = matcher(encoder).scores(masked)
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    allowed = _QUESTION_SET if asking else None
    if trouble and not asking:
        allowed = frozenset({Intent.QUESTION, Intent.FILE_INCIDENT})
    if asking and not _MINE.search(norm) and len(bare) > 2:
        allowed = frozenset({Intent.QUESTION})  # "is there a limit on incidents?"
    if allowed is not None:
        ranked = [(intent, score) for intent, score in ranked if intent in allowed]
    ranked = [(intent, score) for intent, score in ranked if names_topic(intent, bare)]
    if len(bare) > 1 and (not _LIST_CUE.search(norm) or (asking and not _OWN.search(norm))):
        # "nombre d'incidents autorisés" names incidents but asks for no list of them.
        ranked = [(intent, score) for intent, score in ranked if intent not in LISTS]
    elif _LIST_START.match(norm) and any(intent in LISTS for intent, _ in ranked):
        ranked = [(intent, score) for intent, score in ranked if intent in LISTS]
    if howto or (asking and (_EXPLAIN.search(norm) or _ABILITY.search(norm))):
        # "I activated my DAS, why has it not started?", "can I open two tickets?": an
        # explanation or a rule asked for.
        ranked = [(i, score) for i, score in ranked if i is Intent.QUESTION]
    if _NOT_INCIDENTS.search(norm) or (
        asking and not _INCIDENT_NOUN.search(norm) and not _MINE.search(norm) and len(bare) > 3
    ):
        # "what is the status of my RMA?" is about no incident of ours; "status?" is.
        ranked = [(i, score) for i, score in ranked if i is not Intent.CHECK_INCIDENT]
    floor = MIN_SCORE if encoder is None else MIN_SCORE_ENCODER
    best = ranked[0] if ranked and ranked[0][1] >= floor else None
    intent = best[0] if best else Intent.QUESTION
    if intent is Intent.FILE_INCIDENT and values.subscription is None and trouble:
        intent = Intent.QUESTION  # a problem with no subscription named: the KB first
    trace = tuple((i, round(s, 3)) for i, s in ranked[:3])
    return _reading(text, intent, values, scores=trace, asking=asking)


def _mask(text: str, spans: list[tuple[int, int, str]]) -> str:
    out, at = [], 0
    for start, end, kind in sorted(spans):
        if start < at or start < 0:
            continue
        out.append(text[at:start])
        out.append(f" {_PLACEHOLDER[kind]} ")
        at = end
    out.append(text[at:])
    return "".join(out)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_SUMMARY_CUT = re.compile(r"[:–—]|\s-\s")
_SUMMARY_LEAD = re.compile(
    r"^(?:because|since|as|about|regarding|concerning|car|parce que|concernant|au sujet de"
    r"|pour|for|with|avec|sur|on|please|pls|svp|stp)\b[\s,]*",
    re.IGNORECASE,
)


def summary_of(text: str, values: Values) -> str | None:
    """The user's own words about the problem, when the message gives some: after a colon
    ("problem with OneTouch AT.com: the test fails") or after the subscription's name
    ("créer un ticket pour linksprinter.com qui n'affiche plus les rapports")."""
    cut = _SUMMARY_CUT.search(text)
    tail = text[cut.end() :] if cut else ""
    named = values.subscription_text
    at = text.find(named) if named else -1
    if named and cut and at >= 0 and at + len(named) < cut.start():
        # "sur Nuclias Cloud Pro impossible d'ajouter un AP : erreur 'device already
        # bound'": what comes between the name and the colon is the problem too.
        between = _SUMMARY_LEAD.sub("", text[at + len(named) : cut.start()].strip(" ,.;!-"))
        if len(between.split()) >= 2:
            tail = text[at + len(named) :]
    elif not tail.strip() and named:
        tail = text[at + len(named) :] if at >= 0 else ""
    elif named and tail.lstrip().startswith(named):
        tail = tail.lstrip()[len(named) :]
    tail = _SUMMARY_LEAD.sub("", tail.strip(" ,.;:!-–—"))
    tail = re.sub(r"^(?:qui|that|which|is|est)\s+", "", tail, flags=re.IGNORECASE).strip()
    return tail if len(tail.split()) >= 2 else None
