"""A customer who does not follow, or who gives the wrong kind of answer: the bot explains
the step again and keeps what was already said; nothing is stored or searched by mistake."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.conversation import Assistant
from storage.db import SessionFactory
from storage.models import QuestionLog
from tests.conversation_helpers import Chat, text_of, user

EXPLAINED = {
    "en": "You can answer the question below",
    "fr": "Vous pouvez répondre à la question ci-dessous",
}


@pytest.mark.parametrize(
    ("lang", "start", "confused"),
    [
        ("en", ("report an incident", "2"), "I don't understand"),
        ("en", ("report an incident", "2"), "what do you mean?"),
        ("fr", ("signaler un incident", "2"), "je comprends pas"),
        ("fr", ("signaler un incident", "2"), "hein ?"),
        ("en", ("activate a DAS service",), "what?"),
        ("fr", ("activer un service DAS",), "c'est-à-dire ?"),
    ],
)
def test_not_understanding_a_step_gets_it_explained_not_taken_as_the_answer(
    assistant: Assistant,
    session_factory: SessionFactory,
    lang: str,
    start: tuple[str, ...],
    confused: str,
) -> None:
    chat = Chat(assistant, user("U1", lang=lang))
    step = chat.says(*start).waiting_for
    out = chat.say(confused)
    assert out.waiting_for == step and out.lang == lang
    assert EXPLAINED[lang] in text_of(out)
    with session_factory() as session:
        assert session.scalars(select(QuestionLog)).all() == []  # nothing for the editors
    if step == "summary":
        assert chat.say("Dashboard blank").waiting_for == "description"
        out = chat.say("Every page of the dashboard is blank since this morning.")
        assert out.waiting_for == "confirm"
        assert "Dashboard blank" in text_of(out) and confused not in text_of(out)
