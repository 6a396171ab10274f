"""The NinjaAPI: auth, error handling and the write rate limit for every router, and the routers.

Mounted at /api/ (studyapp/urls.py); interactive docs at /api/docs, the schema at /api/openapi.json
(the only things open without credentials).
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from ninja import NinjaAPI

from studyapp.api import documents, explanations, graphs, jobs, keys, quizzes
from studyapp.api.auth import AUTH
from studyapp.api.errors import install_error_handlers
from studyapp.api.throttling import WriteRateLimit

DESCRIPTION = """
Everything a student does in the web UI, as JSON. Upload a PDF to `/api/documents`, follow its jobs at
`/api/jobs/{id}` (status and live progress: stage, percent, message, eta), then read its concept graph and
ask how two concepts connect. Ask for a quiz (`/api/quizzes`), answer it and get the graded result with the
cited pages; what you missed comes back for review (`/api/reviews`).

**Auth**: an API key (made in the web UI) as `Authorization: Bearer <key>` or `X-API-Key: <key>`, or the
web UI's session cookie with the `X-CSRFToken` header on writes. Everything but these docs needs one.

**Errors** are `{"code", "message"}` with the status that fits: 400 bad input, 401 no credentials, 403 not
allowed (or CSRF), 404 unknown or someone else's id, 409 conflict, 413 too large, 429 too many writes
(with `Retry-After`), 503 try again later.
"""

class StudyappAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        # The handler's own name (document_upload, job_get, ...): short, unique, and the same as the
        # jobs.pipelines function it calls where there is one.
        return operation.view_func.__name__


api = StudyappAPI(
    title="studyapp API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=AUTH,
    throttle=WriteRateLimit(),
)
install_error_handlers(api)

api.add_router("/documents", documents.router)
api.add_router("/documents", graphs.router)
api.add_router("/explanations", explanations.router)
api.add_router("/jobs", jobs.router)
api.add_router("/keys", keys.router)
api.add_router("/quizzes", quizzes.router)
api.add_router("/attempts", quizzes.attempts_router)
api.add_router("/reviews", quizzes.reviews_router)


def unknown_route(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any other URL under /api/: a 404 in the API's error shape, not Django's HTML page."""
    return JsonResponse({"code": "not_found", "message": f"No such API route: /api/{path}"}, status=404)
