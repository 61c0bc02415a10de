"""Problem banks: TOML files in problem_banks/ that an instructor edits without touching
code. Each is validated on load; a mistake is one line naming the file, the entry (and
its line when it can be found) and what is wrong, and unknown keys are errors so that a
typo is never silently ignored. Bank text is plain text, never Typst markup."""
from __future__ import annotations

import difflib
import re
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import PsetError
from .resources import banks_dir


class BankError(PsetError):
    """A problem bank that cannot be read or does not validate."""


# ---- the banks' contents -------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    """One row candidate for Question 1's table."""
    text: str
    label: str                  # "P" (parameter) or "HP" (hyper-parameter)
    why: str
    symbol: str | None = None   # one letter, shown bold after the text
    original: int | None = None  # row in the original's table (1-6)


@dataclass(frozen=True)
class ParamsBank:
    items: tuple[Item, ...]
    model_answer_a: str


@dataclass(frozen=True)
class Curve:
    shape: str
    args: tuple[tuple[str, str], ...]  # (shape parameter, number name), in file order

    def arg(self, name: str) -> str | None:
        return dict(self.args).get(name)


@dataclass(frozen=True)
class Change:
    what: str
    why: str


@dataclass(frozen=True)
class Scenario:
    id: str
    diagnosis: str                       # "overfitting" or "underfitting"
    observations: tuple[str, ...]        # templates with {name} placeholders
    evidence: str
    numbers: tuple[tuple[str, int, int], ...]  # (name, min, max), in file order
    train_loss: Curve
    val_accuracy: Curve
    changes: tuple[Change, ...]
    original_part: str | None = None     # "a" or "b"
    original_numbers: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class FitBank:
    scenarios: tuple[Scenario, ...]


LABELS = ("P", "HP")
DIAGNOSES = ("overfitting", "underfitting")
MIN_ITEMS, MIN_ITEMS_EACH, ORIGINAL_ROWS = 20, 6, 6
MIN_SCENARIOS_EACH = 2
# Curve shapes: parameter -> (kind, required). "epoch" numbers must lie inside the run,
# "percent" numbers are accuracies in 1..99. generator.questions.fit_diagnosis draws them.
CURVE_SHAPES = {
    "train_loss": {"reaches_zero": {"at": ("epoch", True)}, "approaches_zero": {},
                   "stays_high": {}, "plateaus_high": {"at": ("epoch", True)}},
    "val_accuracy": {"rises_then_falls": {"peak": ("epoch", True), "top": ("percent", False),
                                          "final": ("percent", False)},
                     "rises_slowly": {"final": ("percent", False)},
                     "plateaus_low": {"at": ("epoch", True), "level": ("percent", False)}},
}
_SYMBOL = re.compile(r"[A-Za-z\u0391-\u03a9\u03b1-\u03c9]")
_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
_NAME = re.compile(r"[a-z_][a-z0-9_]*")


# ---- placeholders ------------------------------------------------------------------------

def placeholders(template: str) -> list[str]:
    """The {name} placeholders of a template, in order; ValueError for a stray brace,
    a format spec or anything but a plain lower-case name."""
    names = []
    for _, name, spec, conv in string.Formatter().parse(template):
        if name is None:
            continue
        if not _NAME.fullmatch(name) or spec or conv:
            raise ValueError(f'"{{{name}}}" is not a placeholder: write {{name}} with a '
                             'lower-case name, or "{{" for a brace')
        names.append(name)
    return names


def fill(template: str, numbers: dict[str, int]) -> str:
    """The template with each {name} replaced by its number (no str.format: bank text
    never reaches Python's attribute or index lookups)."""
    parts = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(literal)
        if name is not None:
            parts.append(str(numbers[name]))
    return "".join(parts)


# ---- loading -----------------------------------------------------------------------------

