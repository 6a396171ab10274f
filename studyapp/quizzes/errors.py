"""What can go wrong with quizzes, in words a student understands."""

from studyapp.core.errors import PermanentError


class QuizError(PermanentError):
    """A quiz request or action that cannot succeed as asked."""


class NotEnoughMaterial(QuizError):
    """The document's graph gives nothing to ask about."""


class QuizNotReady(QuizError):
    """The quiz is still being written, or writing it failed."""


class NotYours(QuizError):
    """The quiz or attempt belongs to another student."""


class AttemptFinished(QuizError):
    """The attempt has been submitted; start a new one."""


class NothingToReview(QuizError):
    """No missed questions to retry, or nothing due for review."""
