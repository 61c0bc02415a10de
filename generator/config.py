"""Instructor configuration (course.toml). Defaults reproduce the original's layout
and points. Every key is checked: a typo or a bad value is one line naming it."""
from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import PsetError
from .options import Options

ALL_QUESTIONS = ("q1", "q2", "q3", "ec")


class ConfigError(PsetError):
    pass


@dataclass(frozen=True)
class Config:
    options: Options = field(default_factory=Options)
    points: dict = field(default_factory=lambda: {"q1": 6.0, "q2": 4.0, "q3": 15.0, "ec": 2.5})
    questions: tuple[str, ...] = ALL_QUESTIONS
    decimals: int = 4
    course_name: str = "Deep Learning"
    course_number: str = ""
    title: str = "Problem Set 2"
    due: str = ""
    grading: dict = field(default_factory=dict)  # the [grading] table, validated on load
    # The file's name, for messages; not part of what the batch identity hashes (repr).
    source: str = field(default="config", repr=False, compare=False)

    def includes(self, q: str) -> bool:
        return q in self.questions

    def q3_points_each(self) -> float:
        return self.points["q3"] / 2

    def ec_points_each(self) -> float:
        return self.points["ec"] / 2

    def grading_config(self):
        from .grading import GradingConfig
        return GradingConfig.from_table(self.grading, self.source) if self.grading else GradingConfig()

    def tolerance_text(self) -> str:
        g = self.grading_config()
        return f"{g.atol:g} + {g.rtol * 100:g}% of its size"


DEFAULT_CONFIG = Config()

# table -> key -> (type check, Config/Options field, converter)
_STR = (str,)
_NUM = (int, float)


def _num_list(v):
    return isinstance(v, list) and v and all(isinstance(x, int) and not isinstance(x, bool) for x in v)


SCHEMA = {
    "course": {"name": "course_name", "number": "course_number", "title": "title", "due": "due"},
    "questions": {"include": "questions"},
    "points": {"q1": "q1", "q2": "q2", "q3": "q3", "ec": "ec"},
    "format": {"decimals": "decimals"},
    "mlp": {"inputs": "mlp_inputs", "hidden": "mlp_hidden", "layers": "mlp_layers", "leaky_slope": "leaky_alpha"},
    "dag": {"hidden": "dag_hidden"},
    "values": {"min": "value_min", "max": "value_max", "step": "value_step"},
    "grading": None,  # checked by the grader, which owns its keys
}

INT_CHOICES = {"mlp_inputs": range(1, 5), "mlp_hidden": range(1, 5), "mlp_layers": range(1, 3),
               "dag_hidden": range(4, 7)}


def load_config(path: str | Path) -> Config:
    path = Path(path)
    name = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{name}: not UTF-8 text (byte {e.start})") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{name}: {e}") from None
    return config_from_dict(data, name)


def config_from_dict(data: dict, name: str = "config") -> Config:
    course, points, options, grading = {}, dict(DEFAULT_CONFIG.points), {}, {}
    for table, value in data.items():
        if table not in SCHEMA:
            raise ConfigError(f"{name}: unknown table [{table}] (known: {', '.join(SCHEMA)})")
        if not isinstance(value, dict):
            raise ConfigError(f"{name}: {table} must be a table, [{table}]")
        if SCHEMA[table] is None:
            from .grading import GradingConfig
            GradingConfig.from_table(value, name)  # fail now, not at grading time
            grading = value
            continue
        for key, v in value.items():
            where = f"{name}: [{table}].{key}"
            if key not in SCHEMA[table]:
                raise ConfigError(f"{where} is not a known key (known: {', '.join(SCHEMA[table])})")
            target = SCHEMA[table][key]
            if table == "course":
                if not isinstance(v, str):
                    raise ConfigError(f"{where} must be a string")
                course[target] = v
            elif table == "points":
                if not isinstance(v, _NUM) or isinstance(v, bool) or not 0 <= v <= 1000:
                    raise ConfigError(f"{where} must be a number from 0 to 1000, got {v!r}")
                points[target] = float(v)
            elif table == "questions":
                if not isinstance(v, list) or not v or any(q not in ALL_QUESTIONS for q in v) or len(set(v)) != len(v):
                    raise ConfigError(f"{where} must list distinct questions from {list(ALL_QUESTIONS)}, got {v!r}")
                if "ec" in v and "q3" not in v:
                    raise ConfigError(f"{where}: the extra credit (ec) builds on q3; include q3 too")
                course["questions"] = tuple(q for q in ALL_QUESTIONS if q in v)
            elif table == "format":
                if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 8:
                    raise ConfigError(f"{where} must be a whole number from 1 to 8, got {v!r}")
                course["decimals"] = v
            elif target in INT_CHOICES:
                if not _num_list(v) or any(x not in INT_CHOICES[target] for x in v):
                    lo, hi = INT_CHOICES[target][0], INT_CHOICES[target][-1]
                    raise ConfigError(f"{where} must be a list of whole numbers from {lo} to {hi}, got {v!r}")
                options[target] = tuple(v)
            else:
                if not isinstance(v, _NUM) or isinstance(v, bool):
                    raise ConfigError(f"{where} must be a number, got {v!r}")
                options[target] = float(v)
    opts = dataclasses.replace(Options(), **options)
    _check_options(opts, name)
    return Config(options=opts, points=points, grading=grading, source=name, **course)


def _check_options(o: Options, name: str) -> None:
    if not 0 < o.leaky_alpha < 1:
        raise ConfigError(f"{name}: [mlp].leaky_slope must be between 0 and 1, got {o.leaky_alpha}")
    if o.value_step <= 0:
        raise ConfigError(f"{name}: [values].step must be positive, got {o.value_step}")
    if o.value_min >= o.value_max:
        raise ConfigError(f"{name}: [values].min must be below [values].max")
    if sum(1 for v in o.grid() if v != 0) < 4:
        raise ConfigError(f"{name}: [values] allow fewer than 4 non-zero values; widen min/max or shrink step")
