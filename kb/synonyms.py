"""A small support-domain thesaurus: words customers use for what the articles call otherwise.

Customers say "ticket" or "case" where an article says "incident", "included" where it
says "comes with", "compris" for "inclus". Each group lists words of one language that
mean the same thing in a support conversation; a question word matches the terms of its
whole group. Keep groups tight (true synonyms in this domain, no topic words such as
"price"), since every extra word is a chance to match the wrong article. Editors add
phrasings to an article's `questions:` first; this list is for vocabulary shared by many
articles.

A word that is common on its own is no synonym: French "heures" is in every "24 heures"
of a response time, so grouping it with "horaires" made "horaires du support" match the
response-time articles as well as the support-hours one.
"""

from __future__ import annotations

GROUPS: dict[str, tuple[tuple[str, ...], ...]] = {
    "en": (
        ("incident", "ticket", "case", "issue"),
        ("submit", "open", "file", "raise"),  # not "log": "log in" is a login problem
        ("respond", "response", "answer", "reply"),
        ("quickly", "fast", "quick", "soon"),
        ("include", "included", "includes", "comes"),
        ("phone", "telephone", "call"),
        ("cancel", "terminate", "unsubscribe"),
        ("refund", "reimburse", "reimbursed"),
        ("fix", "resolve", "solve", "resolution"),
        ("start", "begin", "starts"),
        ("enter", "put", "input"),  # a code, an address, a serial number
        ("free", "gratis"),
        ("holiday", "holidays"),
        ("information", "info", "infos", "details"),
        ("hours", "schedule"),
        ("prerequisites", "prerequisite", "prereqs", "prereq"),  # shortened as typed
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
        ("informations", "information", "infos", "info", "coordonnées"),
        # shortened as customers type them
        ("abonnement", "abonnements", "abo", "abos"),
        ("prérequis", "prérequi"),
        # the articles say "switch", as most customers do; the formal word is the same
        ("switch", "commutateur", "commutateurs"),
    ),
}
