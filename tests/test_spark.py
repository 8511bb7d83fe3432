"""Bulk scoring on a local Spark session (local[2]): the UDF gives the model's own labels and probabilities."""

import shutil
import sys

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark")
pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java 17+: apt-get install -y openjdk-17-jre-headless", allow_module_level=True)

from tunetext.methods import make_method  # noqa: E402
from tunetext.spark import predict_udf  # noqa: E402


def test_spark_scores_equal_the_models_own(real_slice, tmp_path, monkeypatch):
    from pyspark.sql import SparkSession

    train, test = real_slice("trec6", "train", 300), real_slice("trec6", "test", 120)
    method = make_method("tfidf-svm").fit(train.texts, train.labels)
    method.save(tmp_path / "model")
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)  # executors run this venv's Python
    spark = (SparkSession.builder.master("local[2]").appName("tunetext-test").config("spark.ui.enabled", "false")
             .config("spark.driver.memory", "1g").getOrCreate())
    try:
        frame = spark.createDataFrame(pd.DataFrame({"id": range(len(test)), "text": test.texts})).repartition(2)
        scored = (frame.withColumn("prediction", predict_udf(tmp_path / "model", batch_size=32)("text"))
                  .select("id", "prediction.label", "prediction.probabilities").toPandas().sort_values("id"))
    finally:
        spark.stop()
    expected = method.predict_proba(test.texts)
    np.testing.assert_allclose(np.stack(scored["probabilities"].to_numpy()), expected, atol=1e-6)
    assert scored["label"].tolist() == method.classes_[expected.argmax(axis=1)].tolist()


def test_a_folder_that_is_no_model_fails_before_spark_starts(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a tunetext model directory.*tunetext train --out DIR"):
        predict_udf(tmp_path)
