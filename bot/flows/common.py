"""Slots several flows share: the account (onboarding) and the site address.

Onboarding: a user with no linked account is asked only what is missing (e-mail when the
profile has none, name when the profile has none, company, country); the account is
created by the flow's own confirm action, in the same transaction as the rest. A user whose
profile e-mail matches an existing account is linked before any flow starts
(`bot.conversation`), so these slots are not needed then.

Site: one choice per site of the account, plus "create a new site address" (then street,
postal code, city and country are asked) and, where a site is optional, "no site".
"""

from __future__ import annotations

import difflib
import re
from functools import cache

from babel import Locale

from bot.flows.engine import CHOICE, FREE, Choice, Field, FlowContext, Invalid, Slot
from bot.nlu import normalize
from bot.understanding.reading import GREETING_START
from bot.understanding.values import ModelMention, extract
from services import accounts, catalog, sites
from services.errors import N_, InvalidEmail
from storage.models import Account, SiteAddress

NEW_SITE = "new"
NO_SITE = "none"
# A site's choice value: not its bare id, which a customer typing the number they see in
# the list ("2") would otherwise pick instead of the second choice.
SITE_VALUE = "site:"
_NONE_WORDS = frozenset(
    {
        "none",
        "no",
        "non",
        "aucune",
        "aucun",
        "rien",
        "n a",
        "na",
        "-",
        "personal",
        "personnel",
        "particulier",
        "individual",
    }
)
# Said instead of a company: "I don't have a company", "je suis un particulier". A single
# word ("none", "particulier") is in _NONE_WORDS: inside a name ("Personal Networks Ltd",
# "Aucune Limite SAS") it is the company's own.
_NO_COMPANY = re.compile(
    r"\b(?:i don t have|i do not have|i have no|no company|not a company|just me|myself"
    r"|i m a private|private (?:customer|individual|person)|pas de soci[eé]t[eé]"
    r"|pas d entreprise|je n ai pas|je suis (?:un )?particulier|juste moi|a titre personnel"
    r"|a titre prive)\b"
)
# The words people put before their name or their company's: not part of it.
_NAME_LEAD = re.compile(
    r"^\s*(?:my name is|my name['’]s|my full name is|name\s*:|i am|i['’]m|this is"
    r"|it['’]s|je m['’ ]?appelle|je suis|moi c['’ ]?est|mon nom est|mon nom c['’ ]?est"
    r"|c['’ ]?est|nom\s*:)?(?!\w)\s*",
    re.IGNORECASE,
)
_COMPANY_LEAD = re.compile(
    r"^\s*(?:my company is|the company is|our company is|company\s*:|i work (?:for|at)"
    r"|we are|it['’]s|ma soci[eé]t[eé] (?:c['’ ]?est|est)|mon entreprise (?:c['’ ]?est|est)"
    r"|soci[eé]t[eé]\s*:|entreprise\s*:|je travaille (?:chez|pour)|nous sommes|c['’ ]?est)"
    r"(?!\w)\s*",
    re.IGNORECASE,
)


def model_named(ctx: FlowContext, text: str) -> ModelMention | None:
    """The catalogue model `text` names, typed as people do ("dgs3630", "DGS 3630"), read
    as in a message."""
    models = [model.model for model in catalog.list_models(ctx.session)]
    return extract(text, today=ctx.today, catalogue_models=models)[0].model


def needs_account(ctx: FlowContext) -> bool:
    return ctx.account is None


def _profile_email_usable(ctx: FlowContext) -> bool:
    if not ctx.user.email:
        return False
    try:
        accounts.validate_email(ctx.user.email)
    except InvalidEmail:
        return False
    return True


# --- account ---------------------------------------------------------------------------


def validate_email(ctx: FlowContext, value: str) -> str:
    email = accounts.validate_email(value)
    if accounts.find_account(ctx.session, email, workspace=ctx.user.tenant) is not None:
        # Typing an address proves nothing: linking it here would hand over the account.
        raise Invalid(
            N_(
                "An account already uses {email}. For your security I cannot link it from here: "
                "write to me from the chat account that uses this address, or give another address."
            ),
            email=email,
        )
    return email


def _column_limit(model: type, column: str) -> int:
    """The stored length of a text column: an answer is refused at its own step when it is
    longer, instead of failing the confirm step after every other answer was given."""
    return int(model.__table__.c[column].type.length)  # type: ignore[attr-defined]


def _limited(value: str, limit: int) -> str:
    if len(value) > limit:
        raise Invalid(N_("That is too long: at most {limit} characters."), limit=limit)
    return value


