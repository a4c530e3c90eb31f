"""Knowledge-base answers: the short answer, the whole article, related ones, "helpful?".

After an answer the conversation waits (softly) for `feedback`: the user may vote, open
the whole article or a related one by its choice — or write anything else, which is then
understood as a new message. The state kept between the two messages is small and
JSON-serialisable: the article, its language, the logged question and the choices shown.

When the KB finds two articles too close to tell apart (its decision, never the bot's), the
bot asks "Do you mean … or …?" with both titles and "neither": picking one shows it as an
answer (the logged question then counts as answered by it); "neither" is the no-answer
path. Mid-flow the same choice is asked, then the flow's step (`bot.routing`).

When the KB has no confident answer, the bot says so, offers the closest articles and
filing an incident, and the question is logged as unanswered for editors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.flows.engine import (
    CHOICE,
    ArticleAnswer,
    Choice,
    FlowContext,
    Prompt,
    Reply,
    match_choice,
)
from bot.i18n import Trusted
from bot.media import mark
from bot.metrics import KB_QUESTIONS
from bot.nlu import normalize, parse_yes_no
from services import das, questions
from services.errors import N_
from storage.conversations import FEEDBACK, WHICH_ARTICLE

# Ways of asking for the rest of the article, besides its choice's label.
_READ_MORE = frozenset(
    {
        "more",
        "read more",
        "tell me more",
        "more details",
        "details",
        "full article",
        "whole article",
        "the whole article",
        "the full article",
        "show the article",
        "plus",
        "la suite",
        "lire la suite",
        "en savoir plus",
        "plus de details",
        "article complet",
        "l article complet",
        "tout l article",
        "lire l article",
        "lire tout",
    }
)
# Ways of saying "neither of the two articles", besides its choice's label.
_NEITHER = frozenset(
    {
        "neither",
        "neither of them",
        "neither one",
        "none",
        "none of them",
        "none of these",
        "no",
        "nope",
        "something else",
        "aucun",
        "aucune",
        "aucun des deux",
        "aucune des deux",
        "ni l un ni l autre",
        "ni l une ni l autre",
        "non",
        "autre chose",
    }
)
KB_FLOW = "kb"
READ = "read"
ARTICLE = "article:"
NEITHER = "neither"
REPORT = "flow:file_incident"


def _article(ctx: FlowContext, slug: str, lang: str) -> Any:
    if ctx.kb is None:
        return None
    return ctx.kb.article(slug, lang) or ctx.kb.article(slug, "en" if lang == "fr" else "fr")


def _related_choices(ctx: FlowContext, article: Any) -> list[Choice]:
    choices = []
    for slug in article.related:
        related = _article(ctx, slug, ctx.texts.lang)
        if related is not None:
            choices.append(Choice(f"{ARTICLE}{slug}", related.title))
    return choices


def _feedback_choices(ctx: FlowContext) -> list[Choice]:
    return [
        Choice("yes", ctx._(N_("Yes, it helped"))),
        Choice("no", ctx._(N_("No, it did not help"))),
    ]


def article_answer(
    ctx: FlowContext,
    article: Any,
    *,
    whole: bool = False,
    follow_ups: bool = True,
    question_id: int | None = None,
) -> ArticleAnswer:
    """An article as an answer: its short answer (or all of it), with what may follow."""
    template = "kb/article.j2" if whole else "kb/answer.j2"
    text = ctx.texts.render(
        template,
        title=article.title,
        summary=Trusted(article.summary),
        body=Trusted(article.body if whole else ""),
    )
    link = None if whole or not follow_ups else Choice(READ, ctx._(N_("Read the whole article")))
    related = _related_choices(ctx, article) if follow_ups else []
    feedback = _feedback_choices(ctx) if follow_ups else []
    return ArticleAnswer(
        text,
        [*([link] if link else []), *related, *feedback],
        title=article.title,
        summary=article.summary,
        body=article.body if whole else "",
        slug=article.slug,
        lang=article.lang,
        link=link,
        related=related,
        feedback=feedback,
        question_id=question_id,
    )


def show_article(
    ctx: FlowContext, article: Any, question_id: int | None, *, whole: bool = False
) -> tuple[list[Reply], dict[str, Any]]:
    """The article's answer (or all of it) with its follow-ups; the state to keep."""
    reply = article_answer(ctx, article, whole=whole, question_id=question_id)
    choices = reply.choices
    state = {
        "slug": article.slug,
        "lang": article.lang,
        "question_id": question_id,
        "choices": [c.to_json() for c in choices],
        "awaiting": FEEDBACK,
    }
    return [reply], state


