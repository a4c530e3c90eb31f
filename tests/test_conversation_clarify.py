""" "Do you mean … or …?": when the KB finds two articles too close to choose from, the bot
asks which one, in the user's language; the pick is answered like any question, "neither"
is the no-answer path; mid-flow the flow's step is asked again after the pick.

The KB's decision is given by a fake (`ClarifyingKB`), so these tests do not depend on how
the decision is calibrated: no question of the calibration sets gets it from the shipped KB.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.boundary import CHOICE, Action, ArticleAnswer, Outcome, Prompt, to_mrkdwn
from bot.conversation import Assistant
from bot.settings import Settings
from services import questions
from storage.db import SessionFactory
from storage.models import ArticleFeedback, QuestionLog
from tests.conversation_helpers import (
    Chat,
    ClarifyingKB,
    choices_of,
    seed_demo,
    shared_kb,
    text_of,
    user,
)

QUESTION = {
    "en": "how long does it take to get an answer?",
    "fr": "combien de temps faut-il pour avoir une réponse ?",
}
PAIR = ("first-response-time", "resolution-time")
TITLES = {
    "en": (
        "How quickly will support first respond to my incident?",
        "How long will it take to resolve my problem?",
    ),
    "fr": (
        "Dans quel délai le support répond-il pour la première fois à mon incident ?",
        "Combien de temps faut-il pour résoudre mon problème ?",
    ),
}
ASKED = {
    "en": "Do you mean “How quickly will support first respond to my incident” or “How long "
    "will it take to resolve my problem”?",
    "fr": "Vous voulez dire « Dans quel délai le support répond-il pour la première fois à mon "
    "incident » ou « Combien de temps faut-il pour résoudre mon problème » ?",
}
NEITHER = {"en": "Neither of them", "fr": "Ni l’un ni l’autre"}
REGISTER = {"en": "register a product", "fr": "enregistrer un produit"}
ALREADY = {"en": "already taken that into account", "fr": "déjà pris en compte"}
NO_LONGER_OPEN = {"en": "no longer open", "fr": "plus en cours"}
LANGS = ["en", "fr"]


@pytest.fixture
def kb(tmp_path_factory: pytest.TempPathFactory) -> ClarifyingKB:
    return ClarifyingKB(shared_kb(tmp_path_factory), dict.fromkeys(QUESTION.values(), PAIR))


@pytest.fixture
def assistant(session_factory: SessionFactory, settings: Settings, kb: ClarifyingKB) -> Assistant:
    seed_demo(session_factory)
    return Assistant(session_factory, settings, kb)


def _logged(session_factory: SessionFactory) -> list[tuple[str, bool, str | None]]:
    with session_factory() as session:
        rows = session.scalars(select(QuestionLog).order_by(QuestionLog.id)).all()
        return [(row.question, row.answered, row.slug) for row in rows]


def _unanswered(session_factory: SessionFactory) -> list[str]:
    with session_factory() as session:
        return [q.question for q in questions.unanswered_questions(session)]


def _which(out: Outcome, lang: str) -> Prompt:
    """The "Do you mean … or …?" prompt, checked as a user and a channel see it."""
    assert out.waiting_for == "which_article" and out.lang == lang
    assert text_of(out) == ASKED[lang]
    prompt = out.prompt
    assert prompt is not None and prompt.kind == CHOICE and prompt.run_id == out.run_id
    assert prompt.action_slot == "which_article"
    assert [label for _, label in choices_of(out)] == [*TITLES[lang], NEITHER[lang]]
    assert out.numbered == prompt.choices  # a number typed picks one
    return prompt


@pytest.mark.parametrize("lang", LANGS)
def test_two_close_articles_are_asked_about_and_the_pick_is_answered(
    assistant: Assistant, session_factory: SessionFactory, lang: str
) -> None:
    chat = Chat(assistant, user("U1", lang=lang))
    _which(chat.say(QUESTION[lang]), lang)
    # Until the user picks, editors see the question as unanswered.
    assert _unanswered(session_factory) == [QUESTION[lang]]

    out = chat.say("2")
    [answer] = out.replies
    assert isinstance(answer, ArticleAnswer)
    assert (answer.slug, answer.lang, answer.title) == ("resolution-time", lang, TITLES[lang][1])
    assert out.waiting_for == "feedback"
    assert [c.value for c in answer.feedback] == ["yes", "no"] and answer.link is not None
    assert _logged(session_factory) == [(QUESTION[lang], True, "resolution-time")]
    assert _unanswered(session_factory) == []

    thanks = chat.say("yes" if lang == "en" else "oui")
    assert thanks.waiting_for is None
    with session_factory() as session:
        [vote] = session.scalars(select(ArticleFeedback)).all()
        [logged] = session.scalars(select(QuestionLog)).all()
        assert (vote.slug, vote.helpful, vote.question_id) == ("resolution-time", True, logged.id)


@pytest.mark.parametrize("lang", LANGS)
def test_an_article_is_picked_by_its_title(
    assistant: Assistant, session_factory: SessionFactory, lang: str
) -> None:
    chat = Chat(assistant, user("U1", lang=lang))
    chat.say(QUESTION[lang])
    out = chat.say(TITLES[lang][0])
    assert isinstance(out.replies[0], ArticleAnswer)
    assert out.replies[0].slug == "first-response-time" and out.waiting_for == "feedback"
    assert _logged(session_factory) == [(QUESTION[lang], True, "first-response-time")]


@pytest.mark.parametrize(
    ("lang", "said", "slug"),
    [
        ("fr", "le premier", "first-response-time"),
        ("en", "the second one", "resolution-time"),
    ],
)
def test_an_article_is_picked_by_its_position_in_words(
    assistant: Assistant, lang: str, said: str, slug: str
) -> None:
    chat = Chat(assistant, user("U1", lang=lang))
    chat.say(QUESTION[lang])
    out = chat.say(said)
    assert isinstance(out.replies[0], ArticleAnswer) and out.replies[0].slug == slug


@pytest.mark.parametrize("lang", LANGS)
def test_a_button_bound_to_the_question_picks_once(
    assistant: Assistant, session_factory: SessionFactory, lang: str
) -> None:
    chat = Chat(assistant, user("U1", lang=lang))
    asked = chat.say(QUESTION[lang])
    prompt = _which(asked, lang)
    assert asked.run_id is not None
    click = Action(asked.run_id, prompt.action_slot or "", prompt.choices[0].value, "k1")
    out = chat.act(click)
    assert isinstance(out.replies[0], ArticleAnswer)
    assert out.replies[0].slug == "first-response-time" and out.waiting_for == "feedback"
    # The same click delivered again, then the other button: nothing more happens.
    assert ALREADY[lang] in text_of(chat.act(click))
    other = Action(asked.run_id, "which_article", prompt.choices[1].value, "k2")
    assert NO_LONGER_OPEN[lang] in text_of(chat.act(other))
    assert _logged(session_factory) == [(QUESTION[lang], True, "first-response-time")]


def test_a_click_that_is_not_one_of_the_choices_is_refused(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    asked = chat.say(QUESTION["en"])
    assert asked.run_id is not None
    forged = chat.act(Action(asked.run_id, "which_article", "article:gold-program", "k1"))
    assert "no longer open" in text_of(forged) and forged.waiting_for == "which_article"
    # A command slot is not how this question is answered either.
    assert "no longer open" in text_of(
        chat.act(Action(asked.run_id, "command", "article:resolution-time", "k2"))
    )
    assert chat.say("1").waiting_for == "feedback"


@pytest.mark.parametrize(
    ("lang", "neither"),
    [("en", "neither"), ("fr", "aucun des deux"), ("en", "the last one"), ("fr", "la dernière")],
)
def test_neither_is_the_no_answer_path(
    assistant: Assistant, session_factory: SessionFactory, lang: str, neither: str
) -> None:
    chat = Chat(assistant, user("U1", lang=lang))
    chat.say(QUESTION[lang])
    out = chat.say(neither)
    no_answer = {
        "en": "no answer to that in the knowledge base",
        "fr": "pas de réponse à cela dans la base de connaissances",
    }
    assert no_answer[lang] in text_of(out)
    report = {"en": "Report an incident", "fr": "Signaler un incident"}
    assert choices_of(out) == [("flow:file_incident", report[lang])]
    assert _unanswered(session_factory) == [QUESTION[lang]]
    assert chat.say("1").waiting_for == "subscription"  # the incident it offered


def test_neither_by_its_button(assistant: Assistant, session_factory: SessionFactory) -> None:
    chat = Chat(assistant, user("U1", lang="fr"))
    asked = chat.say(QUESTION["fr"])
    assert asked.run_id is not None
    out = chat.act(Action(asked.run_id, "which_article", "neither", "k1"))
    assert "pas de réponse" in text_of(out)
    assert _unanswered(session_factory) == [QUESTION["fr"]]


def test_something_else_is_a_new_message(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    chat.say(QUESTION["en"])
    out = chat.say("my products")
    assert out.waiting_for is None and "registered products" in text_of(out)
    assert _unanswered(session_factory) == [QUESTION["en"]]  # never answered


def test_the_titles_are_data_for_each_medium(
    session_factory: SessionFactory, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    seed_demo(session_factory)
    kb = ClarifyingKB(shared_kb(tmp_path_factory), {QUESTION["en"]: PAIR})
    chat = Chat(Assistant(session_factory, settings, kb), user("U1", lang="en"))
    out = chat.say(QUESTION["en"])
    # A title's words are never markup: no bold, links or mentions made of them.
    assert to_mrkdwn(out.replies[0].text) == ASKED["en"]


# --- inside a flow ------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_mid_flow_the_pick_is_answered_then_the_step_asked_again(
    assistant: Assistant, session_factory: SessionFactory, lang: str
) -> None:
    chat = Chat(assistant, user("U1", lang=lang))
    assert chat.say(REGISTER[lang]).waiting_for == "model"
    _which(chat.say(QUESTION[lang]), lang)  # the choice first, the step waits
    out = chat.say("1")
    assert out.waiting_for == "model"
    article, step = out.replies
    assert isinstance(article, ArticleAnswer) and article.slug == "first-response-time"
    assert article.feedback == [] and article.choices == []  # mid-flow: the answer alone
    assert isinstance(step, Prompt) and step.slot == "model"
    assert _logged(session_factory) == [(QUESTION[lang], True, "first-response-time")]
    # The flow goes on where it was.
    assert chat.say("DGS-1210-28").waiting_for == "serial"


@pytest.mark.parametrize("lang", LANGS)
def test_mid_flow_a_button_picks_and_the_step_is_asked_again(
    assistant: Assistant, lang: str
) -> None:
    chat = Chat(assistant, user("U1", lang=lang))
    started = chat.say(REGISTER[lang])
    asked = chat.say(QUESTION[lang])
    assert asked.run_id == started.run_id  # the flow's run: its buttons stay bound to it
    prompt = _which(asked, lang)
    assert asked.run_id is not None
    out = chat.act(Action(asked.run_id, "which_article", prompt.choices[1].value, "k1"))
    assert out.waiting_for == "model"
    assert isinstance(out.replies[0], ArticleAnswer)
    assert out.replies[0].slug == "resolution-time"
    # The question is settled: its other button no longer does anything.
    late = chat.act(Action(asked.run_id, "which_article", prompt.choices[0].value, "k2"))
    assert NO_LONGER_OPEN[lang] in text_of(late) and late.waiting_for == "model"


@pytest.mark.parametrize(
    ("lang", "neither"), [("en", "none of them"), ("fr", "ni l’un ni l’autre")]
)
def test_mid_flow_neither_says_so_and_asks_the_step_again(
    assistant: Assistant, session_factory: SessionFactory, lang: str, neither: str
) -> None:
    chat = Chat(assistant, user("U1", lang=lang))
    chat.say(REGISTER[lang])
    chat.say(QUESTION[lang])
    out = chat.say(neither)
    assert out.waiting_for == "model"
    assert isinstance(out.replies[-1], Prompt) and out.replies[-1].slot == "model"
    assert "flow:file_incident" not in [value for value, _ in choices_of(out)]
    assert _unanswered(session_factory) == [QUESTION[lang]]


def test_mid_flow_the_step_answered_instead_goes_on(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    chat.say("register a product")
    chat.say(QUESTION["en"])
    # Not a pick: the answer to the flow's step, which the user still sees above.
    assert chat.say("DGS-1210-28").waiting_for == "serial"
    assert chat.say("cancel").waiting_for is None
