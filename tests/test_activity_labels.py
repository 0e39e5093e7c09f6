"""No raw action names in the activity log: every action recorded anywhere in panel_app
(``audit.record(db, actor, area, "<action>", ...)``) has an ``activity.action.<action>``
text. The actions are read from the source: a literal, either branch of ``a if x else b``,
a local name assigned such values, or a parameter of a helper whose callers pass them."""

from __future__ import annotations

import ast
from pathlib import Path

from panel_app.i18n import CATALOGS, LANGUAGES
from panel_app.services import activity

SOURCE = Path(__file__).resolve().parent.parent / "panel_app"
ACTION_INDEX = 3  # record(db, actor, area, action, ...)


def _trees() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(encoding="utf-8")) for path in SOURCE.rglob("*.py")}


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _argument(call: ast.Call, index: int, name: str) -> ast.expr | None:
    if len(call.args) > index and not any(isinstance(a, ast.Starred) for a in call.args[:index + 1]):
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == name), None)


class _Finder:
    def __init__(self):
        self.trees = _trees()
        self.parents: dict[ast.AST, ast.AST] = {}
        self.functions: dict[str, list[ast.FunctionDef]] = {}
        for tree in self.trees.values():
            for node in ast.walk(tree):
                for child in ast.iter_child_nodes(node):
                    self.parents[child] = node
                if isinstance(node, ast.FunctionDef):
                    self.functions.setdefault(node.name, []).append(node)
        self.unresolved: list[str] = []

    def _function_of(self, node: ast.AST) -> ast.FunctionDef | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef):
                return node
        return None

    def values(self, expr: ast.expr, where: ast.AST, depth: int = 0) -> set[str]:
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return {expr.value}
        if isinstance(expr, ast.IfExp):
            return self.values(expr.body, where, depth) | self.values(expr.orelse, where, depth)
        function = self._function_of(where)
        if isinstance(expr, ast.Name) and function is not None and depth < 4:
            assigned = [node.value for node in ast.walk(function) if isinstance(node, ast.Assign)
                        and any(isinstance(t, ast.Name) and t.id == expr.id for t in node.targets)]
            if assigned:
                return set().union(*(self.values(value, where, depth + 1) for value in assigned))
            params = [a.arg for a in function.args.args]
            if expr.id in params:
                return self.callers(function.name, params.index(expr.id), expr.id, depth + 1)
        self.unresolved.append(ast.unparse(expr))
        return set()

    def callers(self, function_name: str, index: int, name: str, depth: int) -> set[str]:
        found: set[str] = set()
        for tree in self.trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and _call_name(node) == function_name:
                    # A method called on an object: its ``self`` is not among the arguments.
                    offset = 1 if isinstance(node.func, ast.Attribute) and index > 0 and \
                        self._is_method(function_name) else 0
                    argument = _argument(node, index - offset, name)
                    if argument is not None:
                        found |= self.values(argument, node, depth)
        return found

    def _is_method(self, function_name: str) -> bool:
        return any(f.args.args and f.args.args[0].arg == "self" for f in self.functions.get(function_name, []))


def recorded_actions() -> tuple[set[str], list[str]]:
    finder = _Finder()
    actions: set[str] = set()
    for tree in finder.trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) == "record":
                argument = _argument(node, ACTION_INDEX, "action")
                if argument is not None:
                    actions |= finder.values(argument, node)
    return actions, finder.unresolved


def test_the_source_scan_finds_the_actions_it_should():
    actions, _ = recorded_actions()
    # A literal, both branches of a conditional, a local name, a helper's parameter.
    assert {"login", "device_remembered", "device_limit_reached", "catch_all_set", "catch_all_off",
            "totp_removal_approved", "permission_denied"} <= actions
    assert len(actions) > 60


def test_every_recorded_action_has_a_text_in_every_language():
    actions, unresolved = recorded_actions()
    assert not unresolved, f"actions the scan cannot read (use a literal or a conditional of literals): {unresolved}"
    for lang in LANGUAGES:
        missing = sorted(a for a in actions if f"activity.action.{a}" not in CATALOGS[lang])
        assert not missing, (lang, missing)


def test_the_activity_log_never_shows_a_raw_action_name():
    actions, _ = recorded_actions()
    for action in actions:
        for lang in LANGUAGES:
            label = activity.action_label(action, lang)
            assert label != action and "_" not in label, (lang, action, label)
