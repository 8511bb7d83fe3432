"""The HTTP service: POST /predict, GET /health, GET /metadata, and OpenAPI docs at /docs (served offline).

Only `load_predictor` and `predict_proba` are used, so every registry method (and every ONNX export) serves.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from fastapi import FastAPI, HTTPException, Request, Security
from fastapi.security import APIKeyHeader
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tunetext import __version__
from tunetext.io import read_json
from tunetext.methods.base import METADATA_FILE
from tunetext.prediction import Predictor, load_predictor
from tunetext.serve.batcher import MicroBatcher, QueueFull
from tunetext.serve.guard import API_KEY_HEADER, BodyGuard
from tunetext.serve.settings import ServeSettings

PUBLIC_PATHS = ("/health", "/docs", "/redoc", "/openapi.json")
"""Open without the API key: liveness, and the API's description (its assets are under /docs/)."""


class PredictRequest(BaseModel):
    """One text (`text`) or a batch (`texts`)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"text": "What is the capital of Peru?"},
                                                                              {"texts": ["great film", "dull plot"]}]})
    text: Optional[str] = None
    texts: Optional[list[str]] = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_of(self) -> "PredictRequest":
        if (self.text is None) == (self.texts is None):
            raise ValueError("send exactly one of 'text' (a string) or 'texts' (a non-empty list of strings)")
        return self

    def all_texts(self) -> list[str]:
        return [self.text] if self.texts is None else self.texts


class Prediction(BaseModel):
    label: str | None = Field(None, description="The predicted label (absent for a multi-label model).")
    labels: list[str] | None = Field(None, description="A multi-label model's predicted labels, each whose probability "
                                                       "reached its tuned threshold (absent for a single-label model).")
    probabilities: dict[str, float] = Field(description="One per label, in the model's label order; they sum to 1, "
                                                        "except for a multi-label model (one independent probability per label).")


class PredictResponse(BaseModel):
    predictions: list[Prediction] = Field(description="One per input text, in input order.")


def create_app(settings: ServeSettings, predictor: Predictor | None = None) -> FastAPI:
    """The service for `settings.model_dir`; `predictor` replaces the loaded model (tests use a slow one)."""
    # The backend actually loaded: with "auto", a damaged ONNX export falls back to the saved method.
    predictor = predictor or load_predictor(settings.model_dir, settings.backend, settings.task)
    backend = getattr(predictor, "backend", "torch")
    labels = [str(label) for label in predictor.classes_]
    metadata = describe(Path(settings.model_dir), backend, settings, labels)
    access = logging.getLogger("tunetext.access")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        handler = logging.FileHandler(settings.access_log) if settings.access_log else logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
        access.setLevel(logging.INFO)
        access.propagate = False
        app.state.batcher = MicroBatcher(predictor.predict_proba, max_batch_size=settings.max_batch_size,
                                         max_wait_ms=settings.max_wait_ms, max_queue=settings.max_queue)
        app.state.batcher.start()
        try:
            yield
        finally:
            await app.state.batcher.stop()
            access.removeHandler(handler)
            handler.close()

    # FastAPIOffline serves the Swagger UI and ReDoc assets from its package, not a CDN: /docs works offline.
    app = FastAPIOffline(title=f"tunetext: {metadata['method']}", version=__version__, lifespan=lifespan,
                         static_url="/docs/assets", description=f"Backend: {backend}. Labels and metrics: GET /metadata.")
    # Added before the access log, so it runs inside it: refused requests are logged too.
    app.add_middleware(BodyGuard, api_key=settings.api_key, max_body_bytes=settings.max_body_bytes,
                       public_paths=PUBLIC_PATHS)

    @app.middleware("http")
    async def access_log(request: Request, call_next):
        """One JSON line per request; texts are never logged, only how many there were."""
        start = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            access.info(json.dumps({
                "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                "client": request.client.host if request.client else None,
                "method": request.method,
                "path": request.url.path,
                "status": status,
                "ms": round((time.perf_counter() - start) * 1000, 2),
                "texts": getattr(request.state, "texts", None),
            }))

    # BodyGuard checks the key; declaring the header here only documents it (and gives /docs its Authorize button).
    keyed = [Security(APIKeyHeader(name=API_KEY_HEADER, auto_error=False))] if settings.api_key else []

    @app.post("/predict", response_model=PredictResponse, response_model_exclude_none=True, dependencies=keyed,
              responses={401: {"description": "Missing or wrong API key"},
                         413: {"description": "Too many texts, a text too long, or a body over the size limit"},
                         422: {"description": "Not a valid request, or an empty text"},
                         503: {"description": "Queue full: retry shortly"}})
    async def predict(body: PredictRequest, request: Request) -> PredictResponse:
        """Labels and probabilities for one text or a batch; concurrent requests share model calls.

        The body is read as JSON whatever its Content-Type, so `curl -d '{"text": "..."}'` works as it is."""
        texts = body.all_texts()
        request.state.texts = len(texts)
        check_texts(texts, settings)
        try:
            proba = await request.app.state.batcher.predict(texts)
        except QueueFull as exc:
            raise HTTPException(503, str(exc), headers={"Retry-After": "1"}) from None
        decided = predictor.decide(proba)
        key = "labels" if getattr(predictor, "multilabel_", False) else "label"
        return PredictResponse(predictions=[
            Prediction(**{key: list(d) if key == "labels" else str(d)}, probabilities=dict(zip(labels, row.tolist())))
            for d, row in zip(decided, proba)
        ])

    @app.get("/health")
    async def health(request: Request) -> dict:
        """Liveness for load balancers (no API key): the model is loaded and how many texts are waiting."""
        return {"status": "ok", "queued_texts": request.app.state.batcher.queued}

    @app.get("/metadata", dependencies=keyed)
    async def get_metadata() -> dict:
        """The model's method, labels and backend, the service's limits, and the model's test metrics at training time."""
        return metadata

    return app


