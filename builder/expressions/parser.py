"""Parses CEL source into a small syntax tree (the grammar of the CEL spec, langdef.md).

Our own parser, so that the evaluator can own every loop and allocation (see `interpreter.py`) and the
analysis of names (`nodes.<id>`, `state.<var>`) reads a tree instead of guessing from tokens.
Nesting is capped: the evaluator walks the tree recursively and must never hit Python's recursion limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MAX_DEPTH = 80  # syntax-tree depth; parentheses, lists, calls and operator chains all count


class ParseError(Exception):
    def __init__(self, detail: str, position: int):
        super().__init__(detail)
        self.detail = detail
        self.position = position


class UInt(int):
    """CEL's uint: an int that arithmetic keeps apart from int (1u + 1 is an error, as in CEL)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{int(self)}u"


# --- Syntax tree -------------------------------------------------------------------------------------


@dataclass(eq=False)
class Node:
    pos: int


@dataclass(eq=False)
class Const(Node):
    value: Any


@dataclass(eq=False)
class Ident(Node):
    name: str


@dataclass(eq=False)
class Select(Node):
    operand: Node
    name: str
    optional: bool = False  # a.?b


@dataclass(eq=False)
class Index(Node):
    operand: Node
    index: Node
    optional: bool = False  # a[?b]


@dataclass(eq=False)
class Call(Node):
    function: str  # "size", "math.greatest", …
    args: list[Node]
    target: Node | None = None  # x.f(a): target x


@dataclass(eq=False)
class Comprehension(Node):
    """A macro that iterates: all, exists, exists_one, map (2 or 3 arguments), filter."""

    macro: str
    range: Node
    var: str
    args: list[Node]


@dataclass(eq=False)
class Has(Node):
    select: Select


@dataclass(eq=False)
class ListLit(Node):
    items: list[Node]


@dataclass(eq=False)
class MapLit(Node):
    entries: list[tuple[Node, Node]]


@dataclass(eq=False)
class Unary(Node):
    op: str  # "!" or "-"
    operand: Node


@dataclass(eq=False)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(eq=False)
class Logical(Node):
    """`&&` or `||` over two or more operands (chains are flattened: no depth for long conditions)."""

    op: str
    operands: list[Node] = field(default_factory=list)


@dataclass(eq=False)
class Conditional(Node):
    condition: Node
    then: Node
    otherwise: Node


