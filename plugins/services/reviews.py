"""Tenants' reviews of plugins: one per tenant and plugin, written by an admin of a tenant that has
the plugin installed (what keeps a store's ratings honest: no review without using it, no second
voice per tenant). The plugin row keeps the exact average and count of the reviews staff did not
hide, recomputed in the same transaction as each change."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count
from django.utils import timezone

from accounts.models import Account
from accounts.principals import Principal
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from core.exceptions import ApplicationError, Conflict, Forbidden
from plugins.models import Plugin, PluginInstallation, PluginReview

TEXT_LIMIT = 4000


def rating_refresh(plugin_id: int) -> None:
    """Recompute the plugin's average and count from its visible reviews (the plugin row is locked
    first, so concurrent reviews cannot leave a stale figure)."""
    Plugin.objects.select_for_update().filter(pk=plugin_id).only("pk").get()
    figures = PluginReview.objects.filter(plugin_id=plugin_id, is_hidden=False).aggregate(
        average=Avg("rating"), count=Count("id")
    )
    average = Decimal(str(figures["average"] or 0)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    Plugin.objects.filter(pk=plugin_id).update(rating_average=average, review_count=figures["count"])


def _checked(rating: int | None, text: str | None) -> dict[str, object]:
    errors: dict[str, list[str]] = {}
    if rating is not None and not 1 <= rating <= 5:
        errors["rating"] = ["Give 1 to 5 stars."]
    if text is not None and len(text) > TEXT_LIMIT:
        errors["text"] = [f"At most {TEXT_LIMIT} characters."]
    if errors:
        raise ApplicationError("The review is not valid.", code="validation_error", details=errors)
    changes: dict[str, object] = {}
    if rating is not None:
        changes["rating"] = rating
    if text is not None:
        changes["text"] = text.strip()
    return changes


def review_create(
    *, account: Account, plugin: Plugin, rating: int, text: str, actor: Principal, context: RequestContext = SYSTEM
) -> PluginReview:
    """The tenant's review of a plugin it has installed (403 `not_installed` otherwise; 409
    `already_reviewed` when it has one: edit that one)."""
    _checked(rating, text)
    installation = PluginInstallation.objects.filter(account=account, plugin=plugin).select_related("version").first()
    if installation is None:
        raise Forbidden("Only a tenant that has installed this plugin can review it.", code="not_installed")
    try:
        with transaction.atomic():
            review = PluginReview.objects.create(
                account=account,
                plugin=plugin,
                author=actor.user,
                version=installation.version.version,
                rating=rating,
                text=text.strip(),
            )
            rating_refresh(plugin.pk)
            audit_log_record(
                action="plugin.reviewed",
                actor=actor,
                account=account,
                target=review,
                context=context,
                metadata={"plugin": plugin.plugin_id, "rating": rating},
            )
    except IntegrityError:
        raise Conflict(
            "Your team has already reviewed this plugin: edit that review.", code="already_reviewed"
        ) from None
    return review


@transaction.atomic
def review_update(
    *,
    review: PluginReview,
    actor: Principal,
    rating: int | None = None,
    text: str | None = None,
    context: RequestContext = SYSTEM,
) -> PluginReview:
    changes = _checked(rating, text)
    review = PluginReview.objects.select_for_update().get(pk=review.pk)
    if changes:
        for field, value in changes.items():
            setattr(review, field, value)
        review.author = actor.user or review.author
        review.edited_at = timezone.now()
        review.save()
        rating_refresh(review.plugin_id)
        audit_log_record(
            action="plugin.review_edited",
            actor=actor,
            account=review.account,
            target=review,
            context=context,
            metadata={"fields": sorted(changes)},
        )
    return review


@transaction.atomic
def review_delete(*, review: PluginReview, actor: Principal, context: RequestContext = SYSTEM) -> None:
    audit_log_record(
        action="plugin.review_deleted",
        actor=actor,
        account=review.account,
        target=review,
        context=context,
        metadata={"plugin_id": review.plugin_id, "rating": review.rating},
    )
    plugin_id = review.plugin_id
    review.delete()
    rating_refresh(plugin_id)


@transaction.atomic
def review_hide(
    *, review: PluginReview, hidden: bool, actor: Principal | None, context: RequestContext = SYSTEM
) -> None:
    """Staff hide a review (spam, abuse, off-topic) or show it again; hidden ones do not count."""
    PluginReview.objects.filter(pk=review.pk).update(is_hidden=hidden)
    rating_refresh(review.plugin_id)
    audit_log_record(
        action="plugin.review_hidden" if hidden else "plugin.review_shown",
        actor=actor,
        account=None,
        target=review,
        context=context,
        metadata={"plugin_id": review.plugin_id, "account": review.account_id},
    )
