"""Commands only: parse arguments, call the pipeline, print, exit (0 ok, 1 bad data, 2 usage)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .errors import CatalogError, CatalogInvalid, format_problems, summary

DATA_OPTION = click.option("--data", "data_dir", default="data", show_default=True,
                           type=click.Path(file_okay=False, path_type=Path), help="The catalog folder.")
FORMAT_OPTION = click.option("--format", "fmt", type=click.Choice(["text", "github"]), default="text",
                             show_default=True, help="github prints ::error annotations for Actions.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="site-builder")
def main() -> None:
    """Build the open model catalog from data/ into a static site."""


def _report(problems: list[CatalogError], fmt: str, wrote_nothing: bool) -> None:
    for line in format_problems(problems, fmt):
        click.echo(line, err=True)
    if problems:
        click.echo(summary(problems, wrote_nothing), err=True)


def _require_folder(data_dir: Path) -> None:
    if not data_dir.is_dir():
        raise click.UsageError(f"no catalog folder at {data_dir}/ (pass --data DIR)")


@main.command()
@DATA_OPTION
@FORMAT_OPTION
@click.option("--strict", is_flag=True, help="Treat warnings (stale prices, unused sources) as errors.")
def check(data_dir: Path, fmt: str, strict: bool) -> None:
    """Validate the catalog: schema, references, citations. Writes nothing."""
    from .catalog import load_catalog

    _require_folder(data_dir)
    try:
        catalog = load_catalog(data_dir)
    except CatalogInvalid as exc:
        _report(exc.problems, fmt, wrote_nothing=False)
        sys.exit(1)
    warnings = list(catalog.warnings)
    _report(warnings, fmt, wrote_nothing=False)
    if strict and warnings:
        click.echo("--strict: warnings count as errors.", err=True)
        sys.exit(1)
    click.echo(f"ok: {len(catalog.models)} models, {len(catalog.organizations)} organizations, "
               f"{len(catalog.licenses)} licenses checked.")


@main.command()
@DATA_OPTION
@click.option("--out", "out_dir", default="_site", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@FORMAT_OPTION
@click.option("--no-search", is_flag=True, help="Skip the Pagefind search index.")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Processes that load and render (default: every core).")
@click.option("--no-cache", is_flag=True, help="Build from scratch, without .cache/site-builder/.")
def build(data_dir: Path, out_dir: Path, fmt: str, no_search: bool, jobs: int | None, no_cache: bool) -> None:
    """Build the site. On any error the previous output is left untouched.
    Incremental: only what changed since the last build is parsed and rendered again."""
    from .build import build_site
    from .cache import DEFAULT_CACHE_DIR
    from .search import index_site

    from .progress import Progress

    _require_folder(data_dir)

    def index(staging: Path) -> None:
        progress.phase("search index")
        index_site(staging)

    try:
        with Progress(sys.stderr) as progress:
            report = build_site(data_dir, out_dir, finish=None if no_search else index,
                                on_phase=progress.phase, jobs=jobs,
                                cache_dir=None if no_cache else DEFAULT_CACHE_DIR, skip_if_unchanged=not no_cache,
                                save_in_background=_console)
    except CatalogInvalid as exc:
        _report(exc.problems, fmt, wrote_nothing=True)
        sys.exit(1)
    except Exception as exc:
        # Jinja is imported by the pipeline, not here: a no-op build never loads it (45 ms)
        jinja2 = sys.modules.get("jinja2")
        if jinja2 is None or not isinstance(exc, jinja2.TemplateError):
            raise
        click.echo(template_error(exc), err=True)
        click.echo("1 error in the templates; nothing was written.", err=True)
        sys.exit(1)
    for line in report.lines():
        click.echo(line)
    _report(list(report.warnings), fmt, wrote_nothing=False)
    click.echo(f"built {report.page_count} pages into {out_dir}/")
    _leave_without_teardown()


_console = False
"""True in the `site-builder` process itself (run()), False when main is called from Python."""


def run() -> None:
    """The console entry point."""
    global _console
    _console = True
    main()


def _leave_without_teardown() -> None:
    """End the process now that everything is written and printed. At exit Python would free
    the catalog object by object: 1.2 s of a 9 s rebuild at 10,000 models, for memory the
    system reclaims at once anyway. Only in the console process: a caller keeps running."""
    if _console:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


@main.command()
@click.option("--out", "out_dir", default="schema", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder of the committed schema.")
@click.option("--check", "check_only", is_flag=True, help="Write nothing; exit 1 when the folder is stale.")
def schema(out_dir: Path, check_only: bool) -> None:
    """Regenerate the JSON Schema of every data file and API document from the pydantic models."""
    from .published_schema import stale_files, write_schema_folder

    if check_only:
        stale = stale_files(out_dir)
        for name in stale:
            click.echo(f"{out_dir}/{name}: stale", err=True)
        if stale:
            click.echo(f"{len(stale)} schema files are stale; run 'site-builder schema' (make schema).", err=True)
            sys.exit(1)
        click.echo(f"ok: {out_dir}/ is up to date.")
        return
    changed = write_schema_folder(out_dir)
    for name in changed:
        click.echo(f"updated {out_dir}/{name}")
    click.echo(f"{out_dir}/ is up to date ({len(changed)} files changed).")


@main.command()
@DATA_OPTION
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port on 127.0.0.1 (0 picks a free one).")
@click.option("--search", is_flag=True, help="Build the Pagefind search index on every rebuild (slower).")
def serve(data_dir: Path, port: int, search: bool) -> None:
    """Preview the site on 127.0.0.1: rebuilds on every change to data/ or templates/ and
    reloads the open page; shows check's errors while the data is invalid."""
    import signal

    from .serve import Preview

    _require_folder(data_dir)
    preview = Preview(data_dir, port=port, search=search, log=lambda line: click.echo(line, err=True))
    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
    try:
        preview.start()
    except OSError as exc:
        preview.stop()
        raise click.UsageError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}; "
                               "pass another --port") from None
    click.echo(f"serving {preview.url} (watching {data_dir}/ and templates/; Ctrl+C stops)")
    try:
        preview.wait()
    except KeyboardInterrupt:
        pass
    finally:
        preview.stop()
        click.echo("stopped.")


