"""Contacts and leads: CRUD, search and filters; leads also export to CSV."""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.apis.base import TenantApi
from accounts.services.audit import RequestContext
from core.filters import filter_queryset
from core.openapi import PAGE_PARAMETERS, error_responses, page_of
from core.serializers import InputSerializer
from inbox.apis import examples
from inbox.exports import leads_csv_response
from inbox.models import Contact, Lead, LeadStatus
from inbox.selectors import CONTACT_SEARCH_HELP, ContactFilter, LeadFilter
from inbox.serializers import LeadSerializer
from inbox.services.crm import contact_create, contact_update, lead_create, lead_update, record_delete

# --- contacts -------------------------------------------------------------------------------------


class ContactSerializer(serializers.ModelSerializer[Contact]):
    class Meta:
        model = Contact
        ref_name = "Contact"
        fields = ["id", "wa_id", "phone", "name", "email", "attributes", "created_at", "updated_at"]


class ContactWriteInput(InputSerializer):
    wa_id = serializers.RegexField(
        r"^\d{6,20}$", help_text="WhatsApp id: the number in international format, digits only."
    )
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    attributes = serializers.DictField(required=False)


class ContactUpdateInput(ContactWriteInput):
    wa_id = serializers.RegexField(r"^\d{6,20}$", required=False)


class ContactCreateInput(ContactWriteInput):
    account = serializers.IntegerField(required=False, help_text="Platform staff only: the tenant's id.")


WA_ID_ERRORS = {"wa_id": ["This value does not match the required pattern."]}


class ContactListApi(TenantApi):
    @extend_schema(
        operation_id="contacts_list",
        summary="List or search contacts",
        parameters=[
            OpenApiParameter("q", str, description=CONTACT_SEARCH_HELP),
            *PAGE_PARAMETERS,
        ],
        examples=examples.CONTACT_LIST,
        responses={
            200: page_of(ContactSerializer, "ContactPage"),
            **error_responses(400, field_errors={"cursor": ["Invalid cursor."]}),
        },
    )
    def get(self, request: Request) -> Response:
        queryset = filter_queryset(
            ContactFilter, data=request.query_params, queryset=self.scoped(Contact.objects.all())
        )
        return self.paginated(queryset, ContactSerializer)

    @extend_schema(
        operation_id="contacts_create",
        summary="Create a contact",
        request=ContactCreateInput,
        examples=examples.CONTACT_CREATE,
        responses={201: ContactSerializer, **error_responses(400, field_errors=WA_ID_ERRORS)},
    )
    def post(self, request: Request) -> Response:
        data = self.validated(ContactCreateInput, request)
        account = self.account_for_create(data.pop("account", None))
        contact = contact_create(
            account=account, actor=self.principal, context=RequestContext.from_request(request), **data
        )
        return Response(ContactSerializer(contact).data, status=status.HTTP_201_CREATED)


