"""A student's script against the REST API: upload a PDF, follow its jobs, read the graph, ask why, take a quiz.

    python samples/api_client.py --url http://127.0.0.1:8000 --key sa_... lecture.pdf [--password P]

Standard library only, so it runs anywhere. Each step prints one JSON line (`{"step": ...}`); the exit
status is 0 when the whole flow worked, 1 when a job failed (its error is printed), 2 on HTTP errors.
The key comes from the web UI (or `--key` / the STUDYAPP_API_KEY environment variable).
The quiz step asks for the document's quiz, answers every question with a naive guess (the first
option, "True", or "I don't know"), and prints the graded result: what was right, the correct
answers and the pages they are cited from.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path


class ApiError(Exception):
    def __init__(self, status: int, body: dict):
        super().__init__(f"HTTP {status}: {body.get('code')}: {body.get('message')}")
        self.status = status
        self.body = body


class Client:
    """The few calls the flow needs; errors come back as `{code, message}` and raise ApiError."""

    def __init__(self, url: str, key: str, timeout: float = 30.0):
        self.url = url.rstrip("/") + "/api"
        self.key = key
        self.timeout = timeout

    def request(self, method: str, path: str, *, json_body: dict | None = None,
                multipart: tuple[bytes, str] | None = None) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {self.key}", "Accept": "application/json"}
        data = None
        if json_body is not None:
            data, headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
        if multipart is not None:
            data, headers["Content-Type"] = multipart
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else {}
        except urllib.error.HTTPError as exc:
            body = json.loads(exc.read() or b"{}")
            raise ApiError(exc.code, body) from None

    def upload(self, path: Path, password: str = "") -> dict:
        fields = {"password": password} if password else {}
        return self.request("POST", "/documents", multipart=encode_multipart(fields, "file", path))[1]

    def job(self, job_id: str) -> dict:
        return self.request("GET", f"/jobs/{job_id}")[1]

    def wait(self, job_id: str, *, poll_s: float = 0.5, timeout_s: float = 300.0) -> dict:
        """Poll the job until it has finished; prints each new stage."""
        deadline, last = time.monotonic() + timeout_s, None
        while True:
            job = self.job(job_id)
            seen = (job["status"], job["stage"])
            if seen != last:
                emit("progress", job=job["kind"], status=job["status"], stage=job["stage"], percent=job["percent"])
                last = seen
            if job["finished"]:
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {job['status']} after {timeout_s:.0f} s")
            time.sleep(poll_s)


def encode_multipart(fields: dict[str, str], file_field: str, path: Path) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{path.name}"\r\n'
                 f"Content-Type: application/pdf\r\n\r\n".encode() + path.read_bytes() + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def emit(step: str, **fields) -> None:
    print(json.dumps({"step": step, **fields}), flush=True)


def flow(client: Client, pdf: Path, password: str = "") -> int:
    document = client.upload(pdf, password)
    emit("uploaded", document_id=document["id"], status=document["status"],
         jobs=[job["kind"] for job in document["jobs"]])
    for queued in document["jobs"]:
        job = client.wait(queued["id"])
        if job["status"] != "succeeded":
            emit("failed", job=job["kind"], error=job["error"])
            return 1
    graph = client.request("GET", f"/documents/{document['id']}/graph")[1]
    emit("graph", graph_id=graph["id"], concepts=len(graph["concepts"]), relations=len(graph["relations"]),
         top=[concept["name"] for concept in graph["concepts"][:5]])
    if not graph["relations"]:
        emit("done", explanation=None)
        return 0
    relation = graph["relations"][0]
    pair = {"source_id": relation["source_id"], "target_id": relation["target_id"]}
    status, answer = client.request("POST", "/explanations", json_body=pair)
    if status == 202:
        job = client.wait(answer["job"]["id"])
        if job["status"] != "succeeded":
            emit("failed", job=job["kind"], error=job["error"])
            return 1
        status, answer = client.request("POST", "/explanations", json_body=pair)
    explanation = answer["explanation"]
    emit("explanation", explanation_id=explanation["id"], source=explanation["source"]["name"],
         target=explanation["target"]["name"], text=explanation["text"],
         pages=[citation["page"] for citation in explanation["citations"]])
    if not take_quiz(client, document["id"]):
        return 1
    emit("done", document_id=document["id"])
    return 0


def guess(question: dict) -> str:
    """What a script that has not studied answers: the first option, or a shrug."""
    return question["options"][0] if question["options"] else "I don't know"


def take_quiz(client: Client, document_id: int) -> bool:
    """Ask for the document's quiz (the upload already asked for it: the same quiz), answer it, show the grade."""
    status, answer = client.request("POST", "/quizzes", json_body={"document_id": document_id})
    if status == 202:
        job = client.wait(answer["job"]["id"])
        if job["status"] != "succeeded":
            emit("failed", job=job["kind"], error=job["error"])
            return False
    quiz = client.request("GET", f"/quizzes/{answer['quiz']['id']}")[1]
    emit("quiz", quiz_id=quiz["id"], questions=len(quiz["questions"]), difficulty=quiz["difficulty"],
         types=sorted({question["type"] for question in quiz["questions"]}))
    answers = [{"question_id": question["id"], "response": guess(question)} for question in quiz["questions"]]
    result = client.request("POST", f"/quizzes/{quiz['id']}/attempts", json_body={"answers": answers})[1]
    emit("result", attempt_id=result["attempt_id"], correct=result["correct"], total=result["total"],
         percent=result["percent"], missed=len(result["missed_question_ids"]),
         feedback=[{"question_id": f["question_id"], "correct": f["correct"], "correct_answer": f["correct_answer"],
                    "page": f["citation"]["page"]} for f in result["feedback"]])
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pdf", type=Path)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--key", default=os.environ.get("STUDYAPP_API_KEY", ""))
    parser.add_argument("--password", default="")
    args = parser.parse_args(argv)
    if not args.key:
        parser.error("an API key is needed: --key or STUDYAPP_API_KEY (make one in the web UI)")
    try:
        return flow(Client(args.url, args.key), args.pdf, args.password)
    except (ApiError, TimeoutError, urllib.error.URLError) as exc:
        emit("error", message=str(exc))
        return 2


if __name__ == "__main__":
    sys.exit(main())
