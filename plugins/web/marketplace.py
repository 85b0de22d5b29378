"""The marketplace pages under /marketplace/: the catalogue, a plugin's page, installing it, and the
tenant's review of it.

Everyone of a tenant browses (VIEWER); installing and reviewing need CLIENT_ADMIN, as in the API.
Reads come from the plugins selectors, writes from the same services as the REST API; a service's
field errors are shown under the form's fields. The catalogue's grid has its own partial for htmx
(filters change it in place, the address keeps the query string) and costs the same few queries
however many plugins a page shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from rest_framework.exceptions import ValidationError

from accounts.models import Role
from accounts.services.audit import RequestContext
from accounts.web.pages import PageRequest, not_found, page
from core.exceptions import ApplicationError, Forbidden
from core.web import is_htmx
from plugins.models import Plugin, PluginInstallation, PluginReview, PluginVersion
from plugins.selectors import (
    catalogue,
    icon_url,
    newest_published,
    permission_words,
    published_plugin,
    published_versions,
    rating_histogram,
    reviewer_name,
    visible_reviews,
)
from plugins.services.installations import plugin_install
from plugins.services.reviews import review_create, review_delete, review_update
from plugins.web.forms import CatalogueFilterForm, PluginConfigForm, ReviewForm
from plugins.web.markdown import markdown_html
from plugins.web.views import version_screenshots

PER_PAGE = 24
MAX_PAGE = 10_000
REVIEWS_SHOWN = 20
FILTERS = ("q", "category", "verified", "free")
FILTER_LABELS = {
    "q": "Search",
    "category": "Category",
    "verified": "Verified",
    "free": "Free",
    "sort": "Sort",
    "page": "Page",
}


# --- what the pages show of a plugin ----------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    """One plugin of the grid."""

    plugin: Plugin
    icon_url: str | None
    stars: int  # the average rounded to whole stars
    installed: bool


def stars(plugin: Plugin) -> int:
    return int(float(plugin.rating_average) + 0.5) if plugin.review_count else 0


def permission_rows(permissions: list[str]) -> list[tuple[str, str]]:
    return [(permission, permission_words(permission)) for permission in permissions]


def published_or_404(request: PageRequest, plugin_id: str) -> tuple[Plugin, PluginVersion]:
    """The published plugin and its newest published version (without the package bytes)."""
    plugin = published_plugin(plugin_id)
    version = newest_published(plugin) if plugin is not None else None
    if plugin is None or version is None:
        not_found(request, "No such plugin.")
    return plugin, version


def messages_of(problems: Any) -> list[Any]:
    """A service's or a filter's complaint about one field, as a list of messages."""
    return list(problems) if isinstance(problems, list | tuple) else [problems]


# --- the catalogue ----------------------------------------------------------------------------------


def _page_number(query: QueryDict) -> int:
    raw = query.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE:
        raise ValidationError({"page": [f"A whole number from 1 to {MAX_PAGE}."]})
    return int(raw)


def _query_without(query: QueryDict, *names: str) -> str:
    kept = query.copy()
    for name in names:
        kept.pop(name, None)
    return kept.urlencode()


def _catalogue_context(request: PageRequest) -> tuple[dict[str, Any], int]:
    query = request.GET
    filtered = any(query.get(name) for name in FILTERS)
    context: dict[str, Any] = {"area": "browse", "filtered": filtered, "base_query": _query_without(query, "page")}
    try:
        number = _page_number(query)
        rows = list(catalogue(filters=query)[(number - 1) * PER_PAGE : number * PER_PAGE + 1])
    except ValidationError as error:  # what the catalogue's filters refused: a 400 that names it
        details = error.detail
        context["invalid"] = [
            f"{FILTER_LABELS.get(str(name), str(name))}: {' '.join(str(m) for m in messages_of(problems))}"
            for name, problems in (details.items() if isinstance(details, dict) else [("filters", details)])
        ]
        return context, 400
    shown = rows[:PER_PAGE]
    installed = set(
        PluginInstallation.objects.filter(account=request.account, plugin__in=shown)
        .order_by()
        .values_list("plugin_id", flat=True)
    )
    context["cards"] = [
        Card(plugin=plugin, icon_url=icon_url(plugin), stars=stars(plugin), installed=plugin.pk in installed)
        for plugin in shown
    ]
    context["page_number"] = number
    if len(rows) > PER_PAGE:
        next_query = query.copy()
        next_query["page"] = str(number + 1)
        context["more_query"] = next_query.urlencode()
    if not shown and number == 1 and not filtered:
        context["nothing_published"] = not Plugin.objects.filter(is_published=True).exists()
    return context, 200


@page()
def marketplace(request: PageRequest) -> HttpResponse:
    """The catalogue: the whole page, or for htmx the grid (page 1) or the next cards ("More")."""
    context, status = _catalogue_context(request)
    if is_htmx(request):
        more = status == 200 and context["page_number"] > 1
        template = "plugins/partials/cards.html" if more else "plugins/partials/grid.html"
        return render(request, template, context, status=status)
    context["filters"] = CatalogueFilterForm(request.GET)
    return render(request, "plugins/index.html", context, status=status)


# --- a plugin's page --------------------------------------------------------------------------------


def _own_review(request: PageRequest, plugin: Plugin) -> PluginReview | None:
    return PluginReview.objects.filter(account=request.account, plugin=plugin).first()


def _reviews_context(
    request: PageRequest,
    plugin: Plugin,
    installation: PluginInstallation | None,
    form: ReviewForm | None = None,
    *,
    refresh: bool = False,
) -> dict[str, Any]:
    if refresh:  # the review services recompute the figures with an UPDATE
        plugin.refresh_from_db(fields=["rating_average", "review_count"])
    own = _own_review(request, plugin)
    histogram = rating_histogram(plugin)
    total = sum(histogram.values())
    if form is None and installation is not None and request.principal.has_role(Role.CLIENT_ADMIN):
        form = ReviewForm(initial={"rating": own.rating, "text": own.text} if own else None)
    return {
        "plugin": plugin,
        "stars": stars(plugin),
        "histogram": [{"stars": n, "count": count} for n, count in histogram.items()],
        "histogram_total": total,
        "reviews": [
            {"review": review, "author": reviewer_name(review), "is_yours": review.account_id == request.account.pk}
            for review in visible_reviews(plugin)[:REVIEWS_SHOWN]
        ],
        "own_review": own,
        "review_form": form,
        "can_review": installation is not None and request.principal.has_role(Role.CLIENT_ADMIN),
    }


def _detail_context(request: PageRequest, plugin: Plugin, version: PluginVersion, **extra: Any) -> dict[str, Any]:
    installation = PluginInstallation.objects.filter(account=request.account, plugin=plugin).first()
    versions = published_versions(plugin)
    context = {
        "area": "browse",
        "plugin": plugin,
        "version": version,
        "icon_url": icon_url(plugin),
        "homepage": plugin.homepage if plugin.homepage.lower().startswith(("https://", "http://")) else "",
        "description": markdown_html(plugin.description),
        "screenshots": [
            reverse("marketplace:file", kwargs={"plugin_id": plugin.plugin_id, "path": path})
            for path in version_screenshots(version)
        ],
        "permissions": permission_rows(version.permissions),
        "versions": [{"version": v, "changelog": markdown_html(v.changelog)} for v in versions],
        "installation": installation,
    }
    context.update(_reviews_context(request, plugin, installation, extra.pop("review_form", None)))
    context.update(extra)
    return context


@page()
def plugin_detail(request: PageRequest, plugin_id: str) -> HttpResponse:
    plugin, version = published_or_404(request, plugin_id)
    return render(request, "plugins/detail.html", _detail_context(request, plugin, version))


# --- installing -------------------------------------------------------------------------------------


def show_config_error(form: PluginConfigForm, error: ApplicationError) -> int:
    """Put a service's complaint on the form: schema errors under their fields (`config.threshold`),
    anything else above the form. Answers the status to reply with."""
    details = error.details if isinstance(error.details, dict) else {}
    config_errors = {key: value for key, value in details.items() if str(key).split(".")[0] == "config"}
    if error.code == "validation_error" and config_errors:
        form.add_schema_errors(config_errors)
        for key, value in details.items():
            if key not in config_errors:
                for message in messages_of(value):
                    form.add_error(None, str(message))
    else:
        form.add_error(None, str(error.message))
    return error.status_code


def installation_url(plugin: Plugin) -> str:
    return reverse("marketplace:installation", kwargs={"plugin_id": plugin.plugin_id})


@page(role=Role.CLIENT_ADMIN)
def plugin_install_form(request: PageRequest, plugin_id: str) -> HttpResponse:
    """GET: the permissions the newest version asks for and its configuration form; POST: install it."""
    plugin, version = published_or_404(request, plugin_id)
    if PluginInstallation.objects.filter(account=request.account, plugin=plugin).exists():
        messages.info(request, f"{plugin.name} is already installed: here are its settings.")
        return redirect(installation_url(plugin))
    schema = version.manifest.get("config_schema") or {}
    context: dict[str, Any] = {
        "area": "browse",
        "plugin": plugin,
        "version": version,
        "icon_url": icon_url(plugin),
        "permissions": permission_rows(version.permissions),
    }
    if request.method != "POST":
        context["form"] = PluginConfigForm(schema=schema)
        return render(request, "plugins/install.html", context)

    form = PluginConfigForm(request.POST, schema=schema)
    context["form"] = form
    if request.POST.get("version") != version.version:
        # A new version was published while the form was open: its permissions were not shown.
        form.add_error(
            None, f"Version {version.version} was published meanwhile. Check what it may do, then install again."
        )
        return render(request, "plugins/install.html", context, status=409)
    if not plugin.is_enabled:
        form.add_error(None, "SkyBot staff switched this plugin off; it cannot be installed now.")
        return render(request, "plugins/install.html", context, status=409)
    if not form.is_valid():
        return render(request, "plugins/install.html", context, status=400)
    try:
        plugin_install(
            account=request.account,
            plugin_id=plugin.plugin_id,
            config=form.config(),
            actor=request.principal,
            context=RequestContext.from_request(request),
        )
    except ApplicationError as error:
        status = show_config_error(form, error)
        return render(request, "plugins/install.html", context, status=status)
    messages.success(request, f"{plugin.name} {version.version} installed. Create an agent from it to put it to work.")
    return redirect(installation_url(plugin))


# --- the tenant's review ----------------------------------------------------------------------------


def _installation_for_review(request: PageRequest, plugin: Plugin) -> PluginInstallation:
    """The tenant's installation of the plugin: only a tenant that runs it may review it (403)."""
    installation = PluginInstallation.objects.filter(account=request.account, plugin=plugin).first()
    if installation is None:
        raise Forbidden("Only a team that has installed this plugin can review it.", code="not_installed")
    return installation