class _Entries:
    """Names places in one bank file for error messages."""

    def __init__(self, filename: str, source: str):
        self.filename, self.source = filename, source

    def fail(self, message: str, line: int | None = None) -> BankError:
        where = f"{self.filename} line {line}" if line else self.filename
        return BankError(f"{where}: {message}")

    def header_line(self, table: str, index: int) -> int | None:
        """Line of the index-th [[table]] header, if the file writes them that way."""
        pat = re.compile(r"^[ \t]*\[\[[ \t]*" + re.escape(table) + r"[ \t]*\]\]", re.M)
        starts = [m.start() for m in pat.finditer(self.source)]
        return self.source.count("\n", 0, starts[index]) + 1 if index < len(starts) else None


def _read(path: Path) -> tuple[dict, _Entries]:
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BankError(f"{path.name}: problem bank not found in {path.parent}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise BankError(f"{path.name}: cannot read: {e}") from None
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)$", msg)
        if m:
            msg = f"{path.name} line {m[1]}, column {m[2]}: {msg[:m.start()]}"
        else:
            msg = f"{path.name}: {msg}"
        raise BankError(msg) from None
    return data, _Entries(path.name, source)


def _check_keys(table, required, optional, fail) -> None:
    if not isinstance(table, dict):
        raise fail("must be a table")
    known = (*required, *optional)
    for key in table:  # unknown keys first: a typo also makes a required key "missing"
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f'did you mean "{close[0]}"?' if close else f'expected one of: {", ".join(known)}'
            raise fail(f'unknown key "{key}" ({hint})')
    for key in required:
        if key not in table:
            raise fail(f'missing key "{key}"')


def _text(value, what: str, fail) -> str:
    if not isinstance(value, str) or not value.strip():
        raise fail(f'"{what}" must be non-empty text')
    return " ".join(value.split())


def _int(value, what: str, fail) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(f'"{what}" must be a whole number, got {value!r}')
    return value


def load_bank(name: str, directory: Path | None = None) -> ParamsBank | FitBank:
    """Load and validate problem_banks/<name>.toml (name: "params_vs_hyper" or
    "fit_scenarios")."""
    stem = name.removesuffix(".toml")
    if stem not in _LOADERS:
        raise BankError(f'unknown problem bank "{name}" (known: {", ".join(_LOADERS)})')
    data, entries = _read(Path(directory or banks_dir()) / f"{stem}.toml")
    return _LOADERS[stem](data, entries)


# ---- Question 1 --------------------------------------------------------------------------

def _params_bank(data: dict, e: _Entries) -> ParamsBank:
    _check_keys(data, ("part_a", "item"), (), e.fail)
    part_a = data["part_a"]
    _check_keys(part_a, ("model_answer",), (), lambda m: e.fail(f"[part_a]: {m}"))
    model_a = _text(part_a["model_answer"], "model_answer", lambda m: e.fail(f"[part_a]: {m}"))
    raw = data["item"]
    if not isinstance(raw, list):
        raise e.fail('"item" must be written as [[item]] entries')
    items, seen_text, seen_row = [], {}, {}
    for i, entry in enumerate(raw):
        label = f'"{entry["text"]}"' if isinstance(entry, dict) and isinstance(entry.get("text"), str) else ""
        line = e.header_line("item", i)
        fail = lambda m, i=i, label=label, line=line: e.fail(f"item {i + 1}{' (' + label + ')' if label else ''}: {m}", line)  # noqa: E731
        _check_keys(entry, ("text", "label", "why"), ("symbol", "original"), fail)
        text = _text(entry["text"], "text", fail)
        if entry["label"] not in LABELS:
            raise fail(f'label must be "P" or "HP", got {entry["label"]!r}')
        symbol = entry.get("symbol")
        if symbol is not None and not (isinstance(symbol, str) and _SYMBOL.fullmatch(symbol)):
            raise fail(f"symbol must be one Latin or Greek letter, got {symbol!r}")
        original = entry.get("original")
        if original is not None:
            original = _int(original, "original", fail)
            if not 1 <= original <= ORIGINAL_ROWS:
                raise fail(f"original must be a row from 1 to {ORIGINAL_ROWS}, got {original}")
            if original in seen_row:
                raise fail(f"original row {original} is already item {seen_row[original]}")
            seen_row[original] = i + 1
        folded = text.casefold()
        if folded in seen_text:
            raise fail(f"same text as item {seen_text[folded]}")
        seen_text[folded] = i + 1
        items.append(Item(text, entry["label"], _text(entry["why"], "why", fail), symbol, original))
    counts = {lab: sum(it.label == lab for it in items) for lab in LABELS}
    if len(items) < MIN_ITEMS or min(counts.values()) < MIN_ITEMS_EACH:
        raise e.fail(f"needs at least {MIN_ITEMS} items with at least {MIN_ITEMS_EACH} of each "
                     f"label; has {len(items)} ({counts['P']} P, {counts['HP']} HP)")
    return ParamsBank(tuple(items), model_a)


