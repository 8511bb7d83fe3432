"""The HTTP service: POST /predict, GET /health, GET /metadata, and OpenAPI docs at /docs.

Only `load_predictor` and `predict_proba` are used, so every registry method (and every ONNX export) serves.
"""

from __future__ import annotations

import hmac
import json
import logging
import sys
import time
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from fastapi import Depends, FastAPI, HTTPException, Request, Security
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tunetext import __version__
from tunetext.export.onnx import EXPORT_DIR, EXPORT_FILE
from tunetext.io import read_json
from tunetext.methods.base import METADATA_FILE
from tunetext.prediction import Predictor, load_predictor, resolve_backend
from tunetext.serve.batcher import MicroBatcher, QueueFull
from tunetext.serve.settings import ServeSettings

API_KEY_HEADER = "X-API-Key"


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
    label: str
    probabilities: dict[str, float] = Field(description="One per label, in the model's label order; they sum to 1.")


class PredictResponse(BaseModel):
    predictions: list[Prediction] = Field(description="One per input text, in input order.")


def create_app(settings: ServeSettings, predictor: Predictor | None = None) -> FastAPI:
    """The service for `settings.model_dir`; `predictor` replaces the loaded model (tests use a slow one)."""
    backend = resolve_backend(settings.model_dir, settings.backend)
    predictor = predictor or load_predictor(settings.model_dir, backend, settings.task)
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

    app = FastAPI(title=f"tunetext: {metadata['method']}", version=__version__, lifespan=lifespan,
                  description=f"Labels: {', '.join(labels)}. Backend: {backend}.")

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

    key_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False)

    def check_api_key(key: Optional[str] = Security(key_header)) -> None:
        # compare_digest: the time taken must not reveal how much of a guessed key was right.
        if settings.api_key is not None and not (key and hmac.compare_digest(key.encode(), settings.api_key.encode())):
            raise HTTPException(401, f"missing or wrong API key: send it in the {API_KEY_HEADER} header.",
                                headers={"WWW-Authenticate": API_KEY_HEADER})

    @app.post("/predict", response_model=PredictResponse, dependencies=[Depends(check_api_key)],
              responses={401: {"description": "Missing or wrong API key"},
                         413: {"description": "Too many texts, or a text too long"},
                         503: {"description": "Queue full: retry shortly"}})
    async def predict(body: PredictRequest, request: Request) -> PredictResponse:
        """Labels and probabilities for one text or a batch; concurrent requests share model calls."""
        texts = body.all_texts()
        request.state.texts = len(texts)
        check_limits(texts, settings)
        try:
            proba = await request.app.state.batcher.predict(texts)
        except QueueFull as exc:
            raise HTTPException(503, str(exc), headers={"Retry-After": "1"}) from None
        return PredictResponse(predictions=[
            Prediction(label=labels[row.argmax()], probabilities=dict(zip(labels, row.tolist()))) for row in proba
        ])

    @app.get("/health")
    async def health(request: Request) -> dict:
        """Liveness for load balancers (no API key): the model is loaded and how many texts are waiting."""
        return {"status": "ok", "queued_texts": request.app.state.batcher.queued}

    @app.get("/metadata", dependencies=[Depends(check_api_key)])
    async def get_metadata() -> dict:
        """The model: labels, method and hyperparameters, preprocessing, backend, and its metrics at training time."""
        return metadata

    return app


def check_limits(texts: list[str], settings: ServeSettings) -> None:
    if len(texts) > settings.max_texts:
        raise HTTPException(413, f"{len(texts)} texts in one request; the limit is {settings.max_texts}. "
                                 "Send them in several requests.")
    for i, text in enumerate(texts):
        if len(text) > settings.max_chars:
            raise HTTPException(413, f"text {i} has {len(text):,} characters; the limit is {settings.max_chars:,}. "
                                     "Shorten it (the model reads only the first tokens anyway).")


def describe(model_dir: Path, backend: str, settings: ServeSettings, labels: list[str]) -> dict:
    """/metadata: from the model's own files, so it says what was trained, not what the service assumes."""
    saved = read_json(model_dir / METADATA_FILE)
    export = model_dir / EXPORT_DIR / EXPORT_FILE
    metrics = model_dir / "metrics.json"
    return {
        "method": saved["method"],
        "task": settings.task,
        "labels": labels,
        "params": saved["params"],
        "preprocessing": {"max_length_tokens": saved.get("max_length"), "max_chars": settings.max_chars},
        "backend": backend,
        "export": read_json(export) if backend == "onnx" and export.exists() else None,
        "metrics": read_json(metrics) if metrics.exists() else None,
        "trained_with": saved.get("tunetext_version"),
    }


def app_from_env() -> FastAPI:
    """The factory uvicorn calls in each worker process (`tunetext serve` puts the settings in the environment)."""
    return create_app(ServeSettings.from_env())
