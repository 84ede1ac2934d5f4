"""A tiny safe expression language for policy formulas.

The source is parsed with :mod:`ast` (``mode="eval"``) and every node is checked against a whitelist,
then compiled into closures. Nothing is ever passed to ``eval``/``exec``. Allowed:

* number literals (read from their source text straight into :class:`~decimal.Decimal`, so ``0.1`` is
  exactly one tenth), string literals (category keys such as ``"bank"``), names;
* ``+ - * /``, unary ``-``/``+``, parentheses, comparisons ``== != < <= > >=`` (chains allowed);
* calls of ``min``, ``max``, ``round_yuan``, ``round_fen``, ``lookup(table, value)``,
  ``factor(table, key)`` and ``if_(cond, a, b)`` (lazy: only the chosen branch is evaluated).

Refused: attribute access, subscripts, ``**`` (no exponent bombs), keyword or star arguments, any
other function, names starting with ``_``, lambdas, comprehensions, ``and``/``or``, f-strings...
Size is bounded (characters, nodes, nesting depth, literal length).
"""

from decimal import Decimal
from decimal import ROUND_HALF_UP

from .errors import CalcError
from .errors import ExpressionError

import ast


MAX_CHARS = 2000
MAX_NODES = 400
MAX_DEPTH = 40
MAX_LITERAL_CHARS = 30

FUNCTIONS = ("min", "max", "round_yuan", "round_fen", "lookup", "factor", "if_")
YUAN = Decimal(1)
FEN = Decimal("0.01")

_REFUSED = {
    ast.Attribute: "属性访问（.）",
    ast.Subscript: "下标访问（[]）",
    ast.Lambda: "lambda 表达式",
    ast.BoolOp: "and / or（请使用 if_）",
    ast.IfExp: "条件表达式（请使用 if_）",
    ast.ListComp: "列表推导式",
    ast.GeneratorExp: "生成器表达式",
    ast.DictComp: "字典推导式",
    ast.SetComp: "集合推导式",
    ast.List: "列表",
    ast.Tuple: "元组",
    ast.Dict: "字典",
    ast.Set: "集合",
    ast.JoinedStr: "格式化字符串",
    ast.NamedExpr: "赋值表达式（:=）",
    ast.Starred: "星号参数",
    ast.Await: "await",
    ast.Yield: "yield",
}
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_CMPOPS = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
}
_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def is_number(value):
    return isinstance(value, Decimal)


def _number(value, what):
    if not isinstance(value, Decimal):
        raise CalcError(f"{what}需要数值，得到的是「{value}」")
    return value


def round_to(value, unit):
    """Round *value* to 元 (unit=YUAN) or 分 (unit=FEN), half up."""
    return value.quantize(unit, rounding=ROUND_HALF_UP)