# ---- Question 2 --------------------------------------------------------------------------

def _numbers(raw, fail) -> tuple[tuple[str, int, int], ...]:
    if not isinstance(raw, dict):
        raise fail('"numbers" must be a table of name = [min, max]')
    out = []
    for name, rng in raw.items():
        if not _NAME.fullmatch(name):
            raise fail(f'number name "{name}" must be lower-case letters, digits and _')
        if not (isinstance(rng, list) and len(rng) == 2):
            raise fail(f'number "{name}" must be [min, max], got {rng!r}')
        lo, hi = (_int(v, name, fail) for v in rng)
        if not 1 <= lo <= hi:
            raise fail(f'number "{name}" needs 1 <= min <= max, got [{lo}, {hi}]')
        out.append((name, lo, hi))
    if "epochs" not in raw:
        raise fail('"numbers" needs "epochs" (the length of the run)')
    return tuple(out)


def _curve(raw, which: str, ranges: dict, fail) -> Curve:
    cfail = lambda m: fail(f"{which}: {m}")  # noqa: E731
    shapes = CURVE_SHAPES[which]
    if not isinstance(raw, dict) or raw.get("shape") not in shapes:
        got = raw.get("shape") if isinstance(raw, dict) else raw
        raise cfail(f'"shape" must be one of {", ".join(shapes)}, got {got!r}')
    spec = shapes[raw["shape"]]
    _check_keys(raw, ("shape", *(p for p, (_, req) in spec.items() if req)),
                tuple(p for p, (_, req) in spec.items() if not req), cfail)
    args = []
    for param, ref in raw.items():
        if param == "shape":
            continue
        if ref not in ranges:
            raise cfail(f'{param} = {ref!r} names no number (numbers: {", ".join(ranges)})')
        lo, hi = ranges[ref]
        if spec[param][0] == "epoch" and hi >= ranges["epochs"][0]:
            raise cfail(f'{param} = "{ref}" can reach {hi}, not below the smallest epochs {ranges["epochs"][0]}')
        if spec[param][0] == "percent" and not (1 <= lo and hi <= 99):
            raise cfail(f'{param} = "{ref}" is a percentage and must stay within 1..99')
        args.append((param, ref))
    curve = Curve(raw["shape"], tuple(args))
    top, final = curve.arg("top"), curve.arg("final")
    if curve.shape == "rises_then_falls" and top and final and ranges[final][1] >= ranges[top][0]:
        raise cfail(f'"{final}" must stay below "{top}" (the curve falls after its peak)')
    return curve


