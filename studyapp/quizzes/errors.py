"""What can go wrong with quizzes, in words a student understands.

Each error also says its nature through studyapp.core.errors (a request that does not fit the
current state is a Conflict, someone else's quiz a NotFound), so interfaces answer it correctly
without a list of quiz errors of their own (the REST API: 409 and 404).
"""

from studyapp.core.errors import Conflict, NotFound, PermanentError


class QuizError(PermanentError):
    """A quiz request or action that cannot succeed as asked."""


class NotEnoughMaterial(QuizError):
    """The document's graph gives nothing to ask about."""


class DocumentFailed(QuizError, Conflict):
    """The document could not be processed, so there is nothing to write a quiz from."""


class QuizNotReady(QuizError, Conflict):
    """The quiz is still being written, or writing it failed."""


class NotYours(QuizError, NotFound):
    """The quiz or attempt belongs to another student."""


class AttemptFinished(QuizError, Conflict):
    """The attempt has been submitted; start a new one."""


class NothingToReview(QuizError, Conflict):
    """No missed questions to retry, or nothing due for review."""
