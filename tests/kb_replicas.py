"""Several bot processes' knowledge bases on one machine in a test: each with its own
index directory (as replicas have), built from a copy of the small fixture KB. The
embedding cache of a first build is copied into each, as a replica that already served
the previous version would have it: a (re)build then embeds only what changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kb.knowledge import KnowledgeBase
from kb.semantic import CACHE_DIR

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"

_warm: Path | None = None

PASSWORD_EN = """---
slug: portal-password
lang: en
title: How do I reset my support portal password?
questions:
  - I forgot my portal password
  - Where can I change the password of my portal account?
tags: [password, login, portal]
related: []
---
On the portal's sign-in page, choose "Forgot password?" and follow the link sent to your e-mail.
"""

PASSWORD_FR = """---
slug: portal-password
lang: fr
title: Comment réinitialiser le mot de passe du portail de support ?
questions:
  - J'ai oublié mon mot de passe du portail
  - Où changer le mot de passe de mon compte du portail ?
tags: [mot de passe, connexion, portail]
related: []
---
Sur la page de connexion du portail, choisissez « Mot de passe oublié ? » et suivez le lien reçu par e-mail.
"""


def warm_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An embedding cache holding the fixture KB and the password article (built once)."""
    global _warm
    if _warm is None:
        articles = tmp_path_factory.mktemp("warm-articles")
        shutil.copytree(FIXTURE_KB, articles, dirs_exist_ok=True)
        add_password_article(articles)
        index = tmp_path_factory.mktemp("warm-index")
        KnowledgeBase.open(articles, index).close()
        _warm = index / CACHE_DIR
    return _warm


def copy_articles(target: Path) -> Path:
    shutil.copytree(FIXTURE_KB, target)
    return target


def add_password_article(articles: Path) -> None:
    (articles / "portal-password.en.md").write_text(PASSWORD_EN, encoding="utf-8")
    (articles / "portal-password.fr.md").write_text(PASSWORD_FR, encoding="utf-8")


def replica_kb(articles: Path, index_dir: Path, warm: Path) -> KnowledgeBase:
    shutil.copytree(warm, index_dir / CACHE_DIR)
    return KnowledgeBase.open(articles, index_dir)
