"""Fine-tuned models in deployable formats: ONNX (fp32 or int8), checked against PyTorch when written."""

from tunetext.export.onnx import MissingExtraError, OnnxClassifier, export_onnx, has_export

__all__ = ["MissingExtraError", "OnnxClassifier", "export_onnx", "has_export"]