# --- Tokens ------------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>[\s]+|//[^\n]*)
  | (?P<string>(?:[rR][bB]?|[bB][rR]?)?
        (?:\"\"\"(?:\\.|[^\\])*?\"\"\"|'''(?:\\.|[^\\])*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))
  | (?P<number>0[xX][0-9a-fA-F]+[uU]?|(?:\d+\.\d+|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+[uU]?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>\.\?|\[\?|==|!=|<=|>=|&&|\|\||[.\[\](){},:?!<>+\-*/%])
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str  # string, number, ident, punct, eof
    text: str
    pos: int


def tokenize(source: str) -> list[Token]:
    out: list[Token] = []
    pos = 0
    n = len(source)
    while pos < n:
        m = _TOKEN_RE.match(source, pos)
        if m is None:
            ch = source[pos]
            if ch in "\"'" or (ch in "rRbB" and source[pos + 1 : pos + 2] in ("'", '"')):
                raise ParseError("unexpected character (an unclosed string?)", pos)
            raise ParseError(f"unexpected character '{ch}'", pos)
        kind = m.lastgroup or "ws"
        if kind != "ws":
            out.append(Token(kind, m.group(), pos))
        pos = m.end()
    out.append(Token("eof", "", n))
    return out


_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "`": "`",
    "?": "?",
}
_ESCAPE_RE = re.compile(
    r"\\(?:([abfnrtv\\'\"`?])|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([0-3][0-7]{2})|(.))"
)


def _string_literal(tok: Token) -> str | bytes:
    text = tok.text
    prefix = ""
    while text[0] in "rRbB":
        prefix += text[0].lower()
        text = text[1:]
    quote = text[:3] if text[:3] in ('"""', "'''") else text[0]
    body = text[len(quote) : -len(quote)]
    is_bytes = "b" in prefix
    if "r" in prefix:
        return body.encode("utf-8") if is_bytes else body
    parts: list[bytes] = []
    pos = 0
    for m in _ESCAPE_RE.finditer(body):
        parts.append(body[pos : m.start()].encode("utf-8"))
        simple, hex2, hex4, hex8, octal, bad = m.groups()
        if bad is not None:
            raise ParseError(f"invalid escape sequence '\\{bad}'", tok.pos)
        if simple is not None:
            parts.append(_SIMPLE_ESCAPES[simple].encode("utf-8"))
        elif hex2 is not None or octal is not None:
            code = int(hex2, 16) if hex2 is not None else int(octal, 8)
            parts.append(bytes([code]) if is_bytes else chr(code).encode("utf-8"))
        else:
            code = int(hex4 or hex8, 16)
            if is_bytes or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise ParseError("invalid unicode escape", tok.pos)
            parts.append(chr(code).encode("utf-8"))
        pos = m.end()
    parts.append(body[pos:].encode("utf-8"))
    raw = b"".join(parts)
    if is_bytes:
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError("invalid UTF-8 in a string literal", tok.pos) from None


_INT64_MAX = 2**63 - 1
_UINT64_MAX = 2**64 - 1


def _number_literal(tok: Token) -> int | float:
    text = tok.text
    unsigned = text[-1] in "uU"
    if unsigned:
        text = text[:-1]
    if text[:2] in ("0x", "0X"):
        value: int | float = int(text, 16)
    elif any(c in text for c in ".eE"):
        return float(text)
    else:
        value = int(text)
    if unsigned:
        if value > _UINT64_MAX:
            raise ParseError("the number is out of range for uint", tok.pos)
        return UInt(value)
    if value > _INT64_MAX + 1:  # + 1: the literal of -9223372036854775808
        raise ParseError("the number is out of range for int", tok.pos)
    return value


# --- Parser ------------------------------------------------------------------------------------------

_RELATIONS = frozenset({"==", "!=", "<", "<=", ">", ">=", "in"})
_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})


class _Parser:
    def __init__(self, source: str):
        self.tokens = tokenize(source)
        self.i = 0
        self.depth = 0

    # -- helpers

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def at(self, text: str) -> bool:
        tok = self.tokens[self.i]
        return tok.text == text and tok.kind in ("punct", "ident")

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, text: str) -> Token:
        if not self.at(text):
            self.fail()
        return self.take()

    def fail(self, tok: Token | None = None):
        tok = tok or self.tok
        if tok.kind == "eof":
            raise ParseError("the expression ends too early", tok.pos)
        raise ParseError(f"unexpected '{tok.text}'", tok.pos)

    def built(self, node: Node) -> Node:
        """`node` with its depth; a tree deeper than MAX_DEPTH (a long operator chain too) is refused."""
        node.depth = 1 + max((child.depth for child in children(node)), default=0)
        if node.depth > MAX_DEPTH:
            raise ParseError(f"the expression nests too deeply (more than {MAX_DEPTH} levels)", node.pos)
        return node

    # -- grammar

    def parse(self) -> Node:
        node = self.expr()
        if self.tok.kind != "eof":
            self.fail()
        return node

    def expr(self) -> Node:
        # Parentheses, lists and arguments recurse through here: bound the recursion before the tree exists.
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ParseError(f"the expression nests too deeply (more than {MAX_DEPTH} levels)", self.tok.pos)
        node = self.logical("||", self.and_expr)
        if self.at("?"):
            pos = self.take().pos
            then = self.logical("||", self.and_expr)
            self.expect(":")
            node = self.built(Conditional(pos, node, then, self.expr()))
        self.depth -= 1
        return node

    def and_expr(self) -> Node:
        return self.logical("&&", self.relation)

    def logical(self, op: str, operand) -> Node:
        first = operand()
        if not self.at(op):
            return first
        node = Logical(first.pos, op, [first])
        while self.at(op):
            self.take()
            node.operands.append(operand())
        return self.built(node)

    def relation(self) -> Node:
        node = self.addition()
        while self.tok.text in _RELATIONS and self.tok.kind in ("punct", "ident"):
            tok = self.take()
            node = self.binary(tok, node, self.addition())
        return node

    def addition(self) -> Node:
        node = self.multiplication()
        while self.tok.kind == "punct" and self.tok.text in ("+", "-"):
            tok = self.take()
            node = self.binary(tok, node, self.multiplication())
        return node

    def multiplication(self) -> Node:
        node = self.unary()
        while self.tok.kind == "punct" and self.tok.text in ("*", "/", "%"):
            tok = self.take()
            node = self.binary(tok, node, self.unary())
        return node

    def binary(self, tok: Token, left: Node, right: Node) -> Node:
        return self.built(Binary(tok.pos, tok.text, left, right))  # a left-leaning chain is as deep as it is long

    def unary(self) -> Node:
        if self.tok.kind == "punct" and self.tok.text in ("!", "-"):
            ops = []
            while self.tok.kind == "punct" and self.tok.text in ("!", "-"):
                ops.append(self.take())
            if ops[-1].text == "-" and self.tok.kind == "number" and not self.tok.text.endswith(("u", "U")):
                # Fold a negative literal, so that -9223372036854775808 is an int.
                num = self.take()
                value = -_number_literal(num)
                node: Node = self.member(self.built(Const(ops[-1].pos, value)))
                ops.pop()
            else:
                node = self.member(self.primary())
            for op in reversed(ops):
                node = self.built(Unary(op.pos, op.text, node))
            return node
        return self.member(self.primary())

    def member(self, node: Node) -> Node:
        while True:
            tok = self.tok
            if tok.kind != "punct":
                return node
            if tok.text in (".", ".?"):
                self.take()
                name_tok = self.take()
                if name_tok.kind != "ident":
                    self.fail(name_tok)
                if tok.text == "." and self.at("("):
                    self.take()
                    node = self.built(self.member_call(node, name_tok, self.args(")")))
                else:
                    node = self.built(Select(tok.pos, node, name_tok.text, optional=tok.text == ".?"))
            elif tok.text in ("[", "[?"):
                self.take()
                index = self.expr()
                self.expect("]")
                node = self.built(Index(tok.pos, node, index, optional=tok.text == "[?"))
            else:
                return node

    def member_call(self, target: Node, name: Token, args: list[Node]) -> Node:
        if name.text in _MACROS and args and isinstance(args[0], Ident):
            arity = {"map": (2, 3)}.get(name.text, (2,))
            if len(args) in arity:
                return Comprehension(name.pos, name.text, target, args[0].name, args[1:])
        if isinstance(target, Ident) and target.name in NAMESPACES:
            return Call(name.pos, f"{target.name}.{name.text}", args)
        return Call(name.pos, name.text, args, target)

    def args(self, close: str) -> list[Node]:
        items: list[Node] = []
        while not self.at(close):
            items.append(self.expr())
            if not self.at(","):
                break
            self.take()
        self.expect(close)
        return items

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind == "number":
            self.take()
            return self.built(Const(tok.pos, _number_literal(tok)))
        if tok.kind == "string":
            self.take()
            return self.built(Const(tok.pos, _string_literal(tok)))
        if tok.kind == "ident":
            self.take()
            if tok.text in ("true", "false", "null"):
                return self.built(Const(tok.pos, {"true": True, "false": False, "null": None}[tok.text]))
            if tok.text == "in":
                self.fail(tok)
            if self.at("("):
                self.take()
                args = self.args(")")
                if tok.text == "has":
                    if len(args) != 1 or not isinstance(args[0], Select) or args[0].optional:
                        raise ParseError("has() takes one field selection, like has(input.field)", tok.pos)
                    return self.built(Has(tok.pos, args[0]))
                return self.built(Call(tok.pos, tok.text, args))
            if self.at("{"):
                raise ParseError("message construction (Name{…}) is not supported; use a map {'key': value}", tok.pos)
            return self.built(Ident(tok.pos, tok.text))
        if tok.kind == "punct":
            if tok.text == "(":
                self.take()
                node = self.expr()
                self.expect(")")
                return node
            if tok.text == "[":
                self.take()
                return self.built(ListLit(tok.pos, self.args("]")))
            if tok.text == "{":
                self.take()
                entries: list[tuple[Node, Node]] = []
                while not self.at("}"):
                    key = self.expr()
                    self.expect(":")
                    entries.append((key, self.expr()))
                    if not self.at(","):
                        break
                    self.take()
                self.expect("}")
                return self.built(MapLit(tok.pos, entries))
            if tok.text == ".":  # a leading dot names the root scope: .nodes
                self.take()
                name = self.take()
                if name.kind != "ident":
                    self.fail(name)
                return self.built(Ident(name.pos, name.text))
        self.fail(tok)


def children(node: Node) -> list[Node]:
    """The direct sub-expressions of `node`."""
    if isinstance(node, (Const, Ident)):
        return []
    if isinstance(node, (Select, Unary)):
        return [node.operand]
    if isinstance(node, Index):
        return [node.operand, node.index]
    if isinstance(node, Call):
        return ([node.target] if node.target is not None else []) + node.args
    if isinstance(node, Comprehension):
        return [node.range, *node.args]
    if isinstance(node, Has):
        return [node.select]
    if isinstance(node, ListLit):
        return node.items
    if isinstance(node, MapLit):
        return [part for entry in node.entries for part in entry]
    if isinstance(node, Binary):
        return [node.left, node.right]
    if isinstance(node, Logical):
        return node.operands
    if isinstance(node, Conditional):
        return [node.condition, node.then, node.otherwise]
    raise TypeError(node)


# Namespaced functions are called as `math.greatest(…)`: the namespace is not a variable.
NAMESPACES = frozenset({"math", "lists", "sets", "strings", "base64", "optional"})


def parse(source: str) -> Node:
    """The syntax tree of `source`. Raises ParseError with an offset into `source`."""
    return _Parser(source).parse()
