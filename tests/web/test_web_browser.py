"""A new student in a real browser (Debian's chromium through Playwright), with real worker processes.

Sign up; upload a PDF while no worker runs and cancel and retry its job in the job panel; drop a
second PDF (the 117-page GeoTopo notes) on the upload zone and watch both pipelines reach done
without a reload; open the graph, select a concept by mouse and by keyboard, explain a connection
and read its cited pages; take the automatic quiz of the first PDF (one question at a time, then
the rest all at once), read the score and feedback, retry the missed question.

SCREENSHOTS=1 saves docs/screenshots/web-*.png and quiz-*.png at laptop and phone widths.
"""

from __future__ import annotations

import base64
import os

import pytest
from django.utils import timezone

from jobs.models import JobRun
from studyapp.documents.models import Document
from studyapp.graphs.services import current_graph
from studyapp.quizzes.models import Question, Quiz, QuizAttempt, ReviewCard
from tests.browser import browser, mark_page, page, page_was_not_reloaded, poll, screenshot  # noqa: F401
from tests.conftest import pdf_path
from tests.web.helpers import SAMPLE

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
READ_PIPELINE = """(id) => {
  const el = document.getElementById(`doc-live-${id}`);
  if (!el) { return null; }
  return {live: el.dataset.live, steps: Array.from(el.querySelectorAll("li.step")).map((li) => ({
    kind: li.dataset.kind, status: li.dataset.status, value: li.querySelector("progress").value,
    stage: (li.querySelector(".stage") || {}).textContent || ""}))};
}"""
READ_ROW = """(id) => { const row = document.getElementById(`job-${id}`); return row && row.dataset.status; }"""
DROP_FILE = """([selector, name, data]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, {type: "application/pdf"}));
  const zone = document.querySelector(selector);
  for (const type of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
  }
}"""


@pytest.fixture(autouse=True)
def _fast_polling(settings):
    """The live parts poll every 200 ms here (1 s in production): the test sees the bars move."""
    settings.WEB_POLL_INTERVAL_MS = 200


