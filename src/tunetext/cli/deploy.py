"""`tunetext serve | export`: a trained model as an HTTP service, or as ONNX files for fast CPU inference."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from tunetext.cli import BACKEND_HELP, TASK_HELP, app, friendly_errors

console = Console()


@app.command()
@friendly_errors
def serve(
    ctx: typer.Context,
    model_dir: Path = typer.Argument(..., help="A directory written by `tunetext train`."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on; 0.0.0.0 accepts connections from other machines."),
    port: int = typer.Option(8000),
    workers: int = typer.Option(1, min=1, help="Processes, each with its own copy of the model and its own threads."),
    backend: str = typer.Option("auto", help=BACKEND_HELP),
    task: Optional[str] = typer.Option(None, "--task", help=TASK_HELP),
    api_key: Optional[str] = typer.Option(None, envvar="TUNETEXT_API_KEY", show_default=False,
                                          help="Require this key in the X-API-Key header (all but /health and the docs). "
                                               "Prefer the TUNETEXT_API_KEY variable or --api-key-file: a key on "
                                               "the command line shows in `ps`."),
    api_key_file: Optional[Path] = typer.Option(None, exists=True, dir_okay=False, show_default=False,
                                                help="Read the API key from this file (surrounding whitespace dropped)."),
    max_batch_size: int = typer.Option(32, help="Texts per model call; concurrent requests are grouped up to this."),
    max_wait_ms: float = typer.Option(5.0, help="How long a batch waits for more requests before it runs."),
    max_queue: int = typer.Option(1024, help="Texts allowed to wait for the model; beyond it requests get 503."),
    max_texts: int = typer.Option(256, help="Texts per request (413 beyond)."),
    max_chars: int = typer.Option(10_000, help="Characters per text (413 beyond)."),
    access_log: Optional[Path] = typer.Option(None, help="File for the JSON-lines access log (default: stderr)."),
) -> None:
    """Serve a trained model over HTTP: POST /predict, GET /health, GET /metadata, OpenAPI docs at /docs."""
    from importlib.util import find_spec

    missing = [module for module in ("fastapi", "fastapi_offline", "uvicorn") if find_spec(module) is None]
    if missing:
        from tunetext.export.onnx import MissingExtraError  # only here: the module imports torch

        raise MissingExtraError(f"`tunetext serve` needs {', '.join(missing)}: pip install tunetext[serve]")
    import uvicorn

    from tunetext.serve.app import create_app
    from tunetext.serve.settings import SETTINGS_FILE_VAR, ServeSettings, read_api_key_file, settings_file

    if api_key_file is not None:
        if api_key is not None:
            raise typer.BadParameter("pass the API key once: --api-key-file, or --api-key / TUNETEXT_API_KEY.")
        api_key = read_api_key_file(api_key_file)
    elif ctx.get_parameter_source("api_key").name == "COMMANDLINE":  # not TUNETEXT_API_KEY (by name: typer vendors click)
        Console(stderr=True).print("[yellow]warning:[/] --api-key on the command line is visible to every user "
                                   "of this machine in `ps`; set TUNETEXT_API_KEY or use --api-key-file.")
    settings = ServeSettings(str(model_dir), backend=backend, task=task, api_key=api_key, max_batch_size=max_batch_size,
                             max_wait_ms=max_wait_ms, max_queue=max_queue, max_texts=max_texts, max_chars=max_chars,
                             access_log=str(access_log) if access_log else None)
    service = create_app(settings)  # loads the model here, so a bad DIR or backend fails before the server starts
    console.print(f"Serving [bold]{service.title}[/] on http://{host}:{port} (docs at /docs)"
                  f"{', API key required' if api_key else ''}", highlight=False)
    if workers == 1:
        uvicorn.run(service, host=host, port=port, access_log=False)
        return
    del service  # each worker process loads its own copy from the settings
    # The workers inherit this environment: it names the settings file and no longer holds the key itself.
    os.environ.pop("TUNETEXT_API_KEY", None)
    with settings_file(settings) as path:
        os.environ[SETTINGS_FILE_VAR] = str(path)
        uvicorn.run("tunetext.serve.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                    access_log=False)


@app.command()
@friendly_errors
def export(
    model_dir: Path = typer.Argument(..., help="A fine-tuned model directory (method finetune or finetune-partial)."),
    onnx: bool = typer.Option(False, "--onnx", help="Export to ONNX (the one format so far)."),
    quantize: Optional[str] = typer.Option(None, help="int8: also write a dynamically quantised model; serve and predict then use it."),
    data: Optional[Path] = typer.Option(None, "--data", "-d", help="Texts for the parity check (CSV/TSV/JSONL/Parquet); default: built-in sentences."),
    text_column: Optional[str] = typer.Option(None, help="Text column of --data (auto-detected by default)."),
    sample_size: int = typer.Option(200, min=1, help="How many texts of --data the parity check uses."),
) -> None:
    """Export to DIR/onnx/ and check it against PyTorch; `serve` and `predict` use the export from then on."""
    if not onnx:
        raise typer.BadParameter("choose a format: --onnx (the only one so far).")
    from rich.table import Table

    from tunetext import api
    from tunetext.export.onnx import EXPORT_DIR

    with console.status("Exporting to ONNX and checking parity…"):
        meta = api.export(model_dir, quantize=quantize, data=data, text_column=text_column, sample_size=sample_size)
    table = Table(title=f"Parity with PyTorch fp32 on {next(iter(meta['files'].values()))['parity']['texts']} texts")
    for column in ("file", "precision", "MB", "max |Δ probability|", "label agreement", "texts/s"):
        table.add_column(column, justify="left" if column == "file" else "right")
    for name, info in meta["files"].items():
        parity = info["parity"]
        size = (model_dir / EXPORT_DIR / name).stat().st_size / 1e6
        table.add_row(name, info["precision"], f"{size:.1f}", f"{parity['max_abs_diff']:.2e}", f"{parity['label_agreement']:.2%}",
                      f"{parity['texts_per_s']:.0f}")
    console.print(table)
    console.print(f"Export written to [bold]{model_dir / EXPORT_DIR}[/]; `tunetext serve` and `tunetext predict` "
                  f"now use {meta['model']} (--backend torch for the original).", highlight=False)

