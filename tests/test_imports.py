"""How dropbell's modules may import each other, read off the code by grimp (the graph
import-linter builds; imports inside functions count too).

- No module imports itself through others: a cycle makes import order matter and a
  module impossible to read or test alone.
- Publishing a live event after commit needs no domain (docs/architecture.md): the
  encoding, the brokers and the publisher import none of accounts, drops,
  notifications, posts, reminders, push or the web app. Only the hub, which reads
  inboxes for the streams it serves, does.
- The service imports no tool (``dropbell.tools``: benchmarks, demo, test hooks): only
  the ``dropbell`` command mounts them, and ``create_app`` imports the test hooks (when
  they are on; tests/test_testhooks_import.py checks that a normal app does not).
"""

from __future__ import annotations

import grimp

DOMAINS = (
    "dropbell.accounts",
    "dropbell.drops",
    "dropbell.notifications",
    "dropbell.posts",
    "dropbell.reminders",
    "dropbell.push",
    "dropbell.web",
)
PUBLISHING = ("dropbell.live.events", "dropbell.live.brokers", "dropbell.live.publish")
# Who outside dropbell.tools imports which of its modules.
TOOL_USERS = {
    "dropbell.app": {"dropbell.tools.testhooks"},
    "dropbell.cli": {
        "dropbell.tools.bench.cli",
        "dropbell.tools.demo.data",
        "dropbell.tools.demo.loader",
    },
}


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The module import cycles (strongly connected components of more than one module,
    or a module importing itself), by Tarjan's algorithm, iteratively."""
    imports = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(imports):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            module, i = work.pop()
            if i == 0:
                index[module] = low[module] = len(index)
                stack.append(module)
                on_stack.add(module)
            for j in range(i, len(imports[module])):
                other = imports[module][j]
                if other not in index:
                    work.append((module, j + 1))
                    work.append((other, 0))
                    break
                if other in on_stack:
                    low[module] = min(low[module], index[other])
            else:
                if low[module] == index[module]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == module:
                            break
                    if len(component) > 1 or module in imports[module]:
                        found.append(sorted(component))
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
    return found


def test_no_module_imports_itself_through_others() -> None:
    graph = grimp.build_graph("dropbell")
    assert _cycles(graph) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "a.b", "a.c", "a.d"):
        graph.add_module(module)
    graph.add_import(importer="a.b", imported="a.c")
    graph.add_import(importer="a.c", imported="a.d")
    graph.add_import(importer="a.d", imported="a.b")
    assert _cycles(graph) == [["a.b", "a.c", "a.d"]]


def test_publishing_a_live_event_needs_no_domain() -> None:
    graph = grimp.build_graph("dropbell")
    chains = [
        chain
        for source in PUBLISHING
        for domain in DOMAINS
        for imported in sorted(graph.find_descendants(domain) | {domain})
        if (chain := graph.find_shortest_chain(importer=source, imported=imported))
    ]
    assert chains == []


def test_only_the_command_and_the_test_hooks_switch_import_the_tools() -> None:
    graph = grimp.build_graph("dropbell")
    tools = graph.find_descendants("dropbell.tools") | {"dropbell.tools"}
    users = {
        module: imported
        for module in sorted(graph.modules - tools)
        if (imported := graph.find_modules_directly_imported_by(module) & tools)
    }
    assert users == TOOL_USERS
