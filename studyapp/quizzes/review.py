"""Spaced repetition of missed questions, per student and question, with FSRS (`fsrs` package).

A question gets a card the first time the student misses it; from then on every answer to it, in
any attempt, is a review: Again when wrong, Hard when right only thanks to typo tolerance, Good
when right. A missed question is due again 10 minutes later (so it is "due today"), then after
about a day, then at growing intervals while it keeps being answered right.
Questions answered right the first time get no card: they are not what a student needs to review.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fsrs import Card, Rating, Scheduler

from studyapp.quizzes.models import Question, ReviewCard

STEP = timedelta(minutes=10)
# No fuzzing: a student (and a test) can be told exactly when a question comes back.
SCHEDULER = Scheduler(desired_retention=0.9, learning_steps=(STEP,), relearning_steps=(STEP,), enable_fuzzing=False)


def rating_for(*, correct: bool, exact: bool) -> Rating:
    if not correct:
        return Rating.Again
    return Rating.Good if exact else Rating.Hard


def review_record(*, student, question: Question, correct: bool, exact: bool, at: datetime) -> ReviewCard | None:
    """Schedule the question's next review after this answer. None if it needs none (never missed)."""
    row = ReviewCard.objects.filter(student=student, question=question).first()
    if row is None and correct:
        return None
    card = Card.from_dict(row.card) if row is not None else Card(due=at)
    rating = rating_for(correct=correct, exact=exact)
    card, _log = SCHEDULER.review_card(card, rating, review_datetime=at)
    values = {"card": card.to_dict(), "due": card.due, "state": card.state.value, "last_review": at,
              "last_rating": rating.value}
    if row is None:
        return ReviewCard.objects.create(student=student, question=question, reps=1, lapses=1, **values)
    row.reps += 1
    row.lapses += 0 if correct else 1
    for name, value in values.items():
        setattr(row, name, value)
    row.save()
    return row