def _stop_like_ctrl_c(signum: int, frame: object) -> None:
    """SIGTERM (a closed terminal, a process manager) ends serve as Ctrl+C does, cleaning up."""
    raise KeyboardInterrupt


@main.command()
@click.argument("model_id")
@click.option("--from", "from_id", metavar="EXISTING_ID", help="Start from a copy of this model's file.")
@DATA_OPTION
def new(model_id: str, from_id: str | None, data_dir: Path) -> None:
    """Write data/models/MODEL_ID.yaml: a commented starter listing every field with its
    meaning and an example, or a copy of a related model (--from) to edit."""
    from .catalog import build_date
    from .errors import suggestion
    from .scaffold import valid_model_id, write_new

    _require_folder(data_dir)
    if not valid_model_id(model_id):
        raise click.UsageError(f"'{model_id}' is not a valid model id: lowercase letters and digits "
                               "joined by '-' or '.', e.g. llama-3.1-8b-instruct")
    try:
        path = write_new(data_dir, model_id, build_date(), from_id)
    except FileExistsError as exc:
        raise click.UsageError(f"{exc.args[0]} already exists; edit it, or pick another id") from None
    except FileNotFoundError:
        known = [p.stem for p in (data_dir / "models").glob("*.yaml")]
        raise click.UsageError(f"no model '{from_id}' to copy{suggestion(from_id, known)}") from None
    click.echo(f"wrote {path}")
    click.echo(f"next: fill it in, then `site-builder check` until it is green; `site-builder serve` previews "
               f"/models/{model_id}/.")


@main.command("import-hf")
@click.argument("config", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("model_id")
@DATA_OPTION
@click.option("--repo", metavar="OWNER/NAME", help="The Hugging Face repository the config is from "
              "(default: the model's huggingface_repo).")
@click.option("--url", help="Cite this url instead of the repository's config.json.")
@click.option("--source-id", default="hf-config", show_default=True, help="Id of the source entry to write.")
def import_hf(config: Path, model_id: str, data_dir: Path, repo: str | None, url: str | None,
              source_id: str) -> None:
    """Write the architecture block of MODEL_ID from a local Hugging Face CONFIG (config.json),
    citing it as a source. Values the editor cited to another source are kept."""
    from .catalog import build_date
    from .import_hf import ImportFailed, import_into
    from .scaffold import valid_model_id

    _require_folder(data_dir)
    if not valid_model_id(model_id):
        raise click.UsageError(f"'{model_id}' is not a valid model id")
    if url is not None and not url.startswith("https://"):
        raise click.UsageError("--url must be an https url")
    try:
        report = import_into(data_dir, config, model_id, build_date(), repo=repo, url=url, source_id=source_id)
    except ImportFailed as exc:
        raise click.UsageError(str(exc)) from None
    verb = "created" if report.created else "updated"
    click.echo(f"{verb} {report.path} from {config} (cited as {source_id}):")
    for change in report.changes:
        click.echo(f"  {change.action:<9} {change.field}: {change.detail}")
    for note in report.notes:
        click.echo(f"  note      {note}")
    click.echo("next: `site-builder check`" + (" and fill in the rest of the starter." if report.created else "."))


def template_error(exc: "jinja2.TemplateError") -> str:  # noqa: F821 - imported by the pipeline
    name = getattr(exc, "filename", None) or getattr(exc, "name", None) or "templates/"
    line = getattr(exc, "lineno", None) or 1
    return f"{name}:{line}:1: error: {type(exc).__name__}: {exc.message or exc}"


if __name__ == "__main__":  # pragma: no cover - python -m site_builder.cli, as the benchmark runs it
    run()