class Expression:
    """A parsed, whitelisted formula. ``names`` are the value names it reads; ``tables`` the
    ``(kind, name)`` pairs it looks up (kind is ``"bracket"`` or ``"factor"``)."""

    def __init__(self, source):
        if not isinstance(source, str):
            raise ExpressionError("公式必须是文本")
        source = source.strip()
        if not source:
            raise ExpressionError("公式为空")
        if len(source) > MAX_CHARS:
            raise ExpressionError(f"公式过长（超过 {MAX_CHARS} 个字符）")
        self.source = source
        self.names = set()
        self.tables = set()
        self.zero_divisors = []
        self._subst = []  # (start_byte, end_byte, name) of value names, for rendering
        self._nodes = 0
        try:
            tree = ast.parse(source, mode="eval")
        except SyntaxError as exc:
            where = f"第 {exc.offset} 个字符附近" if exc.offset else ""
            raise ExpressionError(f"公式语法错误{where}：{source}") from None
        except (ValueError, RecursionError, MemoryError):
            raise ExpressionError(f"公式无法解析：{source}") from None
        encoded = source.encode("utf-8")
        self._bytes = encoded
        self._line_starts = [0]
        for i, b in enumerate(encoded):
            if b == 0x0A:
                self._line_starts.append(i + 1)
        self._fn = self._compile(tree.body, 0)
        self._prepare_render()
        body = tree.body
        #: True when the whole formula is one lookup()/factor() call (its table step explains it)
        self.table_call = (
            isinstance(body, ast.Call)
            and isinstance(body.func, ast.Name)
            and body.func.id in ("lookup", "factor")
        )

    def __repr__(self):
        return f"Expression({self.source!r})"

    # --- compilation ------------------------------------------------------------------------

    def _offset(self, lineno, col):
        return self._line_starts[lineno - 1] + col

    def _segment(self, node):
        start = self._offset(node.lineno, node.col_offset)
        end = self._offset(node.end_lineno, node.end_col_offset)
        return self._bytes[start:end].decode("utf-8")

    def _compile(self, node, depth):
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise ExpressionError(f"公式过于复杂（超过 {MAX_NODES} 个节点）")
        if depth > MAX_DEPTH:
            raise ExpressionError(f"公式嵌套过深（超过 {MAX_DEPTH} 层）")
        d = depth + 1
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or value is None:
                raise ExpressionError(f"不允许的常量：{value}")
            if isinstance(value, (int, float)):
                text = self._segment(node)
                if len(text) > MAX_LITERAL_CHARS:
                    raise ExpressionError(f"数字过长：{text[:20]}…")
                number = Decimal(text.replace("_", ""))
                if not number.is_finite():
                    raise ExpressionError(f"数字无效：{text}")
                return lambda ctx: number
            if isinstance(value, str):
                if len(value) > 100:
                    raise ExpressionError("文字常量过长")
                return lambda ctx: value
            raise ExpressionError(f"不允许的常量：{self._segment(node)}")
        if isinstance(node, ast.Name):
            name = node.id
            self._check_name(name)
            self.names.add(name)
            start = self._offset(node.lineno, node.col_offset)
            end = self._offset(node.end_lineno, node.end_col_offset)
            self._subst.append((start, end, name))

            def load(ctx):
                try:
                    return ctx.env[name]
                except KeyError:
                    raise CalcError(f"未知名称：{name}") from None

            return load
        if isinstance(node, ast.UnaryOp):
            operand = self._compile(node.operand, d)
            if isinstance(node.op, ast.USub):
                return lambda ctx: -_number(operand(ctx), "负号")
            if isinstance(node.op, ast.UAdd):
                return lambda ctx: _number(operand(ctx), "正号")
            raise ExpressionError("不允许的运算：not / ~（请使用比较和 if_）")
        if isinstance(node, ast.BinOp):
            op = type(node.op)
            if op is ast.Pow:
                raise ExpressionError("不允许乘方（**）")
            if op not in _BINOPS:
                raise ExpressionError(f"不允许的运算符：{type(node.op).__name__}")
            left = self._compile(node.left, d)
            right = self._compile(node.right, d)
            if op is ast.Div and isinstance(node.right, ast.Constant) and node.right.value == 0:
                self.zero_divisors.append(self._segment(node))
            sym = _BINOPS[op]
            if op is ast.Add:
                return lambda ctx: _number(left(ctx), sym) + _number(right(ctx), sym)
            if op is ast.Sub:
                return lambda ctx: _number(left(ctx), sym) - _number(right(ctx), sym)
            if op is ast.Mult:
                return lambda ctx: _number(left(ctx), sym) * _number(right(ctx), sym)

            def div(ctx):
                a = _number(left(ctx), sym)
                b = _number(right(ctx), sym)
                if b == 0:
                    raise CalcError(f"除数为零：{self._segment(node)}")
                return a / b

            return div
        if isinstance(node, ast.Compare):
            left = self._compile(node.left, d)
            parts = []
            for op, comp in zip(node.ops, node.comparators):
                if type(op) not in _CMPOPS:
                    raise ExpressionError("不允许的比较：in / is")
                parts.append((type(op), _CMPOPS[type(op)], self._compile(comp, d)))

            def compare(ctx):
                a = left(ctx)
                for kind, fn, right in parts:
                    b = right(ctx)
                    if kind in _ORDERING:
                        _number(a, "大小比较")
                        _number(b, "大小比较")
                    elif type(a) is not type(b):
                        raise CalcError(f"不能比较数值与文字：{a} 与 {b}")
                    if not fn(a, b):
                        return False
                    a = b
                return True

            return compare
        if isinstance(node, ast.Call):
            return self._compile_call(node, d)
        for kind, label in _REFUSED.items():
            if isinstance(node, kind):
                raise ExpressionError(f"不允许的语法：{label}")
        raise ExpressionError(f"不允许的语法：{type(node).__name__}")

    def _check_name(self, name):
        if name.startswith("_"):
            raise ExpressionError(f"不允许以下划线开头的名称：{name}")

    def _compile_call(self, node, d):
        if not isinstance(node.func, ast.Name):
            raise ExpressionError(f"不允许调用：{self._segment(node.func)}")
        fname = node.func.id
        if fname not in FUNCTIONS:
            raise ExpressionError(f"不允许调用函数 {fname}（可用：{', '.join(FUNCTIONS)}）")
        if node.keywords:
            raise ExpressionError(f"{fname} 不接受关键字参数")
        args = node.args
        if any(isinstance(a, ast.Starred) for a in args):
            raise ExpressionError("不允许的语法：星号参数")

        def arity(n):
            if len(args) != n:
                raise ExpressionError(f"{fname} 需要 {n} 个参数，写了 {len(args)} 个")

        if fname in ("lookup", "factor"):
            arity(2)
            if not isinstance(args[0], ast.Name):
                raise ExpressionError(f"{fname} 的第一个参数必须是表名")
            table = args[0].id
            self._check_name(table)
            kind = "bracket" if fname == "lookup" else "factor"
            self.tables.add((kind, table))
            arg = self._compile(args[1], d)
            source = self._segment(args[1])
            arg_name = args[1].id if isinstance(args[1], ast.Name) else None
            if kind == "bracket":
                return lambda ctx: ctx.lookup(table, arg(ctx), source, arg_name)
            return lambda ctx: ctx.factor(table, arg(ctx), source, arg_name)
        if fname == "if_":
            arity(3)
            cond, a, b = (self._compile(x, d) for x in args)

            def choose(ctx):
                c = cond(ctx)
                if not isinstance(c, bool):
                    raise CalcError("if_ 的第一个参数必须是比较（条件）")
                return a(ctx) if c else b(ctx)

            return choose
        if fname in ("round_yuan", "round_fen"):
            arity(1)
            arg = self._compile(args[0], d)
            unit = YUAN if fname == "round_yuan" else FEN
            return lambda ctx: round_to(_number(arg(ctx), fname), unit)
        # min / max
        if len(args) < 2:
            raise ExpressionError(f"{fname} 至少需要 2 个参数")
        fns = [self._compile(x, d) for x in args]
        pick = min if fname == "min" else max
        return lambda ctx: pick(_number(f(ctx), fname) for f in fns)

    # --- use --------------------------------------------------------------------------------

    def evaluate(self, ctx):
        return self._fn(ctx)

    def render(self, replace):
        """The source with each value name replaced by ``replace(name)`` (table names untouched)."""
        pieces = self._pieces
        out = [pieces[0]]
        for name, piece in zip(self._slots, pieces[1:]):
            out.append(replace(name))
            out.append(piece)
        text = "".join(out)
        if self._pretty:
            text = text.replace("*", "×").replace("/", "÷")
        return text

    def readable(self, label):
        """The source with names replaced by their labels (cached: labels are fixed per version)."""
        if self._readable is None:
            self._readable = self.render(label)
        return self._readable

    def _prepare_render(self):
        self._pieces, self._slots = [], []
        pos = 0
        for start, end, name in sorted(self._subst):
            self._pieces.append(self._bytes[pos:start].decode("utf-8"))
            self._slots.append(name)
            pos = end
        self._pieces.append(self._bytes[pos:].decode("utf-8"))
        self._pretty = '"' not in self.source and "'" not in self.source
        self._readable = None


def parse(source):
    """Parse and whitelist *source*; raises :class:`ExpressionError` with a Chinese message."""
    return Expression(source)
