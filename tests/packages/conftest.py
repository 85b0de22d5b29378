"""Package tests: the Node packages in integrations/ run their own test suites against the live
platform the browser tests start (`platform`: runserver on a migrated, seeded database of its own,
with a stand-in for Meta's Graph API; `graph_api`: that stand-in, emptied for each test)."""

from tests.browser.conftest import graph_api, platform  # noqa: F401