def validate_name(ctx: FlowContext, value: str) -> str:
    name = _NAME_LEAD.sub("", GREETING_START.sub("", value)).strip(" .!")
    if not name or any(ch.isdigit() for ch in name):
        # A serial or a code pasted at the wrong step is nobody's name.
        raise Invalid(N_("That does not look like a name: please type your first and last name."))
    return _limited(name, _column_limit(Account, "name"))


def validate_company(ctx: FlowContext, value: str) -> str:
    said = normalize(value)
    if said in _NONE_WORDS or (len(said.split()) <= 8 and _NO_COMPANY.search(said)):
        return ""
    company = _COMPANY_LEAD.sub("", value).strip(" .!")
    return _limited(company or value, _column_limit(Account, "company"))


@cache
def _country_names() -> dict[str, str]:
    """Country names in French and English, normalised → ISO code ("etats unis" → "US")."""
    names: dict[str, str] = {}
    for lang in ("en", "fr"):
        for code, name in Locale.parse(lang).territories.items():
            if len(code) == 2 and code.isalpha():
                names[normalize(name)] = code
    names.update({"usa": "US", "us": "US", "uk": "GB", "england": "GB", "angleterre": "GB"})
    return names


# A country said in a sentence: "I'm in France", "je suis en Belgique", "based in Canada".
_COUNTRY_LEAD = re.compile(
    r"^(?:(?:i m|i am|we are|we re|i live|we live|based|located|je suis|nous sommes|j habite"
    r"|on est|nous habitons|je vis|c est)\s+)?(?:in|from|en|au|aux|a|the|la|le|les)\s+"
)


def parse_country(value: str) -> str:
    names = _country_names()
    key = normalize(value)
    if key not in names:
        key = _COUNTRY_LEAD.sub("", key).strip() or key
    if key in names:
        return names[key]
    if len(key) == 2 and key.upper() in set(names.values()):
        return key.upper()
    # A typo ("Frnace", "Germny"): the confirm step shows the country, so a guess is checked.
    close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.8) if len(key) >= 4 else []
    if close:
        return names[close[0]]
    raise Invalid(
        N_(
            "I do not know the country “{country}”. Give its name or its two-letter code, e.g. FR, US or CA."
        ),
        country=value,
    )


def validate_country(ctx: FlowContext, value: str) -> str:
    return parse_country(value)


def validate_site_country(ctx: FlowContext, value: str) -> str:
    return parse_country(value)


def validate_street(ctx: FlowContext, value: str) -> str:
    return _limited(value, _column_limit(SiteAddress, "street"))


def validate_postal_code(ctx: FlowContext, value: str) -> str:
    return sites.validate_postal_code(value)


def validate_city(ctx: FlowContext, value: str) -> str:
    return _limited(value, _column_limit(SiteAddress, "city"))


def country_name(ctx: FlowContext, code: str | None) -> str:
    if not code:
        return ""
    return ctx.texts.locale.territories.get(code, code)


def ensure_account(ctx: FlowContext) -> Account:
    """The user's account, created from the onboarding answers when there is none yet."""
    if ctx.account is not None:
        return ctx.account
    account = accounts.create_account(
        ctx.session,
        email=ctx.values.get("email") or ctx.user.email or "",
        name=ctx.values.get("name") or ctx.user.name or "",
        company=ctx.values.get("company") or None,
        country=ctx.values.get("country") or None,
        now=ctx.now,
        workspace=ctx.user.tenant,
    )
    accounts.link_slack_user(
        ctx.session, ctx.user.workspace_id, ctx.user.user_id, account, now=ctx.now
    )
    ctx.account = account
    return account


def account_fields(ctx: FlowContext) -> list[Field]:
    """What the confirm step shows of an account about to be created (nothing when the
    user has one)."""
    if ctx.account is not None:
        return []
    email = ctx.values.get("email") or ctx.user.email or ""
    name = ctx.values.get("name") or ctx.user.name or ""
    details = [
        f"{name} ({email})",
        ctx.values.get("company") or "",
        country_name(ctx, ctx.values.get("country")),
    ]
    return [Field(ctx._(N_("New support account:")), ", ".join(d for d in details if d))]


# --- site ------------------------------------------------------------------------------


def site_label(ctx: FlowContext, site: SiteAddress) -> str:
    return f"{site.street}, {site.postal_code} {site.city}, {country_name(ctx, site.country)}"


def site_choices(ctx: FlowContext, *, optional: bool) -> list[Choice]:
    existing = sites.list_sites(ctx.session, ctx.account) if ctx.account is not None else []
    choices = [Choice(f"{SITE_VALUE}{site.id}", site_label(ctx, site)) for site in existing]
    choices.append(Choice(NEW_SITE, ctx._(N_("Create a new site address"))))
    if optional:
        choices.append(Choice(NO_SITE, ctx._(N_("No site for now"))))
    return choices


