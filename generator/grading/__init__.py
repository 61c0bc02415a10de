"""The grader: answer sheets, number parsing, tolerance and follow-through credit."""
from .batch import Summary, grade_batch
from .config import GradingConfig
from .numbers import NumberError, parse_number
from .score import CellResult, QuestionGrade, StudentGrade, grade_submission
from .sheet import answer_sheet_columns, merged_columns, write_answer_sheet

__all__ = ["GradingConfig", "NumberError", "parse_number", "CellResult", "QuestionGrade", "StudentGrade",
           "grade_submission", "Summary", "grade_batch", "answer_sheet_columns", "merged_columns",
           "write_answer_sheet"]