def _reviews_answer(
    request: PageRequest,
    plugin: Plugin,
    version: PluginVersion,
    installation: PluginInstallation,
    *,
    form: ReviewForm | None = None,
    status: int = 200,
    done: str = "",
) -> HttpResponse:
    """The reviews section again (htmx), or back to the plugin's page; a refused form is shown with
    what was typed and its errors."""
    if is_htmx(request):
        context = _reviews_context(request, plugin, installation, form, refresh=True)
        context["notice"] = done
        return render(request, "plugins/partials/reviews.html", context, status=status)
    if status == 200:
        messages.success(request, done)
        return redirect(reverse("marketplace:detail", kwargs={"plugin_id": plugin.plugin_id}) + "#reviews")
    context = _detail_context(request, plugin, version, review_form=form)
    return render(request, "plugins/detail.html", context, status=status)


@page(role=Role.CLIENT_ADMIN)
def review_save(request: PageRequest, plugin_id: str) -> HttpResponse:
    """POST: write the team's review of the plugin, or change it."""
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    plugin, version = published_or_404(request, plugin_id)
    installation = _installation_for_review(request, plugin)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _reviews_answer(request, plugin, version, installation, form=form, status=400)
    own = _own_review(request, plugin)
    fields = {"rating": form.cleaned_data["rating"], "text": form.cleaned_data["text"]}
    audit_context = RequestContext.from_request(request)
    try:
        if own is None:
            review_create(
                account=request.account, plugin=plugin, actor=request.principal, context=audit_context, **fields
            )
        else:
            review_update(review=own, actor=request.principal, context=audit_context, **fields)
    except ApplicationError as error:
        if error.code != "validation_error":
            raise
        for name, problems in (error.details or {}).items():
            for message in messages_of(problems):
                form.add_error(name if name in form.fields else None, str(message))
        return _reviews_answer(request, plugin, version, installation, form=form, status=400)
    done = "Your review is saved." if own is None else "Your review is updated."
    return _reviews_answer(request, plugin, version, installation, done=done)


@page(role=Role.CLIENT_ADMIN)
def review_remove(request: PageRequest, plugin_id: str) -> HttpResponse:
    """POST: delete the team's review of the plugin."""
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    plugin, version = published_or_404(request, plugin_id)
    installation = _installation_for_review(request, plugin)
    own = _own_review(request, plugin)
    if own is None:
        not_found(request, "Your team has no review of this plugin.")
    review_delete(review=own, actor=request.principal, context=RequestContext.from_request(request))
    return _reviews_answer(request, plugin, version, installation, done="Your review is deleted.")