def answer(
    ctx: FlowContext, question: str, *, in_flow: bool
) -> tuple[list[Reply], dict[str, Any] | None]:
    """Answer a question from the KB; mid-flow, only the answer (the flow's question follows)."""
    if ctx.kb is None:
        return [
            Reply(
                ctx._(N_("The knowledge base is not available right now. Please try again later."))
            )
        ], None
    result = ctx.kb.ask(question, lang=ctx.texts.lang)
    best = result.article if result.answered else None
    # Both articles must still be there to be offered; with fewer, there is no choice.
    pair = [ref for ref in result.clarify if _article(ctx, ref.slug, ref.lang)][:2]
    logged = questions.record_question(
        ctx.session,
        # A code pasted into a question is a secret: the editors' log never holds it.
        question=das.mask_codes_in_text(ctx.session, question),
        lang=ctx.texts.lang,
        answered=best is not None,
        slug=best.slug if best else None,
        score=float(result.score),
        workspace_id=ctx.user.workspace_id,
        user_id=ctx.user.user_id,
        now=ctx.now,
    )
    article = _article(ctx, best.slug, best.lang) if best else None
    outcome = "answered" if article else "clarified" if len(pair) == 2 else "unanswered"
    KB_QUESTIONS.labels(outcome).inc()
    if article is not None:
        if in_flow:
            return [article_answer(ctx, article, follow_ups=False)], None
        return show_article(ctx, article, logged.id)
    if not best and len(pair) == 2:
        return which_of(ctx, pair, logged.id)
    alternatives = [Choice(f"{ARTICLE}{ref.slug}", ref.title) for ref in result.alternatives]
    return no_answer(ctx, alternatives, logged.id, in_flow=in_flow)


def no_answer(
    ctx: FlowContext, alternatives: list[Choice], question_id: int | None, *, in_flow: bool
) -> tuple[list[Reply], dict[str, Any] | None]:
    """No answer: said so, with the closest articles and an incident (not mid-flow)."""
    text = ctx.texts.render("kb/no_answer.j2", alternatives=bool(alternatives), in_flow=in_flow)
    if in_flow:
        return [Reply(text)], None
    choices = [*alternatives, Choice(REPORT, ctx._(N_("Report an incident")))]
    state = {
        "choices": [c.to_json() for c in choices],
        "question_id": question_id,
        "awaiting": None,
    }
    return [Reply(text, choices)], state


def _in_sentence(title: str) -> str:
    """A title quoted inside "Do you mean … or …?": its own question mark would double it."""
    return title.rstrip(" \u00a0\u202f?？")


def which_of(
    ctx: FlowContext, pair: list[Any], question_id: int | None
) -> tuple[list[Reply], dict[str, Any]]:
    """ "Do you mean A or B?": a choice between the two articles, or neither; the state
    the pick is read against (the same in and out of a flow)."""
    first, second = (mark(_in_sentence(ref.title)) for ref in pair)
    text = ctx._(N_("Do you mean “{first}” or “{second}”?")).format(first=first, second=second)
    choices = [
        *(Choice(f"{ARTICLE}{ref.slug}", ref.title) for ref in pair),
        Choice(NEITHER, ctx._(N_("Neither of them"))),
    ]
    prompt = Prompt(text, choices, action_slot=WHICH_ARTICLE, slot=WHICH_ARTICLE, kind=CHOICE)
    state = {
        "choices": [c.to_json() for c in choices],
        "question_id": question_id,
        "awaiting": WHICH_ARTICLE,
    }
    return [prompt], state


