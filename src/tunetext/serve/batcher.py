"""Micro-batching: texts from requests that arrive together go through the model in one call.

A transformer is several times faster per text on a batch than on single texts, and the model runs on
one worker thread, so the event loop keeps accepting requests while it computes and the model is never
called from two threads at once.
"""

from __future__ import annotations

import asyncio
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np


class QueueFull(Exception):
    """More texts are waiting than the queue holds: the caller should answer 503 and the client retry later."""


@dataclass
class _Job:
    texts: list
    future: asyncio.Future


class MicroBatcher:
    """Groups queued texts into batches for `predict_proba` and hands each request its own rows back.

    A batch closes when it holds `max_batch_size` texts (a request is never split, so one large request
    may exceed it) or `max_wait_ms` after it was opened. At most `max_queue` texts wait; beyond that
    `predict` raises `QueueFull` at once rather than letting latency and memory grow without bound.
    """

    def __init__(self, predict_proba: Callable[[list], np.ndarray], *, max_batch_size: int = 32,
                 max_wait_ms: float = 5.0, max_queue: int = 1024):
        self.predict_proba = predict_proba
        self.max_batch_size = max_batch_size
        self.max_wait_ms = max_wait_ms
        self.max_queue = max_queue
        self.queued = 0
        self._jobs: deque[_Job] = deque()
        self._arrived = asyncio.Event()
        self._executor: ThreadPoolExecutor | None = None
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tunetext-model")
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    async def predict(self, texts: Sequence) -> np.ndarray:
        """Probabilities for `texts`, computed in a batch with whatever else is queued."""
        if self.queued + len(texts) > self.max_queue:
            raise QueueFull(f"{self.queued} texts are already waiting for the model (the queue holds "
                            f"{self.max_queue}); retry shortly.")
        job = _Job(list(texts), asyncio.get_running_loop().create_future())
        self._jobs.append(job)
        self.queued += len(job.texts)
        self._arrived.set()
        return await job.future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._next_batch()
            if not batch:
                continue
            try:
                proba = await loop.run_in_executor(self._executor, self.predict_proba,
                                                   [text for job in batch for text in job.texts])
            except Exception as exc:  # every request of the batch gets the error; the service keeps running
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(exc)
                continue
            start = 0
            for job in batch:
                if not job.future.done():  # done = cancelled: the client went away
                    job.future.set_result(proba[start : start + len(job.texts)])
                start += len(job.texts)

    async def _next_batch(self) -> list[_Job]:
        while not self._jobs:
            self._arrived.clear()
            await self._arrived.wait()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait_ms / 1000
        batch: list[_Job] = []
        size = 0
        while True:
            while self._jobs and size < self.max_batch_size:
                job = self._jobs.popleft()
                self.queued -= len(job.texts)
                if not job.future.done():
                    batch.append(job)
                    size += len(job.texts)
            remaining = deadline - loop.time()
            if size >= self.max_batch_size or remaining <= 0:
                return batch
            self._arrived.clear()
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)
