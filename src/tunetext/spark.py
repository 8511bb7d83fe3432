"""Bulk scoring on Apache Spark: a saved model as a batched pandas UDF, loaded once per Python worker.

    from tunetext.spark import predict_udf
    scores = df.withColumn("prediction", predict_udf("/shared/models/trec6")("text"))
    scores.select("text", "prediction.label", "prediction.probabilities")

`probabilities` follow the model's `classes_` order (`tunetext.json` → "classes"). Two columns score text
pairs. A multi-label model's `label` is its predicted label set joined by "|" (each label at its tuned threshold). The model folder must be readable at the same path on every executor (a shared or distributed file
system, or a copy baked into the executors' image).
"""

from __future__ import annotations

import os
from pathlib import Path

from tunetext.errors import ConfigError


def predict_udf(model_dir: str | os.PathLike, *, batch_size: int = 256):
    """A Spark column function: `udf(text_column)` or `udf(first, second)` → struct<label: string, probabilities: array<float>>.

    Built on `pyspark.ml.functions.predict_batch_udf`, which caches the loaded model in each Python worker,
    so the model is loaded once per worker, not once per batch.
    """
    try:
        from pyspark.ml.functions import predict_batch_udf
        from pyspark.sql.types import ArrayType, FloatType, StringType, StructField, StructType
    except ImportError:
        raise ConfigError("scoring on Spark needs PySpark (and Java 17+): pip install tunetext[spark]") from None
    from tunetext.methods.base import METADATA_FILE

    model_dir = str(Path(model_dir).resolve())
    if not (Path(model_dir) / METADATA_FILE).exists():
        raise FileNotFoundError(f"{model_dir} is not a tunetext model directory ({METADATA_FILE} is missing); "
                                "train one with `tunetext train --out DIR`.")

    def make_predict_fn():
        import numpy as np
        import torch

        from tunetext.data.loading import LABEL_DELIMITER
        from tunetext.methods import Method

        method = Method.load(model_dir)
        # Spark gives each task spark.task.cpus cores (as OMP_NUM_THREADS); loading took every core of the machine.
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))

        def predict(*columns: np.ndarray) -> dict[str, np.ndarray]:
            texts = list(zip(*map(list, columns))) if len(columns) == 2 else list(columns[0])
            proba = method.predict_proba(texts)
            labels = [LABEL_DELIMITER.join(d) if method.multilabel_ else d for d in method.decide(proba)]
            return {"label": np.array(labels, dtype=str), "probabilities": proba}

        return predict

    schema = StructType([StructField("label", StringType()), StructField("probabilities", ArrayType(FloatType()))])
    return predict_batch_udf(make_predict_fn, return_type=schema, batch_size=batch_size)
