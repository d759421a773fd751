"""Lineage as a tree you can walk: up (what it is made from) or down (what depends on it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Static, Tree
from textual.widgets.tree import TreeNode

from charter.catalog.render import node_text
from charter.tui.messages import LineageLoaded, OpenObject
from charter.tui.screens.base import CatalogScreen

if TYPE_CHECKING:
    from charter.catalog.lineage import NodeKey
    from charter.catalog.query import Catalog, LineageNode


class LineageScreen(CatalogScreen):
    """Column-level lineage of one node; enter re-centres the tree on the highlighted node."""

    CSS_PATH = "../styles/lineage.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Close", id="lineage.close", tooltip="Back to where you were"),
        Binding("t", "toggle_direction", "Up/down", id="lineage.direction",
                tooltip="Switch between upstream and downstream lineage"),
        Binding("plus,equals_sign", "depth(1)", "Deeper", id="lineage.deeper", tooltip="Show one more level"),
        Binding("minus", "depth(-1)", "Shallower", id="lineage.shallower", tooltip="Show one level less"),
        Binding("backspace", "previous", "Previous", id="lineage.previous",
                tooltip="Back to the node you followed from"),
        Binding("o", "open", "Open", id="lineage.open", tooltip="Open the highlighted object in its screen"),
    ]

    def __init__(self, node: NodeKey, *, direction: str = "up", depth: int = 4):
        super().__init__()
        self.node = node
        self.direction = direction
        self.depth = depth
        self.trail: list[NodeKey] = []

    def compose(self) -> ComposeResult:
        yield Static(id="lineage-title")
        yield Tree("…", id="lineage-tree")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Tree).focus()
        super().on_mount()

    def reload(self) -> None:
        root, direction, depth = self.node, self.direction, self.depth
        self.read("lineage", lambda catalog: LineageLoaded(root, direction, depth,
                                                           _tree(catalog, root, direction, depth)))

    def on_lineage_loaded(self, message: LineageLoaded) -> None:
        if (message.root, message.direction, message.depth) != (self.node, self.direction, self.depth):
            return
        label = "upstream: what it is made from" if self.direction == "up" else "downstream: what depends on it"
        self.query_one("#lineage-title", Static).update(Text.assemble(
            ("Lineage ", "bold"), Text.from_markup(node_text(message.tree)), f"  ·  {label}  ·  depth {self.depth}"))
        tree: Tree[LineageNode] = self.query_one(Tree)
        tree.clear()
        tree.root.set_label(Text.from_markup(node_text(message.tree)))
        tree.root.data = message.tree
        _fill(tree.root, message.tree)
        tree.root.expand_all()
        if not message.tree.children:
            tree.root.add_leaf(Text("nothing", style="dim"))

    @on(Tree.NodeSelected)
    def _follow(self, event: Tree.NodeSelected[LineageNode]) -> None:
        node = event.node.data
        if node is None or node.key == self.node:
            return
        self.trail.append(self.node)
        self.node = node.key
        self.reload()

    def action_toggle_direction(self) -> None:
        self.direction = "down" if self.direction == "up" else "up"
        self.reload()

    def action_depth(self, step: int) -> None:
        self.depth = min(20, max(1, self.depth + step))
        self.reload()

    def action_previous(self) -> None:
        if self.trail:
            self.node = self.trail.pop()
            self.reload()

    def action_open(self) -> None:
        cursor = self.query_one(Tree).cursor_node
        node = cursor.data if cursor is not None else None
        if node is None or node.kind in ("file", "table"):
            return
        self.app.pop_screen()
        self.app.post_message(OpenObject(node.kind, node.name))


def _tree(catalog: Catalog, root: NodeKey, direction: str, depth: int) -> LineageNode:
    return catalog.lineage(root, direction=direction, depth=depth)


def _fill(branch: TreeNode[LineageNode], node: LineageNode) -> None:
    for child in node.children:
        label = Text.from_markup(node_text(child))
        if child.children:
            _fill(branch.add(label, data=child), child)
        else:
            branch.add_leaf(label, data=child)
