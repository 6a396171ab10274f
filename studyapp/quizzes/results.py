"""What the web UI and the API show of quizzes: plain, typed values built by the selectors.

A QuestionView never holds the answer; feedback (QuestionFeedback) exists only for answered
questions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class QuestionView:
    """A question as a student sees it before answering: no answer, no explanation, no quote."""

    id: int
    position: int  # 0-based, within the quiz or attempt
    type: str  # multiple_choice | true_false | fill_in_blank | short_answer
    prompt: str
    options: list[str]  # the choices for multiple_choice and true_false, else []
    answered: bool = False  # within an attempt


@dataclass(frozen=True)
class QuestionFeedback:
    """One graded answer with everything needed to learn from it."""

    question_id: int
    position: int
    type: str
    prompt: str
    options: list[str]
    response: str
    correct: bool
    score: float
    correct_answer: str
    explanation: str
    page: str  # page label of the citation
    quote: str  # verbatim from that page
    note: str = ""  # e.g. "Accepted despite a small spelling difference ..."


@dataclass(frozen=True)
class AttemptResult:
    attempt_id: int
    quiz_id: int | None  # None for a review across quizzes
    kind: str  # quiz | retry | review
    total: int
    answered: int
    correct: int
    score: float  # sum of scores
    percent: float  # 0..100
    finished: bool
    started_at: datetime
    finished_at: datetime | None
    feedback: list[QuestionFeedback] = field(default_factory=list)  # answered questions, in order
    missed_question_ids: list[int] = field(default_factory=list)  # wrong or (once finished) unanswered