def check_texts(texts: list[str], settings: ServeSettings) -> None:
    """What `train` would refuse, or what the limits bound, as a 4xx naming the text."""
    if len(texts) > settings.max_texts:
        raise HTTPException(413, f"{len(texts)} texts in one request; the limit is {settings.max_texts}. "
                                 "Send them in several requests.")
    for i, text in enumerate(texts):
        if len(text) > settings.max_chars:
            raise HTTPException(413, f"text {i} has {len(text):,} characters; the limit is {settings.max_chars:,}. "
                                     "Shorten it (the model reads only the first tokens anyway).")
        if not text.strip():
            raise HTTPException(422, f"text {i} is empty or only whitespace; send texts with words in them.")


def describe(model_dir: Path, backend: str, settings: ServeSettings, labels: list[str]) -> dict:
    """/metadata: what a client needs to call the service and trust its answers, from the model's own files.

    An allow-list, because those files hold what must not leave the machine: hyperparameters with absolute
    paths (a fine-tuned model's checkpoint_dir and log_path) and test-set texts (metrics.json's confident_errors).
    """
    saved = read_json(model_dir / METADATA_FILE)
    return {
        "method": saved["method"],
        "task": settings.task,
        "labels": labels,
        "backend": backend,
        "limits": {"max_texts": settings.max_texts, "max_chars": settings.max_chars,
                   "max_body_bytes": settings.max_body_bytes, "max_length_tokens": saved.get("max_length")},
        "metrics": summary_metrics(model_dir / "metrics.json", settings.task),
    }


def summary_metrics(path: Path, task: str | None) -> dict | None:
    """The top-level numbers of metrics.json (accuracy, F1s, log-loss, n), or of the served task's entry."""
    if not path.exists():
        return None
    metrics = read_json(path)
    if task is not None:
        metrics = metrics.get("tasks", {}).get(task, {})
    return {name: value for name, value in metrics.items()
            if isinstance(value, (int, float)) and not isinstance(value, bool)}


def app_from_env() -> FastAPI:
    """The factory uvicorn calls in each worker process (`tunetext serve` leaves the settings file's path in the environment)."""
    return create_app(ServeSettings.from_env())