_NEW_SITE_WORDS = frozenset(
    {
        "new",
        "new site",
        "new address",
        "nouveau",
        "nouvelle",
        "nouveau site",
        "nouvelle adresse",
        "creer",
        "create",
    }
)
_NO_SITE_WORDS = _NONE_WORDS | {
    "skip",
    "passer",
    "pas de site",
    "no site",
    "later",
    "plus tard",
    "aucun site",
}


def validate_site_value(ctx: FlowContext, value: str, *, optional: bool) -> str:
    words = normalize(value)
    if value == NEW_SITE or words in _NEW_SITE_WORDS:
        return NEW_SITE
    if optional and (value == NO_SITE or words in _NO_SITE_WORDS):
        return NO_SITE
    site_id = value.removeprefix(SITE_VALUE)
    if site_id.isdigit() and ctx.account is not None:
        sites.get_site(ctx.session, ctx.account, int(site_id))
        return site_id
    raise Invalid(N_("Please pick one of your sites, or create a new site address."))


def site_field(ctx: FlowContext) -> Field:
    """The chosen or new site, as the confirm step shows it (an empty value when none)."""
    choice = ctx.values.get("site")
    value = ""
    if choice == NEW_SITE:
        country = country_name(ctx, ctx.values.get("site_country"))
        value = (
            f"{ctx.values['street']}, {ctx.values['postal_code']} {ctx.values['city']}, {country}"
        )
    elif choice and choice != NO_SITE and ctx.account is not None:
        value = site_label(ctx, sites.get_site(ctx.session, ctx.account, int(choice)))
    return Field(ctx._(N_("Site:")), value)


def resolve_site(ctx: FlowContext, account: Account) -> int | None:
    """The site id to use at confirm time, creating the new site address if one was asked."""
    choice = ctx.values.get("site")
    if choice == NEW_SITE:
        site = sites.add_site(
            ctx.session,
            account,
            street=ctx.values["street"],
            postal_code=ctx.values["postal_code"],
            city=ctx.values["city"],
            country=ctx.values["site_country"],
            now=ctx.now,
        )
        return site.id
    if choice and choice != NO_SITE:
        return int(choice)
    return None


def prompt_site_country(ctx: FlowContext) -> dict[str, str]:
    return {"suggestion": country_name(ctx, _known_country(ctx))}


def _known_country(ctx: FlowContext) -> str | None:
    return ctx.values.get("country") or (ctx.account.country if ctx.account else None)


# --- the slots ---------------------------------------------------------------------------


def account_slots() -> tuple[Slot, ...]:
    """What onboarding asks a user with no account (only what the profile lacks)."""
    return (
        Slot(
            "email",
            label=N_("E-mail"),
            needed=lambda ctx: needs_account(ctx) and not _profile_email_usable(ctx),
            validate=validate_email,
            answer=FREE,
        ),
        Slot(
            "name",
            label=N_("Full name"),
            needed=lambda ctx: needs_account(ctx) and not (ctx.user.name or "").strip(),
            validate=validate_name,
            answer=FREE,
        ),
        Slot(
            "company",
            label=N_("Company"),
            needed=needs_account,
            validate=validate_company,
            answer=FREE,
            optional=True,
        ),
        Slot(
            "country",
            label=N_("Country"),
            needed=needs_account,
            validate=validate_country,
        ),
    )


def site_slots(*, optional: bool) -> tuple[Slot, ...]:
    """The site where the product is installed: one of the account's, or a new one."""
    new_site = ("site", NEW_SITE)
    return (
        Slot(
            "site",
            CHOICE,
            label=N_("Site"),
            choices=lambda ctx: site_choices(ctx, optional=optional),
            validate=lambda ctx, value: validate_site_value(ctx, value, optional=optional),
        ),
        Slot(
            "street",
            label=N_("Street address"),
            shown_when=new_site,
            validate=validate_street,
            answer=FREE,
        ),
        Slot(
            "postal_code",
            label=N_("Postal code"),
            shown_when=new_site,
            validate=validate_postal_code,
            answer=FREE,
        ),
        Slot("city", label=N_("City"), shown_when=new_site, validate=validate_city, answer=FREE),
        Slot(
            "country",
            key="site_country",
            label=N_("Country of the site"),
            shown_when=new_site,
            validate=validate_site_country,
            prompt=prompt_site_country,
            initial=lambda ctx: _known_country(ctx),
        ),
    )