class ContactDetailApi(TenantApi):
    @extend_schema(
        operation_id="contacts_retrieve",
        summary="Show a contact",
        examples=examples.CONTACT_DETAIL,
        responses={200: ContactSerializer, **error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(ContactSerializer(self.get_scoped_object(Contact.objects.all(), pk=pk)).data)

    @extend_schema(
        operation_id="contacts_update",
        summary="Update a contact",
        request=ContactUpdateInput,
        examples=examples.CONTACT_UPDATE,
        responses={200: ContactSerializer, **error_responses(400, 404, field_errors=WA_ID_ERRORS)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        contact = self.get_scoped_object(Contact.objects.select_related("account"), pk=pk)
        data = self.validated(ContactUpdateInput, request)
        contact = contact_update(
            contact=contact, actor=self.principal, context=RequestContext.from_request(request), **data
        )
        return Response(ContactSerializer(contact).data)

    @extend_schema(
        operation_id="contacts_delete",
        summary="Delete a contact and its conversations",
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        contact = self.get_scoped_object(Contact.objects.select_related("account"), pk=pk)
        record_delete(
            instance=contact,
            action="contact.deleted",
            actor=self.principal,
            context=RequestContext.from_request(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- leads ----------------------------------------------------------------------------------------


class LeadWriteInput(InputSerializer):
    name = serializers.CharField(max_length=200)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True)
    source = serializers.CharField(max_length=50, required=False, allow_blank=True)  # type: ignore[assignment]
    status = serializers.ChoiceField(choices=LeadStatus.choices, required=False)
    score = serializers.IntegerField(min_value=0, max_value=100, required=False)
    contact = serializers.IntegerField(required=False, allow_null=True, help_text="A contact id of the same tenant.")
    metadata = serializers.DictField(required=False)


class LeadCreateInput(LeadWriteInput):
    account = serializers.IntegerField(required=False, help_text="Platform staff only: the tenant's id.")


class LeadUpdateInput(LeadWriteInput):
    name = serializers.CharField(max_length=200, required=False)


LEAD_ERRORS = {"score": ["Ensure this value is less than or equal to 100."]}

LEAD_FILTER_PARAMETERS = [
    OpenApiParameter("status", str, enum=LeadStatus.values),
    OpenApiParameter("source", str),
    OpenApiParameter("created_after", OpenApiTypes.DATETIME),
    OpenApiParameter("created_before", OpenApiTypes.DATETIME),
]


def _resolve_contact(data: dict[str, Any]) -> None:
    if "contact" in data:
        contact_id = data.pop("contact")
        data["contact"] = Contact.objects.filter(pk=contact_id).first() if contact_id else None
        if contact_id and data["contact"] is None:
            raise serializers.ValidationError({"contact": ["No such contact."]})


class LeadListApi(TenantApi):
    @extend_schema(
        operation_id="leads_list",
        summary="List leads, newest first",
        parameters=[*LEAD_FILTER_PARAMETERS, *PAGE_PARAMETERS],
        examples=examples.LEAD_LIST,
        responses={
            200: page_of(LeadSerializer, "LeadPage"),
            **error_responses(400, field_errors={"created_after": ["Enter a valid date/time."]}),
        },
    )
    def get(self, request: Request) -> Response:
        queryset = filter_queryset(LeadFilter, data=request.query_params, queryset=self.scoped(Lead.objects.all()))
        return self.paginated(queryset, LeadSerializer)

    @extend_schema(
        operation_id="leads_create",
        summary="Create a lead",
        request=LeadCreateInput,
        examples=examples.LEAD_CREATE,
        responses={201: LeadSerializer, **error_responses(400, field_errors=LEAD_ERRORS)},
    )
    def post(self, request: Request) -> Response:
        data = self.validated(LeadCreateInput, request)
        account = self.account_for_create(data.pop("account", None))
        _resolve_contact(data)
        lead = lead_create(account=account, actor=self.principal, context=RequestContext.from_request(request), **data)
        return Response(LeadSerializer(lead).data, status=status.HTTP_201_CREATED)


class LeadDetailApi(TenantApi):
    @extend_schema(
        operation_id="leads_retrieve",
        summary="Show a lead",
        examples=examples.LEAD_DETAIL,
        responses={200: LeadSerializer, **error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(LeadSerializer(self.get_scoped_object(Lead.objects.all(), pk=pk)).data)

    @extend_schema(
        operation_id="leads_update",
        summary="Update a lead",
        request=LeadUpdateInput,
        examples=examples.LEAD_UPDATE,
        responses={200: LeadSerializer, **error_responses(400, 404, field_errors=LEAD_ERRORS)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        lead = self.get_scoped_object(Lead.objects.select_related("account"), pk=pk)
        data = self.validated(LeadUpdateInput, request)
        _resolve_contact(data)
        lead = lead_update(lead=lead, actor=self.principal, context=RequestContext.from_request(request), **data)
        return Response(LeadSerializer(lead).data)

    @extend_schema(
        operation_id="leads_delete",
        summary="Delete a lead",
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        lead = self.get_scoped_object(Lead.objects.select_related("account"), pk=pk)
        record_delete(
            instance=lead, action="lead.deleted", actor=self.principal, context=RequestContext.from_request(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class LeadExportApi(TenantApi):
    @extend_schema(
        operation_id="leads_export_csv",
        summary="Export leads as CSV",
        description="The same filters as the list; every matching lead, streamed.",
        parameters=LEAD_FILTER_PARAMETERS,
        examples=examples.LEAD_EXPORT,
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="One row per lead, newest first."),
            **error_responses(
                400, field_errors={"status": ["Select a valid choice. open is not one of the available choices."]}
            ),
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        queryset = filter_queryset(LeadFilter, data=request.query_params, queryset=self.scoped(Lead.objects.all()))
        return leads_csv_response(queryset)


urlpatterns = [
    path("contacts", ContactListApi.as_view(), name="contact-list"),
    path("contacts/<int:pk>", ContactDetailApi.as_view(), name="contact-detail"),
    path("leads", LeadListApi.as_view(), name="lead-list"),
    path("leads/export", LeadExportApi.as_view(), name="lead-export"),
    path("leads/<int:pk>", LeadDetailApi.as_view(), name="lead-detail"),
]
