"""One reading per message: what it asks, question or request, language switch, values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest

from bot.nlu import Intent
from bot.understanding import Reading, read
from bot.understanding.intents import EncoderMatcher, LexicalMatcher

TODAY = dt.date(2026, 11, 29)
MODELS = ("DGS-1210-28", "DGS-3630-28TC", "DIR-X5460", "DAP-2662", "DNS-340L")
SUBSCRIPTIONS = ("Link-Live Cloud", "OneTouch AT.com", "LinkSprinter.com", "Nuclias Cloud Pro")


def reading(text: str, **kwargs: object) -> Reading:
    return read(text, today=TODAY, catalogue_models=MODELS, subscriptions=SUBSCRIPTIONS, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "what if my code expired?",
        "how long is my code valid?",
        "my activation code is expired what can i do",
        "j'ai perdu mon code",
        "my incident has no answer after 2 hours",
        "how do I activate my DAS contract?",
        "comment enregistrer un produit ?",
        "hw do i regsiter a prodcut",
        "how do I activer mon code DAS",
        "what does DAS stand for?",
        "quand est-ce que l'assistance est ouverte",
        "is there a limit on the number of incidents?",
        "mon DGS-1210-28 n'apparait pas dans la liste quand je veux activer le DAS",
        "est-ce que vos techniciens parlent français ?",
        "is support available in English?",
        "I want to buy a new router",
        "my switch keeps rebooting",
        "add new site address",
        "nombre d'incidents autorisés",
        "i activated my DAS today, when does coverage actually begin?",
        "what is the status of my RMA?",
        "product missing from activation page",
        "Quels contrats DAS existent pour le DAP-X2850 ? où je peux voir ça",
        "does my subscription come with premium support?",
        "mon abonnement inclut-il le support premium ?",
    ],
)
def test_questions_about_things_go_to_the_knowledge_base(text: str) -> None:
    found = reading(text)
    assert found.asks == (Intent.QUESTION,)
    assert found.kind == "question"
    assert found.lang_switch is None


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("activate my code", Intent.ACTIVATE_SERVICE),
        ("je veux activer un contrat DAS", Intent.ACTIVATE_SERVICE),
        ("pls register my switch", Intent.REGISTER_PRODUCT),
        ("jveux enregistrer mon routeur", Intent.REGISTER_PRODUCT),
        ("enregister un prodiut", Intent.REGISTER_PRODUCT),
        ("ouvrir un incident", Intent.FILE_INCIDENT),
        ("I need to file an incident for Link-Live Cloud", Intent.FILE_INCIDENT),
        ("where's my ticket", Intent.CHECK_INCIDENT),
        ("my products", Intent.LIST_PRODUCTS),
        ("which DAS services do I have activated right now?", Intent.LIST_SERVICES),
        ("mes incidents", Intent.LIST_INCIDENTS),
        ("my open tickets", Intent.LIST_INCIDENTS),
        ("liste de mes contrats D-Link Assist stp", Intent.LIST_SERVICES),
        ("est-ce que mon DAS sur le DIR-X5460 est toujours actif ?", Intent.LIST_SERVICES),
        ("mes abonnements", Intent.LIST_SUBSCRIPTIONS),
        ("jveux declarer un pb sur mon abonnement", Intent.FILE_INCIDENT),
        ("I need to report a problem on my subscription", Intent.FILE_INCIDENT),
        ("need to activate the DAS we bought for the NAS", Intent.ACTIVATE_SERVICE),
        (
            "j'ai reçu le code EXPD-D1Q5-H3VB pour mon DAP-2662, pouvez-vous l'activer ?",
            Intent.ACTIVATE_SERVICE,
        ),
        ("I got a new DAP-2662 last week, could you register it?", Intent.REGISTER_PRODUCT),
    ],
)
def test_requests_start_what_they_ask(text: str, intent: Intent) -> None:
    found = reading(text)
    assert found.asks == (intent,)
    assert found.kind == "request"


def test_say_it_once_registration() -> None:
    found = reading("register my DGS-3630-28TC serial S3XY1A2004242 bought 12/11/2026")
    assert found.intent is Intent.REGISTER_PRODUCT
    assert found.values.slots() == {
        "model": "DGS-3630-28TC",
        "serial": "S3XY1A2004242",
        "purchase_date": "2026-11-12",
    }


def test_say_it_once_activation() -> None:
    found = reading("activate code NBD3-7KQ2-A9XM on my DGS-1210")
    assert found.intent is Intent.ACTIVATE_SERVICE
    assert found.values.code == "NBD37KQ2A9XM"
    assert found.values.model is not None and found.values.model.model == "DGS-1210-28"


def test_say_it_once_incident_with_summary() -> None:
    found = reading("problem with OneTouch AT.com: the test fails")
    assert found.intent is Intent.FILE_INCIDENT
    assert found.values.subscription == "OneTouch AT.com"
    assert found.values.summary == "the test fails"
    french = reading("créer un ticket : linksprinter.com n'affiche plus les rapports")
    assert french.values.subscription == "LinkSprinter.com"
    assert french.values.summary == "n'affiche plus les rapports"
    bare = reading("open a ticket for linksprinter, DHCP test fails")  # no ".com"
    assert bare.values.subscription == "LinkSprinter.com"
    assert bare.values.summary == "DHCP test fails"


def test_a_serial_typed_in_groups_is_read_whole() -> None:
    found = reading("we just received a DGS-1210-28 (SN: qbqe 1600 77810), please register it")
    assert found.values.serial == "QBQE160077810"
    assert reading("serial number please, register my switch").values.serial is None


def test_an_unnamed_identifier_is_what_the_flow_needs() -> None:
    assert reading("register DGS-1210-28 QBQE160012345").values.serial == "QBQE160012345"
    assert reading("activate ABCD12345678 on my DAP-2662").values.code == "ABCD12345678"


@pytest.mark.parametrize(
    ("text", "number", "intent"),
    [
        ("INC-000002", 2, Intent.CHECK_INCIDENT),
        ("où en est le ticket 2 ?", 2, Intent.CHECK_INCIDENT),
        ("is incident 2 resolved?", 2, Intent.CHECK_INCIDENT),
        ("#2", 2, Intent.CHECK_INCIDENT),
        ("please reopen ticket 8, the problem is back", 8, Intent.REOPEN_INCIDENT),
        ("reopen 6", 6, Intent.REOPEN_INCIDENT),
        ("rouvrir le 5", 5, Intent.REOPEN_INCIDENT),
        ("status 3 please", 3, Intent.CHECK_INCIDENT),
    ],
)
def test_incident_references(text: str, number: int, intent: Intent) -> None:
    found = reading(text)
    assert found.asks == (intent,)
    assert found.values.incident is not None and found.values.incident.number == number


def test_a_number_of_hours_is_no_incident() -> None:
    found = reading("my incident has no answer after 2 hours")
    assert found.values.incident is None
    assert found.intent is Intent.QUESTION
    assert reading("reopen in 2 days").values.incident is None
    assert reading("check 3 products").values.incident is None


def test_language_switch_and_a_request_in_one_message() -> None:
    found = reading("in English please, I want to register a product")
    assert found.lang_switch == "en"
    assert found.asks == (Intent.SWITCH_LANGUAGE, Intent.REGISTER_PRODUCT)
    assert found.then is not None and found.then.asks == (Intent.REGISTER_PRODUCT,)
    assert found.then.kind == "request"


@pytest.mark.parametrize(
    ("text", "lang", "then"),
    [
        ("in English please", "en", None),
        ("en français svp", "fr", None),
        ("parle-moi en anglais", "en", None),
        ("can we switch to english? where is ticket 7 at", "en", Intent.CHECK_INCIDENT),
        ("en francais svp comment activer mon code", "fr", Intent.QUESTION),
        ("how do I activate my code in french please", "fr", Intent.QUESTION),
        ("in english: what is a type 2 subscription?", "en", Intent.QUESTION),
        ("I don't speak French", "en", None),
        ("je ne comprends pas l'anglais, où en est mon ticket ?", "fr", Intent.CHECK_INCIDENT),
        # Beside a switch, words about the language give its reason and ask nothing more.
        ("Do you speak French? I'd rather continue in French", "fr", None),
        ("Hi! Could you switch to French? My English isn't great", "fr", None),
        ("on peut passer en anglais ? mon collègue ne parle pas français", "en", None),
    ],
)
def test_language_switches(text: str, lang: str, then: Intent | None) -> None:
    found = reading(text)
    assert found.lang_switch == lang
    assert found.asks[0] is Intent.SWITCH_LANGUAGE
    assert (found.then.intent if found.then else None) is then


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("how do I activer mon code DAS", "en"),
        ("comment je fais pour activer my code", None),
        ("je voudrais enregistrer mon produit", "fr"),
    ],
)
def test_mixed_language_messages_are_understood(text: str, lang: str | None) -> None:
    found = reading(text)
    assert found.intent in (Intent.QUESTION, Intent.REGISTER_PRODUCT)
    if lang is not None:
        assert found.lang == lang


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("annuler", Intent.CANCEL),
        ("back", Intent.BACK),
        ("aide", Intent.HELP),
        ("I need help", Intent.HELP),
        ("bonjour", Intent.GREETING),
        ("thank you so much!", Intent.THANKS),
        ("what can you do for me?", Intent.HELP),
        ("menu please", Intent.HELP),
        ("hello, anyone there?", Intent.HELP),
        ("que peux-tu faire ?", Intent.HELP),
        ("Salut, tu sers à quoi exactement ?", Intent.HELP),
        ("nvm", Intent.CANCEL),
        ("bon ben non finalement", Intent.CANCEL),
        ("au revoir", Intent.THANKS),  # nothing to look up, nothing for the editors
        ("bonne journée !", Intent.THANKS),
    ],
)
def test_commands(text: str, intent: Intent) -> None:
    found = reading(text)
    assert found.asks == (intent,)
    assert found.kind == "command"


@pytest.mark.parametrize(
    "text",
    [
        "oui",
        "no",
        "DGS-1210-28",
        "12/11/2026",
        "mon code postal est 33000",
        "my serial is QBQE160012345",
        "c'est le DAP-2662",
    ],
)
def test_bare_values_and_yes_no_are_answers(text: str) -> None:
    found = reading(text)
    assert found.kind == "answer"
    assert found.asks == ()


def test_greeting_before_a_request_is_politeness() -> None:
    found = reading("Bonjour, je voudrais enregistrer mon DGS-1210-28")
    assert found.asks == (Intent.REGISTER_PRODUCT,)
    assert found.values.model is not None and found.values.model.model == "DGS-1210-28"


class WordsEncoder:
    """A stand-in encoder: a bag of words over a fixed vocabulary (counts calls)."""

    VOCABULARY = ("register", "product", "activate", "code", "incident", "how", "my", "list")

    def __init__(self) -> None:
        self.calls = 0

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        out = []
        for text in texts:
            words = text.casefold().split()
            out.append([float(words.count(w)) + 1e-6 for w in self.VOCABULARY])
        return out


def test_an_encoder_when_given_ranks_the_examples_and_embeds_them_once() -> None:
    encoder = WordsEncoder()
    first = reading("register product", encoder=encoder)
    second = reading("activate code", encoder=encoder)
    assert first.intent is Intent.REGISTER_PRODUCT
    assert second.intent is Intent.ACTIVATE_SERVICE
    assert encoder.calls == 3  # the examples once, then one call per message


def test_lexical_and_encoder_matchers_share_one_interface() -> None:
    examples = {Intent.REGISTER_PRODUCT: ["register a product"], Intent.QUESTION: ["how do i"]}
    lexical = LexicalMatcher(examples).scores("regsiter a prodcut")
    encoded = EncoderMatcher(WordsEncoder(), examples).scores("register a product")
    assert max(lexical, key=lambda i: lexical[i]) is Intent.REGISTER_PRODUCT
    assert max(encoded, key=lambda i: encoded[i]) is Intent.REGISTER_PRODUCT


def test_two_requests_in_one_message_are_both_read_in_order() -> None:
    found = reading("I want to register my DGS-1210-28 and activate a DAS code")
    assert found.asks == (Intent.REGISTER_PRODUCT, Intent.ACTIVATE_SERVICE)
    assert (found.intent, found.also) == (Intent.REGISTER_PRODUCT, Intent.ACTIVATE_SERVICE)
    assert found.values.model is not None and found.values.model.model == "DGS-1210-28"
    # "and" inside one request splits nothing.
    single = reading("problem with OneTouch AT.com and the test fails")
    assert single.asks == (Intent.FILE_INCIDENT,) and single.also is None
    quebec = reading("montre moi mes produits pis mes incidents")  # "pis": and then
    assert quebec.asks == (Intent.LIST_PRODUCTS, Intent.LIST_INCIDENTS)


def test_values_after_a_language_switch_keep_their_place() -> None:
    found = reading("en français svp, activer le code NBD3-7KQ2-A9XM sur mon DGS-1210-28")
    assert found.lang_switch == "fr"
    assert found.intent is Intent.ACTIVATE_SERVICE
    assert found.values.code == "NBD37KQ2A9XM"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("add my new switch", Intent.REGISTER_PRODUCT),
        ("j'ai acheté un nouveau routeur", Intent.REGISTER_PRODUCT),
        ("I want to buy a new router", Intent.QUESTION),
        ("services DAS actifs", Intent.LIST_SERVICES),
        ("how many products do I have?", Intent.LIST_PRODUCTS),
        ("tickets ouverts", Intent.LIST_INCIDENTS),
    ],
)
def test_devices_and_lists_by_what_the_words_around_them_say(text: str, intent: Intent) -> None:
    assert reading(text).asks == (intent,)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I already have a code, activate it", Intent.ACTIVATE_SERVICE),
        ("register my DGS-1210-28 serial no QBQE160012345", Intent.REGISTER_PRODUCT),
        ("when does my DAS end", Intent.LIST_SERVICES),
        ("can I see my products?", Intent.LIST_PRODUCTS),
        ("est-ce que je peux annuler un service activé ?", Intent.QUESTION),
        ("status?", Intent.CHECK_INCIDENT),
        ("my code was already used", Intent.QUESTION),
    ],
)
def test_requests_rules_and_troubles_told_apart(text: str, intent: Intent) -> None:
    assert reading(text).asks == (intent,)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("could I register my DGS-1210-28 please?", Intent.REGISTER_PRODUCT),
        ("puis-je activer mon code ONS5-Q8WE-7TZR sur le DAP-2662 ?", Intent.ACTIVATE_SERVICE),
        ("can I activate DAS on a DIR-X5460?", Intent.QUESTION),
        ("can I register a product bought abroad?", Intent.QUESTION),
        ("I would like to know how to register a product", Intent.QUESTION),
        ("je voudrais savoir comment activer un code", Intent.QUESTION),
    ],
)
def test_asking_leave_to_do_it_is_a_request_asking_how_is_a_question(
    text: str, intent: Intent
) -> None:
    assert reading(text).asks == (intent,)


@pytest.mark.parametrize(
    "text",
    [
        "activation code 90 days",
        "code activation délai",
        "register product abroad",
        "ticket during christmas",
    ],
)
def test_keywords_about_a_rule_are_a_search_not_a_request(text: str) -> None:
    assert reading(text).asks == (Intent.QUESTION,)


def test_a_request_about_a_rule_is_still_a_request() -> None:
    assert reading("I want to register a product bought abroad").asks == (Intent.REGISTER_PRODUCT,)


@pytest.mark.parametrize(
    "text",
    [
        "I want to talk to a human",
        "I want to talk to someone",
        "parler à un humain",
        "can I speak to an agent?",
        "un conseiller svp",
        "speek to a humen",
        "parlé a un humin",
        "pouvez-vous me mettre en relation avec un conseiller",
        "agent",
    ],
)
def test_asking_for_a_person_is_understood(text: str) -> None:
    assert reading(text).asks == (Intent.PERSON,)


@pytest.mark.parametrize(
    "text",
    [
        "est-ce que vos techniciens parlent français ?",
        "someone else registered my serial",
        "personne ne répond à mon ticket",
        "is there a human who reads the tickets?",
        "I want to register my product with an agent",
    ],
)
def test_a_person_named_is_not_always_a_person_asked_for(text: str) -> None:
    assert Intent.PERSON not in reading(text).asks


def test_a_short_topic_word_is_a_whole_word() -> None:
    """ "das" names a DAS service, "dashboard" does not."""
    assert reading("about the dashboard").intent is not Intent.ACTIVATE_SERVICE
    assert reading("activate DAS").intent is Intent.ACTIVATE_SERVICE


def test_asking_what_the_bot_does_in_french_is_the_menu() -> None:
    assert reading("qu'est-ce que tu sais faire ?").asks == (Intent.HELP,)
    assert reading("qu'est-ce que vous pouvez faire pour moi ?").asks == (Intent.HELP,)
