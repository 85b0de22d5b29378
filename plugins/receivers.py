"""How the plugins app plugs into the agents app (connected in `PluginsConfig.ready()`): it answers
plugin agents (the `plugin` runtime) and runs their plugin's lifecycle hooks when they start and stop."""

from __future__ import annotations

from agents.hooks import AgentStarted, AgentStopped, agent_runtime_register
from agents.models import Agent, AgentRuntime
from core.hooks import subscribe
from core.transactions import after_commit
from inbox.models import Message
from plugins.models import PluginInstallation


class PluginRuntime:
    def answer(self, *, message: Message, agent: Agent) -> None:
        from plugins.services.runs import plugin_agent_answer

        plugin_agent_answer(message=message, agent=agent)


def _hook_later(agent: Agent, hook: str) -> None:
    if agent.template.runtime != AgentRuntime.PLUGIN:
        return
    from plugins.tasks import run_lifecycle_hook

    installations = PluginInstallation.objects.filter(template_id=agent.template_id).values_list("pk", flat=True)
    for installation_id in installations:
        after_commit(run_lifecycle_hook.delay, installation_id, hook)


def agent_started(event: AgentStarted) -> None:
    _hook_later(event.agent, "on_activate")


def agent_stopped(event: AgentStopped) -> None:
    _hook_later(event.agent, "on_deactivate")


def connect() -> None:
    agent_runtime_register(AgentRuntime.PLUGIN, PluginRuntime())
    subscribe(AgentStarted, agent_started)
    subscribe(AgentStopped, agent_stopped)