def pick(
    ctx: FlowContext, state: dict[str, Any], text: str, *, in_flow: bool
) -> tuple[list[Reply], dict[str, Any] | None] | None:
    """The user's answer to "Do you mean A or B?" (typed, by number or title, or a
    button's value): the article picked, shown as an answer (mid-flow: the answer
    alone), and its question counted as answered by it; "neither": the no-answer path.
    None when the message is not an answer to it (a new request)."""
    choices = [Choice(c["value"], c["label"]) for c in state.get("choices", [])]
    chosen = match_choice(text, choices, loose=False)
    if chosen is None and normalize(text).replace("?", "").strip() in _NEITHER:
        chosen = next((c for c in choices if c.value == NEITHER), None)
    if chosen is None:
        return None
    question_id = state.get("question_id")
    if chosen.value.startswith(ARTICLE):
        slug = chosen.value[len(ARTICLE) :]
        article = _article(ctx, slug, ctx.texts.lang)
        if article is not None:
            if question_id is not None:
                questions.record_pick(ctx.session, question_id, slug=slug)
            if in_flow:
                return [article_answer(ctx, article, follow_ups=False)], None
            return show_article(ctx, article, question_id)
    # Neither (or an article gone since it was offered): the question stays unanswered.
    # The two were the closest articles the KB had; offering them again would be deaf.
    return no_answer(ctx, [], question_id, in_flow=in_flow)


def vote_replies(_: Callable[[str], str], helpful: bool) -> list[Reply]:
    """What the bot says to a vote on an answer (typed, or a click on its buttons)."""
    if helpful:
        return [Reply(_(N_("Thank you for your feedback!")))]
    sorry = _(
        N_(
            "Thank you for telling me. Try asking in other words, or report an incident "
            "and the support team will help you."
        )
    )
    return [Reply(sorry, [Choice(REPORT, _(N_("Report an incident")))])]


_HELPED = frozenset(
    {
        "it helped",
        "helpful",
        "very helpful",
        "useful",
        "thanks it helped",
        "utile",
        "tres utile",
        "ca m a aide",
        "cela m a aide",
        "ca aide",
        "merci ca m a aide",
    }
)
_NOT_HELPED = frozenset(
    {
        "not helpful",
        "unhelpful",
        "useless",
        "it did not help",
        "it didn t help",
        "not useful",
        "pas utile",
        "inutile",
        "ca ne m a pas aide",
        "cela ne m a pas aide",
        "ca n aide pas",
    }
)


def _vote(text: str) -> bool | None:
    """Yes or no to "was this helpful?", in the words people use for it."""
    said = normalize(text).replace("?", "").strip()
    if said in _NOT_HELPED:
        return False
    if said in _HELPED:
        return True
    return parse_yes_no(text)


def follow_up(
    ctx: FlowContext, state: dict[str, Any], text: str
) -> tuple[list[Reply], dict[str, Any] | None] | str | None:
    """The user's answer to an answer's follow-ups: replies and the state to keep; or the
    command of a chosen choice ("flow:file_incident"); or None
    when the message is about something else."""
    if state.get("awaiting") == WHICH_ARTICLE:
        return pick(ctx, state, text, in_flow=False)
    choices = [Choice(c["value"], c["label"]) for c in state.get("choices", [])]
    # Not loose: after an answer, "activate a service" is a new request, not the related
    # article whose title happens to hold those words.
    chosen = match_choice(text, choices, loose=False)
    if chosen is None and normalize(text) in _READ_MORE:
        chosen = next((c for c in choices if c.value == READ), None)
    awaiting = state.get("awaiting") == FEEDBACK
    vote = _vote(text) if awaiting and chosen is None else None
    if chosen is not None and chosen.value in ("yes", "no"):
        vote = chosen.value == "yes"
    if vote is not None:
        questions.record_feedback(
            ctx.session,
            slug=state["slug"],
            lang=state["lang"],
            helpful=vote,
            question_id=state.get("question_id"),
            workspace_id=ctx.user.workspace_id,
            user_id=ctx.user.user_id,
            now=ctx.now,
        )
        return vote_replies(ctx._, vote), None
    if chosen is None:
        return None
    if chosen.value == READ and "slug" in state:
        article = _article(ctx, state["slug"], state["lang"])
        if article is not None:
            return show_article(ctx, article, state.get("question_id"), whole=True)
    if chosen.value.startswith(ARTICLE):
        article = _article(ctx, chosen.value[len(ARTICLE) :], ctx.texts.lang)
        if article is not None:
            return show_article(ctx, article, state.get("question_id"))
    return chosen.value  # "flow:file_incident" and the like: a command
