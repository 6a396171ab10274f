"""Writing a quiz with the domain service (no Redis): stages, counts, stats, idempotency."""

from __future__ import annotations

import pytest

from studyapp.ai.providers import get_provider
from studyapp.ai.schemas import QuestionType
from studyapp.quizzes.errors import QuizError
from studyapp.quizzes.models import Quiz
from studyapp.quizzes.services import quiz_create, quiz_generate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _one_call_at_a_time(settings):
    """Provider calls in this thread: pool threads could not write inside the test's transaction
    (the threaded path is covered by the job tests)."""
    settings.AI_CONCURRENCY = 1


class Recorder:
    def __init__(self):
        self.stages: list[str] = []

    def __call__(self, stage, *, done=None, total=None, message=""):
        self.stages.append(stage)


def new_quiz(document, **options) -> Quiz:
    quiz, _ = quiz_create(document=document, owner=document.owner, provider="local", model="local-1", **options)
    return quiz


def test_it_writes_the_questions_asked_for_with_the_stages_in_order(cell_graph):
    """10 questions of all four types; stages: selecting concepts, writing questions i/n, validating, saving."""
    document, graph = cell_graph
    quiz = new_quiz(document, count=10)
    progress = Recorder()
    stats = quiz_generate(quiz=quiz, provider=get_provider("local"), progress=progress)
    quiz.refresh_from_db()
    assert quiz.status == "ready" and quiz.graph == graph
    assert stats["requested"] == 10 and stats["saved"] == quiz.questions.count() == 10
    assert set(stats["by_type"]) == {t.value for t in QuestionType}
    assert stats["dropped"] == sum(stats["dropped_reasons"].values())
    assert progress.stages[0] == "selecting concepts"
    assert progress.stages[1:4] == ["writing questions 0/2", "writing questions 1/2", "writing questions 2/2"]
    assert progress.stages[4] == "validating" and progress.stages[-1] == "saving"
    assert list(quiz.questions.values_list("position", flat=True)) == list(range(10))
    for question in quiz.questions.all():
        assert question.concepts.exists(), question.prompt
        assert question.explanation and question.page and question.quote


def test_the_quiz_says_how_many_questions_it_got(cell_graph):
    """Asking for more than the material holds: fewer are saved, and the stats say so."""
    document, _ = cell_graph
    quiz = new_quiz(document, count=40, types=["short_answer"])
    stats = quiz_generate(quiz=quiz, provider=get_provider("local"))
    assert 0 < stats["saved"] < 40 == stats["requested"]
    assert stats["rounds"] == 2, "a second round was asked for the missing questions"
    assert Quiz.objects.get(pk=quiz.pk).question_count == stats["saved"]


def test_only_the_requested_types_are_written(cell_graph):
    """A multiple-choice quiz has only multiple-choice questions, with the difficulty's number of options."""
    document, _ = cell_graph
    quiz = new_quiz(document, count=5, types=["multiple_choice"], difficulty="hard")
    quiz_generate(quiz=quiz, provider=get_provider("local"))
    options = [len(q.options) for q in quiz.questions.all()]
    assert set(quiz.questions.values_list("type", flat=True)) == {"multiple_choice"}
    assert options and set(options) == {5}


def test_the_same_request_is_the_same_quiz_and_is_written_once(cell_graph):
    """quiz_create is idempotent; generating a ready quiz again changes nothing."""
    document, _ = cell_graph
    first = new_quiz(document, count=4, types=["fill_in_blank", "true_false"])
    again = new_quiz(document, count=4, types=["true_false", "fill_in_blank"])  # same types, other order
    assert again.pk == first.pk
    quiz_generate(quiz=first, provider=get_provider("local"))
    prompts = list(first.questions.values_list("pk", "prompt"))
    first.refresh_from_db()
    assert quiz_generate(quiz=first, provider=get_provider("local")) == first.stats
    assert list(first.questions.values_list("pk", "prompt")) == prompts
    assert new_quiz(document, count=5, types=["fill_in_blank", "true_false"]).pk != first.pk


@pytest.mark.parametrize("options, message", [
    ({"count": 0}, "between 1 and 50"), ({"count": 51}, "between 1 and 50"),
    ({"difficulty": "insane"}, "easy, medium or hard"), ({"types": ["essay"]}, "Unknown question type 'essay'"),
])
def test_impossible_requests_are_refused_with_a_clear_message(cell_graph, options, message):
    """Bad counts, difficulties and types never reach a job."""
    with pytest.raises(QuizError, match=message):
        new_quiz(cell_graph[0], **options)