def _scenario(entry, ranges_fail, seen: dict) -> Scenario:
    fail = ranges_fail
    _check_keys(entry, ("id", "diagnosis", "observations", "evidence", "numbers", "train_loss",
                        "val_accuracy", "change"), ("original",), fail)
    sid = entry["id"]
    if not (isinstance(sid, str) and _ID.fullmatch(sid)):
        raise fail(f'id must be lower-case letters, digits and "-", got {sid!r}')
    if sid in seen:
        raise fail(f'id "{sid}" is already scenario {seen[sid]}')
    if entry["diagnosis"] not in DIAGNOSES:
        raise fail(f'diagnosis must be "overfitting" or "underfitting", got {entry["diagnosis"]!r}')
    numbers = _numbers(entry["numbers"], fail)
    ranges = {n: (lo, hi) for n, lo, hi in numbers}
    obs = entry["observations"]
    if not (isinstance(obs, list) and 2 <= len(obs) <= 3):
        raise fail('"observations" must be a list of two or three sentences')
    changes = entry["change"]
    if not (isinstance(changes, list) and len(changes) >= 2):
        raise fail("needs at least two [[scenario.change]] entries")
    texts = {f"observation {k + 1}": _text(t, "observations", fail) for k, t in enumerate(obs)}
    texts["evidence"] = _text(entry["evidence"], "evidence", fail)
    parsed = []
    for k, ch in enumerate(changes):
        cf = lambda m, k=k: fail(f"change {k + 1}: {m}")  # noqa: E731
        _check_keys(ch, ("what", "why"), (), cf)
        parsed.append(Change(_text(ch["what"], "what", cf), _text(ch["why"], "why", cf)))
        texts[f"change {k + 1} what"], texts[f"change {k + 1} why"] = parsed[-1].what, parsed[-1].why
    used = {"epochs"}
    for where, t in texts.items():
        try:
            names = placeholders(t)
        except ValueError as err:
            raise fail(f"{where}: {err}") from None
        for n in names:
            if n not in ranges:
                raise fail(f'{where}: placeholder "{{{n}}}" names no number (numbers: {", ".join(ranges)})')
        used.update(names)
    curves = [_curve(entry[w], w, ranges, fail) for w in ("train_loss", "val_accuracy")]
    used.update(ref for c in curves for _, ref in c.args)
    for n in ranges:
        if n not in used:
            raise fail(f'number "{n}" is not used by any sentence or curve')
    part, orig_numbers = None, ()
    if "original" in entry:
        orig = entry["original"]
        of = lambda m: fail(f"original: {m}")  # noqa: E731
        _check_keys(orig, ("part", *ranges), (), of)
        part = orig["part"]
        if part not in ("a", "b"):
            raise of(f'part must be "a" or "b", got {part!r}')
        for n, (lo, hi) in ranges.items():
            if not lo <= _int(orig[n], n, of) <= hi:
                raise of(f"{n} = {orig[n]} is outside its range [{lo}, {hi}]")
        orig_numbers = tuple((n, orig[n]) for n in ranges)
    return Scenario(sid, entry["diagnosis"], tuple(texts[f"observation {k + 1}"] for k in range(len(obs))),
                    texts["evidence"], numbers, curves[0], curves[1], tuple(parsed), part, orig_numbers)


def _fit_bank(data: dict, e: _Entries) -> FitBank:
    _check_keys(data, ("scenario",), (), e.fail)
    raw = data["scenario"]
    if not isinstance(raw, list):
        raise e.fail('"scenario" must be written as [[scenario]] entries')
    scenarios, seen, parts = [], {}, {}
    for i, entry in enumerate(raw):
        sid = entry.get("id") if isinstance(entry, dict) else None
        label = f' ("{sid}")' if isinstance(sid, str) else ""
        fail = lambda m, i=i, label=label, line=e.header_line("scenario", i): e.fail(f"scenario {i + 1}{label}: {m}", line)  # noqa: E731
        s = _scenario(entry, fail, seen)
        if s.original_part in parts:
            raise fail(f'original part "{s.original_part}" is already scenario {parts[s.original_part]}')
        if s.original_part:
            parts[s.original_part] = i + 1
        seen[s.id] = i + 1
        scenarios.append(s)
    counts = {d: sum(s.diagnosis == d for s in scenarios) for d in DIAGNOSES}
    if min(counts.values()) < MIN_SCENARIOS_EACH:
        raise e.fail(f"needs at least {MIN_SCENARIOS_EACH} scenarios of each diagnosis; has "
                     f"{counts['overfitting']} overfitting, {counts['underfitting']} underfitting")
    return FitBank(tuple(scenarios))


_LOADERS = {"params_vs_hyper": _params_bank, "fit_scenarios": _fit_bank}
