from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from accounts.tests.factories import AccountFactory
from inbox.models import Channel, Contact, Conversation, Lead, Message, MessageDirection, MessageStatus


class ChannelFactory(DjangoModelFactory[Channel]):
    class Meta:
        model = Channel

    account = factory.SubFactory(AccountFactory)
    name = "Main number"
    phone_number_id = factory.Sequence(lambda n: f"1065403522{n:05d}")
    display_phone_number = factory.Sequence(lambda n: f"1555078{n:04d}")
    business_account_id = "102290129340398"
    access_token = "EAAG-test-access-token"
    app_secret = ""
    verify_token = ""


class ContactFactory(DjangoModelFactory[Contact]):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    wa_id = factory.Sequence(lambda n: f"1650555{n:04d}")
    phone = factory.SelfAttribute("wa_id")
    name = factory.Faker("name")


class ConversationFactory(DjangoModelFactory[Conversation]):
    class Meta:
        model = Conversation

    account = factory.SubFactory(AccountFactory)
    channel = factory.SubFactory(ChannelFactory, account=factory.SelfAttribute("..account"))
    contact = factory.SubFactory(ContactFactory, account=factory.SelfAttribute("..account"))


class MessageFactory(DjangoModelFactory[Message]):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    account = factory.SelfAttribute("conversation.account")
    channel = factory.SelfAttribute("conversation.channel")
    direction = MessageDirection.INBOUND
    status = MessageStatus.RECEIVED
    text = factory.Faker("sentence")
    external_id = factory.Sequence(lambda n: f"wamid.TEST{n:08d}")


class LeadFactory(DjangoModelFactory[Lead]):
    class Meta:
        model = Lead

    account = factory.SubFactory(AccountFactory)
    name = factory.Faker("name")
    email = factory.Faker("email")
    company = factory.Faker("company")
    source = "whatsapp"
