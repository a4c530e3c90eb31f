"""A small support-domain thesaurus: words customers use for what the articles call otherwise.

Customers say "ticket" or "case" where an article says "incident", "included" where it
says "comes with", "compris" for "inclus". Each group lists words of one language that
mean the same thing in a support conversation; a question word matches the terms of its
whole group. Keep groups tight (true synonyms in this domain, no topic words such as
"price"), since every extra word is a chance to match the wrong article. Editors add
phrasings to an article's `questions:` first; this list is for vocabulary shared by many
articles.
"""

from __future__ import annotations

from functools import lru_cache

from kb.analysis import analyse

GROUPS: dict[str, tuple[tuple[str, ...], ...]] = {
    "en": (
        ("incident", "ticket", "case", "issue"),
        ("submit", "open", "file", "raise", "log"),
        ("respond", "response", "answer", "reply"),
        ("quickly", "fast", "quick", "soon"),
        ("include", "included", "includes", "comes"),
        ("phone", "telephone", "call"),
        ("cancel", "terminate", "unsubscribe"),
        ("refund", "reimburse", "reimbursed"),
        ("fix", "resolve", "solve", "resolution"),
        ("start", "begin", "starts"),
        ("free", "gratis"),
        ("holiday", "holidays"),
        ("hours", "schedule"),
    ),
    "fr": (
        ("incident", "ticket", "dossier", "cas", "demande", "requête"),
        ("soumettre", "ouvrir", "déclarer", "signaler", "déposer"),
        ("réponse", "répondre"),
        ("inclus", "compris", "inclut", "comprend"),
        ("téléphone", "appeler", "appel"),
        ("résilier", "annuler", "désabonner", "résiliation"),
        ("rembourser", "remboursement", "remboursé"),
        ("résoudre", "régler", "réparer", "résolution"),
        ("commencer", "démarrer", "début"),
        ("gratuit", "gratuitement", "offert"),
        ("férié", "fériés", "congé", "congés"),
        ("horaires", "heures"),
    ),
}


@lru_cache(maxsize=2)
def _by_term(lang: str) -> dict[str, tuple[str, ...]]:
    """Index term → every index term of its group (built through the same analysis)."""
    table: dict[str, set[str]] = {}
    for group in GROUPS[lang]:
        terms: set[str] = set()
        for word in group:
            for analysed in analyse(word, lang):
                terms.update(analysed.terms)
        for term in terms:
            table.setdefault(term, set()).update(terms)
    return {term: tuple(sorted(group)) for term, group in table.items()}


def expand(terms: tuple[str, ...], lang: str) -> tuple[str, ...]:
    """The terms plus those of their synonyms, originals first."""
    table = _by_term(lang)
    extra = [t for term in terms for t in table.get(term, ()) if t not in terms]
    return terms + tuple(dict.fromkeys(extra))