def sign_up(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/")
    assert page.url.startswith(f"{base}/login/")
    page.click("text=Create an account")
    page.fill("#id_username", username)
    page.fill("#id_password1", password)
    page.fill("#id_password2", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == f"{base}/"
    assert page.locator(".message-success").inner_text().startswith(f"Welcome, {username}.")


def test_a_new_student_uploads_watches_progress_explores_the_graph_and_explains_a_connection(
    page, live_server, start_worker
):
    base = live_server.url
    # A poll in flight when the student navigates away is aborted by the browser: not an error.
    aborted: list[str] = []
    # Any HTMX poll (an XHR: a /live/ fragment or a job card) counts, not a page or an asset.
    page.on("requestfailed", lambda request: request.failure == "net::ERR_ABORTED"
            and request.resource_type in ("xhr", "fetch")
            and aborted.append(f"failed: {request.method} {request.url}"))
    sign_up(page, base, "nina", "a-long-pass-phrase-7")

    # 1. Upload through the file input while no worker runs: the job waits, so it can be cancelled.
    page.set_input_files("#id_file", str(SAMPLE))
    assert page.locator("[data-dropzone-file]").inner_text() == "Selected: cell-biology-notes.pdf"
    with page.expect_navigation():
        page.click("button:text('Upload')")
    cells = Document.objects.get(title="cell-biology-notes")
    extraction = JobRun.objects.get(kind="extract_document", subject_id=cells.pk)
    graph_run = JobRun.objects.get(kind="generate_graph", subject_id=cells.pk)

    # 2. The job panel: cancel the queued extraction (its graph is cancelled with it), then retry it.
    with page.expect_navigation():
        page.click("nav.site-nav >> text=Jobs")
    mark_page(page)
    page.click(f"#job-{extraction.pk} button:text('Cancel')")
    poll(lambda: (page.evaluate(READ_ROW, str(extraction.pk)), page.evaluate(READ_ROW, str(graph_run.pk))),
         lambda states: states == ("cancelled", "cancelled"), timeout=10, what="both rows to show cancelled")
    page.click(f"#job-{extraction.pk} button:text('Retry')")
    poll(lambda: page.evaluate(READ_ROW, str(extraction.pk)), lambda s: s == "queued", timeout=10,
         what="the retried row to show queued")
    assert page_was_not_reloaded(page)
    graph_run.refresh_from_db()
    assert graph_run.status == "queued"  # retried behind its upstream

    # 3. Drop the second PDF on the upload zone; start the workers; watch both pipelines finish.
    with page.expect_navigation():
        page.click("nav.site-nav >> text=Library")
    geotopo_bytes = pdf_path("GeoTopo-komprimiert.pdf").read_bytes()
    page.evaluate(DROP_FILE, ["[data-dropzone]", "GeoTopo.pdf", base64.b64encode(geotopo_bytes).decode()])
    assert page.locator("[data-dropzone-file]").inner_text() == "Selected: GeoTopo.pdf"
    page.fill("#id_title", "Geometrie und Topologie")
    with page.expect_navigation():
        page.click("button:text('Upload')")
    geotopo = Document.objects.get(title="Geometrie und Topologie")
    mark_page(page)
    start_worker()

    shots: set[str] = set()

    def read_cards() -> dict:
        states = {doc.pk: page.evaluate(READ_PIPELINE, doc.pk) for doc in (cells, geotopo)}
        extract = states[geotopo.pk]["steps"][0]
        if "library" not in shots and 20 <= extract["value"] <= 80:
            screenshot(page, "web-library-progress.png")
            shots.add("library")
        return states

    seen = poll(read_cards, lambda states: all(s["live"] == "0" for s in states.values()), timeout=120,
                what="both pipelines to finish")
    final = seen[-1]
    for doc in (cells, geotopo):
        assert [(s["kind"], s["status"], s["value"]) for s in final[doc.pk]["steps"]] == [
            ("extract_document", "succeeded", 100), ("generate_graph", "succeeded", 100),
            ("create_quiz", "succeeded", 100)]
    values = [s[geotopo.pk]["steps"][0]["value"] for s in seen]
    assert values == sorted(values), f"the bar never goes back: {values}"
    assert len({v for v in values if 0 < v < 100}) >= 3, f"expected to watch the bar move: {values}"
    assert any(s[geotopo.pk]["steps"][0]["stage"].startswith("extracting page") for s in seen)
    assert page_was_not_reloaded(page)

    # 4. The document page: the graph, a concept by click, another by keyboard.
    with page.expect_navigation():
        page.click(f"a:text('Geometrie und Topologie')")
    graph = current_graph(geotopo)
    relation = graph.relations.select_related("source", "target").first()
    nodes = page.locator("svg.graph g.node")
    nodes.first.wait_for()  # the click only starts the navigation; count on the new page
    assert nodes.count() == min(40, graph.concepts.count())
    page.click(f"#node-{relation.source_id}")
    panel = page.locator("#concept-panel")
    panel.locator(f"h3:text-is('{relation.source.name}')").wait_for()
    assert relation.quote[:30] in panel.inner_text()
    assert page.get_attribute(f"#node-{relation.source_id}", "class") == "node selected"

    page.focus(f"#node-{relation.target_id}")
    page.keyboard.press("Enter")
    panel.locator(f"h3:text-is('{relation.target.name}')").wait_for()

    # 5. Explain the connection: live progress, then the explanation with its cited pages.
    mark_page(page)
    page.select_option(f"#explain-with-{relation.target_id}", str(relation.source_id))
    page.click(".explain-inline button:text('Explain')")
    explanation = page.locator("#explanation article.explanation")
    explanation.wait_for(timeout=30_000)
    citations = explanation.locator(".citation")
    assert citations.count() >= 1
    assert citations.first.locator(".page-chip").inner_text().startswith("p. ")
    assert page_was_not_reloaded(page)
    assert JobRun.objects.get(kind="explain_connection").status == "succeeded"
    page.evaluate("() => document.getElementById('graph-section').scrollIntoView()")
    screenshot(page, "web-document.png")

    # A cited page opens on the screen of pages that holds it.
    label = citations.first.locator(".page-chip").inner_text().removeprefix("p. ")
    with page.expect_navigation():
        citations.first.locator(".page-chip").click()
    assert page.locator(".doc-page:target h3").inner_text() == f"Page {label}"

    # A link to a concept (how the concept list works without JavaScript) opens it highlighted.
    page.goto(f"{base}/documents/{geotopo.pk}/?concept={relation.target_id}")
    assert page.locator("#concept-panel h3").inner_text() == relation.target.name
    assert page.get_attribute(f"#node-{relation.target_id}", "class") == "node selected"
    assert [e for e in page.console_errors if e not in aborted] == [], page.console_errors

    # 6. The automatic quiz of the first PDF: take it, see the score and feedback, retry what was missed.
    result_url = _take_the_automatic_quiz(page, base, cells)
    assert [e for e in page.console_errors if e not in aborted] == [], page.console_errors

    if os.environ.get("SCREENSHOTS") == "1":
        assert "library" in shots, "no mid-extraction screenshot of the library"
        _screenshots(page, base, geotopo, relation)
        _quiz_screenshots(page, base, cells, result_url)


def _screenshots(page, base: str, document: Document, relation) -> None:
    """The main pages at laptop width (this page) and phone width (a new context, same session)."""
    page.goto(f"{base}/documents/{document.pk}/?concept={relation.source_id}#concept-panel")
    screenshot(page, "web-document-concept.png")
    page.goto(f"{base}/jobs/")
    screenshot(page, "web-jobs.png")
    phone = page.context.browser.new_context(viewport=PHONE, storage_state=page.context.storage_state())
    try:
        small = phone.new_page()
        for name, url in (("library", "/"), ("document", f"/documents/{document.pk}/"), ("jobs", "/jobs/")):
            small.goto(f"{base}{url}")
            screenshot(small, f"web-{name}-phone.png")
        small.goto(f"{base}/documents/{document.pk}/?concept={relation.source_id}#concept-panel")
        screenshot(small, "web-concept-phone.png")
        logged_out = page.context.browser.new_context(viewport=PHONE).new_page()
        logged_out.goto(f"{base}/signup/")
        screenshot(logged_out, "web-signup-phone.png")
        logged_out.context.close()
    finally:
        phone.close()


def _answer(page, question: Question, response: str) -> None:
    """Answer the question on screen: pick its option by its label, or type into its labelled field."""
    if question.type in ("multiple_choice", "true_false"):
        page.locator("#attempt-panel fieldset").get_by_label(response, exact=True).check()
    else:
        page.locator("#attempt-panel label[for='response-input']").wait_for()
        page.fill("#response-input", response)


def _wrong(question: Question) -> str:
    if question.type == "multiple_choice":
        return next(option for option in question.options if option != question.answer)
    if question.type == "true_false":
        return "False" if question.answer == "True" else "True"
    return "no idea"


def _take_the_automatic_quiz(page, base: str, document: Document) -> str:
    """One question at a time for the first three (the second one wrong, the third by keyboard),
    the rest all at once; the result; the retry of the missed question. Returns the result's URL."""
    quiz = Quiz.objects.get(document=document)
    questions = list(quiz.questions.order_by("position"))
    with page.expect_navigation():
        page.click("nav.site-nav >> text=Library")
    with page.expect_navigation():
        page.click(f"a:text('{document.title}')")
    card = page.locator(f"#quiz-{quiz.pk}")
    assert card.get_attribute("data-status") == "ready" and "10 questions" in card.inner_text()
    page.evaluate("() => document.getElementById('quiz-section').scrollIntoView()")

    # Ask for 5 easy true/false questions: the card appears and turns ready without a reload, and
    # the pipeline at the top shows the new run; the same request again shows the same quiz.
    mark_page(page)
    page.fill("#quiz-count", "5")
    page.get_by_label("Easy").check()
    for label in ("Multiple choice", "Fill in the blank", "Short answer"):
        page.locator("#quiz-section").get_by_label(label).uncheck()
    page.click("button:text('Write the quiz')")
    page.locator("#quiz-notice:text('Your quiz is being written')").wait_for()
    asked = Quiz.objects.get(document=document, count=5)
    poll(lambda: page.get_attribute(f"#quiz-{asked.pk}", "data-status"), lambda s: s == "ready", timeout=30,
         what="the new quiz's card to show ready")
    run = JobRun.objects.get(kind="create_quiz", subject_id=asked.pk)
    step = f"#doc-live-{document.pk} li[data-kind='create_quiz']"
    poll(lambda: (page.get_attribute(step, "data-run"), page.get_attribute(step, "data-status")),
         lambda state: state == (str(run.pk), "succeeded"), timeout=15, what="the pipeline to show the new run done")
    page.click("button:text('Write the quiz')")
    page.locator("#quiz-notice:text('You asked for this quiz before: here it is')").wait_for()
    page.locator(f"#quiz-{asked.pk}.is-highlighted").wait_for()  # once HTMX has settled the swap
    assert Quiz.objects.filter(document=document).count() == 2 and page_was_not_reloaded(page)
    screenshot(page, "quiz-document.png")
    card.locator("a:text('Take the quiz')").click()
    screenshot(page, "quiz-start.png")
    page.get_by_label("One question at a time").check()
    with page.expect_navigation():
        page.click("button:text('Start the quiz')")
    attempt = QuizAttempt.objects.get(quiz=quiz)
    mark_page(page)

    # Question 1, right: the panel is redrawn with the feedback, the page is not reloaded.
    assert page.locator("[data-where]").inner_text() == "Question 1 of 10"
    screenshot(page, "quiz-question.png")
    _answer(page, questions[0], questions[0].answer)
    page.click("button:text('Check the answer')")
    page.locator(".feedback.is-right").wait_for()
    page.wait_for_function("() => document.activeElement.id === 'question-title'")  # focus follows the swap
    screenshot(page, "quiz-feedback-right.png")
    page.click("a:text('Next question →')")
    page.locator("[data-where]:text('Question 2 of 10')").wait_for()

    # Question 2, wrong: the correct answer, the explanation and the cited page.
    _answer(page, questions[1], _wrong(questions[1]))
    page.click("button:text('Check the answer')")
    feedback = page.locator(".feedback.is-wrong")
    feedback.wait_for()
    assert questions[1].answer in feedback.locator(".answer-pair").inner_text()
    assert feedback.locator(".page-chip").inner_text() == f"p. {questions[1].page}"
    screenshot(page, "quiz-feedback-wrong.png")

    # Question 3 by keyboard alone: Tab into its answer, choose or type, Enter to check.
    page.click("a:text('Next question →')")
    page.locator("[data-where]:text('Question 3 of 10')").wait_for()
    # The app moves focus to the new question once HTMX has settled the swap: wait for that, or
    # (on a loaded machine) it lands after the keys below and takes the typed answer with it.
    page.wait_for_function("() => document.activeElement.id === 'question-title'")
    page.keyboard.press("Tab")
    third = questions[2]
    if third.type in ("multiple_choice", "true_false"):
        page.keyboard.press(" ")  # a focused radio is not chosen until Space (or an arrow)
        while page.evaluate("() => document.activeElement.value") != third.answer:
            page.keyboard.press("ArrowDown")
        page.keyboard.press("Tab")
    else:
        page.keyboard.type(third.answer)
    page.keyboard.press("Enter")
    page.locator(".feedback.is-right").wait_for()
    assert page_was_not_reloaded(page)
    assert attempt.answers.filter(answered_at__isnull=False).count() == 3

    # The other seven all at once, on one page, one submit.
    with page.expect_navigation():
        page.click("a[data-mode-link='all']")
    screenshot(page, "quiz-all-at-once.png")
    for question in questions[3:]:
        field = f"q-{question.pk}"
        if question.type in ("multiple_choice", "true_false"):
            page.locator(f"input[name='{field}']").nth(question.options.index(question.answer)).check()
        else:
            page.fill(f"input[name='{field}']", question.answer)
    with page.expect_navigation():
        page.click("button:text('Submit answers')")

    # The result: 9 of 10, a verdict per question, the missed one with its answer and quote.
    assert page.url == f"{base}/attempts/{attempt.pk}/result/"
    assert page.locator(".score-number").inner_text() == "9 of 10"
    assert page.locator(".feedback.is-right").count() == 9
    missed = page.locator(".feedback.is-wrong")
    assert missed.count() == 1 and questions[1].quote in missed.locator("blockquote").inner_text()
    result_url = page.url
    screenshot(page, "quiz-result.png")
    screenshot(page, "quiz-result-full.png", full_page=True)

    # Retry the missed question: an attempt with just that one, in the mode chosen last (all at once).
    with page.expect_navigation():
        page.click("button:text('Retry the 1 missed question')")
    assert page.locator(".question-list .question-card").count() == 1
    assert page.locator(".mode-now").inner_text() == "All questions on one page"
    page.locator(f"input[name='q-{questions[1].pk}'][value='{questions[1].answer}']").check()
    with page.expect_navigation():
        page.click("button:text('Submit answers')")
    assert page.locator(".score-number").inner_text() == "1 of 1"
    assert "Every question right." in page.locator(".score-card").inner_text()
    retry = QuizAttempt.objects.get(kind="retry")
    assert retry.retry_of_id == attempt.pk and retry.correct == 1
    return result_url


def _quiz_screenshots(page, base: str, document: Document, result_url: str) -> None:
    """The quiz pages at laptop width (the reviews made due now) and at phone width."""
    ReviewCard.objects.update(due=timezone.now())
    page.goto(f"{base}/quizzes/")
    screenshot(page, "quiz-quizzes.png")
    quiz = Quiz.objects.filter(document=document).earliest("created_at")  # the automatic one
    phone = page.context.browser.new_context(viewport=PHONE, storage_state=page.context.storage_state())
    try:
        small = phone.new_page()
        small.goto(f"{base}/quizzes/")
        screenshot(small, "quiz-quizzes-phone.png")
        small.goto(f"{base}/documents/{document.pk}/#quiz-section")
        screenshot(small, "quiz-document-phone.png")
        small.goto(f"{base}/quizzes/{quiz.pk}/")
        screenshot(small, "quiz-start-phone.png")
        small.get_by_label("One question at a time").check()
        with small.expect_navigation():
            small.click("button:text('Start the quiz')")
        screenshot(small, "quiz-question-phone.png")
        small.click("button:text('Check the answer')")  # nothing chosen: the question says so
        small.locator(".error").wait_for()
        screenshot(small, "quiz-question-error-phone.png")
        attempt = QuizAttempt.objects.filter(quiz=quiz).order_by("-pk").first()
        question = attempt.answers.get(position=0).question
        _answer(small, question, _wrong(question))
        small.click("button:text('Check the answer')")
        small.locator(".feedback.is-wrong").wait_for()
        screenshot(small, "quiz-feedback-phone.png")
        small.goto(f"{base}/attempts/{attempt.pk}/?mode=all")
        screenshot(small, "quiz-all-at-once-phone.png")
        small.goto(result_url)
        screenshot(small, "quiz-result-phone.png")
        screenshot(small, "quiz-result-phone-full.png", full_page=True)
    finally:
        phone.close()
