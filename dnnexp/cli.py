"""The `dnnexp` command line: thin commands over tasks (the experiment kinds), runs and plots.

Heavy modules (NumPy, pandas, matplotlib) are imported inside the commands, so `dnnexp --help`
answers at once.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Callable, Literal, Optional

import typer

#: every environment variable dnnexp reads, as `dnnexp --help` lists them (\b: click keeps the lines)
ENVIRONMENT = """\b
Environment:
  DNNEXP_THREADS   cores a training uses: auto (default: those other work leaves free, watched as it runs), 1 or 2
  DNNEXP_DEBUG     any value: show Python tracebacks, as --debug does
  DNNEXP_DATA      a folder with the image sets' files, or their NAME/ subfolders; searched before the cache
  DNNEXP_MIRROR    a base URL to download data sets from (URL/NAME/FILE) instead of the built-in mirrors
  XDG_CACHE_HOME   where `dnnexp data fetch` keeps downloads (default ~/.cache; then dnnexp/NAME)

\b
Shell completion: `dnnexp --install-completion` (bash, zsh, fish, PowerShell), then open a new shell."""

app = typer.Typer(
    help="Run, compare and see the classic deep-learning experiments from YAML specs.",
    epilog=ENVIRONMENT,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
data_app = typer.Typer(help="Data sets: fetch them ahead of a run.", no_args_is_help=True)
app.add_typer(data_app, name="data")

_options = {"debug": bool(os.environ.get("DNNEXP_DEBUG"))}

def _console(stderr: bool = False):
    from dnnexp.console import make_console

    return make_console(stderr)  # prints paths and messages as written: `[red]` or `[/x]` in them is text


def user_errors(command: Callable) -> Callable:
    """Print a user's mistake as one clear message and exit non-zero; `--debug` shows the traceback."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        from dnnexp.console import styled
        from dnnexp.errors import DnnexpError

        try:
            return command(*args, **kwargs)
        except DnnexpError as error:
            if _options["debug"]:
                raise
            _console(stderr=True).print(styled(("error:", "bold red"), f" {error}"))
            raise typer.Exit(error.exit_code) from None

    return run


def _print_version(asked: bool) -> None:
    if asked:
        from dnnexp import __version__

        typer.echo(f"dnnexp {__version__}")
        raise typer.Exit()


def _warn(console, warning: str) -> None:
    from dnnexp.console import styled

    console.print(styled(("warning:", "yellow"), f" {warning}"))


@app.callback()
def main(
    debug: bool = typer.Option(False, "--debug", help="Show Python tracebacks for errors."),
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """Run, compare and see the classic deep-learning experiments from YAML specs."""
    _options["debug"] = _options["debug"] or debug


def _note(message: str) -> None:
    """A remark beside a result (a path skipped), on stderr so that piped output stays clean."""
    _console(stderr=True).print(f"note: {message}", markup=False)


SetOption = typer.Option([], "--set", "-s", metavar="KEY=VALUE", help="Override a spec value, e.g. optimizer.lr=0.01.")


@app.command()
@user_errors
def train(
    spec: Optional[Path] = typer.Argument(None, help="The YAML spec to run (not needed with --resume)."),
    overrides: list[str] = SetOption,
    runs_dir: Path = typer.Option(Path("runs"), "--runs-dir", help="Parent folder of run folders."),
    resume: Optional[Path] = typer.Option(None, "--resume", metavar="RUN_DIR", help="Continue an interrupted run."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or per-epoch lines."),
    as_sweep: bool = typer.Option(
        False, "--sweep", help="Run every combination of the --set lists (a,b  range(…)  logspace(…)) as a sweep."
    ),
    seeds: Optional[str] = typer.Option(None, "--seeds", metavar="0-4", help="Seeds to sweep over (implies --sweep)."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="With --sweep: trials run at once."),
    dry_run: bool = typer.Option(False, "--dry-run", help="With --sweep: list the trials, train nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="With --sweep: run more than 10,000 trials."),
) -> None:
    """Train a spec; results go to a new folder runs/<name>-<time>/."""
    from dnnexp import tasks
    from dnnexp.errors import DnnexpError, SpecError
    from dnnexp.runs.configs import differing_keys
    from dnnexp.runs.lifecycle import EXIT_CODES, Lifecycle, finished_message
    from dnnexp.runs.rundir import RunDir
    from dnnexp.spec import apply_overrides
    from dnnexp.train.threads import override_threads

    console = _console()
    if as_sweep or seeds is not None:
        if spec is None or resume is not None:
            raise SpecError("--sweep takes a spec file; continue a sweep with `dnnexp sweep --resume SWEEP_DIR`")
        from dnnexp.tasks import sweep as sweeps

        swept, document = sweeps.command_line_sweep(spec, overrides, seeds)
        _plan_and_run(swept, document, Path.cwd(), yes, runs_dir, workers, None, dry_run, quiet)
        return
    if dry_run or yes or workers is not None:
        raise SpecError(
            "--dry-run, --yes and --workers are for sweeps (with --sweep or --seeds); check a spec with `dnnexp validate`"
        )
    run = RunDir.open(resume) if resume is not None else None
    if spec is None and run is None:
        raise SpecError("give a spec file to train, or --resume RUN_DIR to continue a run")
    override_threads()  # a mistyped DNNEXP_THREADS is told before any folder exists
    if spec is not None:
        loaded = tasks.load_spec(spec, overrides)
    else:
        loaded = tasks.spec_from_dict(apply_overrides(run.config(), overrides), str(run.file("config.yaml")))
    config = loaded.resolved()
    if run is not None:
        # Both sides resolved: a key added to the format since the run started gets its default on both.
        changed = differing_keys([tasks.run_spec(run).resolved(), config])
        if changed:
            raise SpecError(
                f"--resume: the spec differs from the run's config.yaml in {', '.join(changed)}; "
                "resume with the same spec, or start a new run"
            )
    task = tasks.task_for(loaded)
    if run is not None and (finished := finished_message(run, task.length_key)):
        console.print(finished, markup=False)
        return
    prepared = task.prepare(loaded, run)
    for warning in task.warnings(prepared):
        _warn(console, warning)
    life = Lifecycle.resume(run, config, overrides) if run is not None else Lifecycle.start(runs_dir, config, overrides)
    pictures = None  # why the run's pictures are missing, and the exit code that tells it
    try:
        with life:
            life.finish(task.run(prepared, life, None if quiet else console))
            pictures = ("interrupted before its pictures were drawn", EXIT_CODES["interrupted"])
            task.draw(prepared, life.run)  # after the summary: a picture that fails costs no result
            pictures = None
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM outside the training loop: the summary says how it ended
        pass
    except DnnexpError as error:  # a picture the disk refused; any other error is the run's own
        if pictures is None:
            raise
        pictures = (str(error), error.exit_code)
    outcome = life.outcome
    console.print(f"{outcome.status}: {life.run.path}  {outcome.headline}".rstrip())
    if outcome.message:
        console.print(outcome.message)
    if pictures is not None:
        console.print(f"{pictures[0]}; `dnnexp plot {life.run.path}` draws them", markup=False)
    code = outcome.exit_code or (pictures[1] if pictures is not None else 0)
    if code:
        raise typer.Exit(code)


@app.command()
@user_errors
def sweep(
    sweep_file: Optional[Path] = typer.Argument(None, metavar="SWEEP.yaml", help="The sweep file (not needed with --resume)."),
    overrides: list[str] = typer.Option(
        [], "--set", "-s", metavar="KEY=VALUE", help="Override a value of every trial's spec, e.g. data.name=mnist."
    ),
    resume: Optional[Path] = typer.Option(None, "--resume", metavar="SWEEP_DIR", help="Continue an interrupted sweep."),
    workers: Optional[int] = typer.Option(None, "--workers", "-j", min=1, help="Trials at once (default: the sweep's, else the cores)."),
    scheduler: Optional[str] = typer.Option(
        None, "--scheduler", metavar="tcp://HOST:8786", help="Run the trials on a Dask distributed cluster."
    ),
    runs_dir: Path = typer.Option(Path("runs"), "--runs-dir", help="Parent folder of sweep folders."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List the trials (every spec checked), train nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Run a sweep of more than 10,000 trials."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """Run a sweep: every trial of a grid, random search and seeds, in parallel, into runs/<name>-<time>/."""
    from dnnexp.errors import SpecError
    from dnnexp.tasks import sweep as sweeps

    if resume is not None:
        if sweep_file is not None or overrides or dry_run:
            raise SpecError("--resume continues a sweep as it was planned; give only the sweep folder")
        _finish_sweep(*sweeps.resume(resume, workers, scheduler, None if quiet else _console()))
        return
    if sweep_file is None:
        raise SpecError("give a sweep file to run, or --resume SWEEP_DIR to continue a sweep")
    swept, document = sweeps.load_sweep(sweep_file, overrides)
    _plan_and_run(swept, document, sweep_file.parent, yes, runs_dir, workers, scheduler, dry_run, quiet)


def _plan_and_run(
    swept, document, folder: Path, yes: bool, runs_dir: Path, workers: Optional[int], scheduler: Optional[str],
    dry_run: bool, quiet: bool,
) -> None:
    """`dnnexp sweep` and `dnnexp train --sweep`: plan the sweep, then list (--dry-run) or run it."""
    import dataclasses

    from dnnexp.tasks import sweep as sweeps

    console = _console()
    try:
        prepared = sweeps.plan(swept, document, folder, yes, dry_run)
    except sweeps.SweepTooLarge as counted:
        console.print(str(counted))
        return
    if dry_run:
        console.print(sweeps.SweepTask().describe(prepared))
        return
    prepared = dataclasses.replace(prepared, workers=workers or prepared.workers, scheduler=scheduler)
    _finish_sweep(*sweeps.start(prepared, runs_dir, None if quiet else console))


def _finish_sweep(life, outcome) -> None:
    console = _console()
    console.print(f"{outcome.status}: {life.run.path}  {outcome.headline}".rstrip())
    if outcome.message:
        console.print(outcome.message)
    if outcome.exit_code:
        raise typer.Exit(outcome.exit_code)


@app.command()
@user_errors
def validate(
    spec: Path = typer.Argument(..., help="The YAML spec to check."),
    overrides: list[str] = SetOption,
    resolved: bool = typer.Option(
        False, "--resolved", help="Print the fully resolved spec as YAML instead (defaults filled, overrides applied)."
    ),
) -> None:
    """Check a spec and print what it builds (layers, output shapes, parameters) without training."""
    from dnnexp import tasks

    console = _console()
    loaded = tasks.load_spec(spec, overrides)
    warnings, description = tasks.task_for(loaded).check(loaded)
    for warning in warnings:
        _warn(_console(stderr=resolved), warning)
    if resolved:
        import yaml

        # Only the YAML on stdout: `dnnexp validate SPEC --resolved > full.yaml` is a spec of its own.
        sys.stdout.write(yaml.safe_dump(loaded.resolved(), sort_keys=False, allow_unicode=True))
        return
    console.print(description)
    console.print(f"{spec}: valid")


@app.command()
@user_errors
def compare(
    runs: list[Path] = typer.Argument(..., help="Run folders, or folders holding runs."),
    sort: Optional[str] = typer.Option(None, "--sort", help="Sort by this metric column, e.g. best_val_acc."),
    fmt: Literal["table", "csv", "markdown", "json"] = typer.Option("table", "--format", "-f", help="Output format."),
    no_group: bool = typer.Option(False, "--no-group", help="A row per run, even for runs that differ only in seed."),
    paired: bool = typer.Option(
        False, "--paired", help="Two groups A B (differing only in seed within each): B − A seed by seed, mean ± 95% interval."
    ),
) -> None:
    """Set runs side by side: the spec keys that differ, and their final, best and test metrics.

    Runs that differ only in seed are one row: mean ± std [95% interval] of each result, n.
    """
    from dnnexp.errors import DnnexpError
    from dnnexp.runs.compare import compare_runs, render, rich_table
    from dnnexp.runs.groups import group_labels, group_runs, grouped_frame, paired_frame, with_intervals
    from dnnexp.runs.rundir import find_runs

    found = find_runs(runs, _note)
    frame = compare_runs(found, None if paired else sort)
    groups = group_runs(found)
    if paired:
        if len(groups) != 2:
            labels = "; ".join(f"{label} (n={len(g.runs)})" for label, g in zip(group_labels(groups), groups))
            raise DnnexpError(
                f"--paired compares two groups of runs that differ only in seed; these runs form {len(groups)}: {labels}"
            )
        a, b = group_labels(groups)
        _console(stderr=True).print(f"A: {a}\nB: {b}")
        frame = paired_frame(frame, *groups)
    elif not no_group and any(len(group.runs) > 1 for group in groups):
        frame = grouped_frame(frame, groups)
        if sort is not None:
            from dnnexp.runs.compare import sort_frame

            frame = sort_frame(frame, sort)
        if fmt in ("table", "markdown"):
            frame = with_intervals(frame)
    if fmt == "table":
        console = _console()
        console.print(rich_table(frame, console.width))
    else:
        sys.stdout.write(render(frame, fmt))


@app.command()
@user_errors
def plot(
    runs: list[Path] = typer.Argument(..., help="Run folders, or folders holding runs."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output file (.png or .svg)."),
    metric: Optional[str] = typer.Option(None, "--metric", help="Plot only this metric, e.g. val_acc."),
    layer_stats: bool = typer.Option(False, "--layer-stats", help="Per-layer activation and gradient statistics."),
    activations: bool = typer.Option(False, "--activations", help="Histograms of each layer's activations."),
    time_grads: bool = typer.Option(False, "--time-grads", help="Gradient norm per time step of recurrent layers, runs overlaid."),
    filters: bool = typer.Option(False, "--filters", help="The first conv layer's trained filters."),
    feature_maps: bool = typer.Option(False, "--feature-maps", help="One test image's maps after each conv layer."),
    fit: bool = typer.Option(False, "--fit", help="A model of one input: the data, the learned curve, the true function."),
    values: bool = typer.Option(False, "--values", help="A grid world's V(s) and greedy actions, and max|Q − Q*| over training."),
    attention: Optional[str] = typer.Option(
        None, "--attention", metavar="TEXT", help='Where an attending model looked in TEXT ("September 27, 1994") while writing its reply.'
    ),
    no_group: bool = typer.Option(False, "--no-group", help="A curve per run, even for runs that differ only in seed."),
    embeddings: bool = typer.Option(False, "--embeddings", help="A word2vec run's vectors in 2-D (PCA), labelled."),
    words: Optional[str] = typer.Option(None, "--words", metavar="W1,W2,…", help="With --embeddings: these words (default: the 60 most frequent)."),
) -> None:
    """Draw learning curves of one or more runs, or pictures of one: layer statistics, filters, feature maps, fit, embeddings, values, attention."""
    from dnnexp.errors import DnnexpError
    from dnnexp.plots import curves, default_plot_path, layers, time_grads as time_grad_plots
    from dnnexp.runs.rundir import find_runs

    pictures = {
        "--layer-stats": layer_stats, "--activations": activations, "--time-grads": time_grads, "--filters": filters,
        "--feature-maps": feature_maps, "--fit": fit, "--embeddings": embeddings, "--values": values,
        "--attention": attention is not None,
    }
    chosen = [option for option, wanted in pictures.items() if wanted]
    if len(chosen) > 1:
        raise DnnexpError(f"{' and '.join(chosen)} each draw a picture of their own; give one of them at a time")
    found = find_runs(runs, _note)
    if (layer_stats or activations or filters or feature_maps or fit or embeddings or values) and len(found) != 1:
        raise DnnexpError(
            "--layer-stats, --activations, --filters, --feature-maps, --fit, --embeddings and --values draw one run; give a single run folder"
        )
    if words is not None and not embeddings:
        raise DnnexpError("--words chooses the words of --embeddings; add --embeddings")
    if out is not None and out.suffix.lower() not in (".png", ".svg"):
        raise DnnexpError(f"--out: '{out}' must end in .png or .svg")
    if attention is not None:
        written = _plot_attention(found, attention, out)
    elif layer_stats:
        written = layers.plot_layer_stats(found[0], out or default_plot_path(found, kind="layer_stats"))
    elif activations:
        written = layers.plot_activations(found[0], out or default_plot_path(found, kind="activations"))
    elif time_grads:
        written = time_grad_plots.plot_time_grads(found, out or default_plot_path(found, kind="time_grads"))
    elif embeddings:
        written = _plot_embeddings(found[0], out, words)
    elif values:
        from dnnexp import tasks

        written = tasks.task_for(tasks.run_spec(found[0])).plot_values(found[0], out)
    elif filters or feature_maps or fit:
        written = _plot_trained(found[0], out, "fit" if fit else "feature_maps" if feature_maps else "filters")
    else:
        from dnnexp.runs.groups import group_runs

        groups = group_runs(found)
        if not no_group and any(len(group.runs) > 1 for group in groups):
            from dnnexp.plots.groups import plot_group_curves

            written = plot_group_curves(groups, out or default_plot_path(found), metric)
        else:
            written = curves.plot_curves(found, out or default_plot_path(found), metric)
    _console().print(f"wrote {written}")


@app.command()
@user_errors
def report(
    runs: list[Path] = typer.Argument(..., help="Run folders, sweep folders, or folders holding runs."),
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="The HTML file to write."),
) -> None:
    """Write one self-contained HTML page of runs: the compare table (sortable), learning curves,
    each run's settings against the others' and its diagnostic pictures."""
    from dnnexp.plots.report import write_report
    from dnnexp.runs.rundir import find_runs

    _console().print(f"wrote {write_report(find_runs(runs, _note), out)}", markup=False)


def _plot_embeddings(run, out: Optional[Path], words: Optional[str]) -> Path:
    """--embeddings: the chosen words' vectors (or the most frequent words'), rebuilt from the run."""
    from dnnexp import tasks
    from dnnexp.plots import default_plot_path
    from dnnexp.plots.embeddings import DEFAULT_WORDS, plot_embeddings

    rebuilt = tasks.task_for(tasks.run_spec(run)).rebuild(run)
    if not hasattr(rebuilt, "vectors"):
        from dnnexp.errors import DnnexpError

        raise DnnexpError(f"{run.path}: --embeddings draws the word vectors of a word2vec run")
    chosen = list(dict.fromkeys(w.strip() for w in words.split(",") if w.strip())) if words else list(rebuilt.words[:DEFAULT_WORDS])
    if len(chosen) < 2:
        from dnnexp.errors import DnnexpError

        raise DnnexpError(f"--words '{words}': give at least two different words, separated by commas, to place in 2-D")
    ids = rebuilt.ids(chosen, run)
    return plot_embeddings(run, [rebuilt.words[k] for k in ids], rebuilt.vectors[ids], out or default_plot_path([run], kind="embeddings"))


def _plot_trained(run, out: Optional[Path], picture: str) -> Path:
    """--filters, --feature-maps or --fit (`picture`): pictures of the trained model, rebuilt from the run."""
    from dnnexp import tasks
    from dnnexp.plots import default_plot_path, fit
    from dnnexp.plots import filters as conv_plots

    task = tasks.task_for(tasks.run_spec(run))
    rebuilt = task.rebuild(run)
    if not hasattr(rebuilt, "model"):
        from dnnexp.errors import DnnexpError

        option = "--" + picture.replace("_", "-")
        raise DnnexpError(f"{run.path}: {option} draws a trained network of a supervised run; a run of kind {task.kind} has none")
    out = out or default_plot_path([run], kind=picture)
    if picture == "fit":
        return fit.plot_fit(run, rebuilt.model, rebuilt.data, out)
    if picture == "filters":
        return conv_plots.plot_filters(run, rebuilt.model, out)
    conv_plots.conv_layers(run, rebuilt.model)  # a run without them is told so before any image is taken
    image, caption = task.feature_map_input(rebuilt)
    return conv_plots.plot_feature_maps(run, rebuilt.model, image, caption, out)


def _plot_attention(found: list, text: str, out: Optional[Path]) -> Path:
    """--attention TEXT: one run's attention maps for TEXT; given several runs, says which of them attend."""
    from dnnexp import tasks
    from dnnexp.errors import DnnexpError
    from dnnexp.plots import default_plot_path
    from dnnexp.plots.attention import plot_attention

    if len(found) != 1:
        attending = [str(run.path) for run in found if tasks.task_for(tasks.run_spec(run)).has_attention(run)]
        which = f"those with attention: {', '.join(attending)}" if attending else "none of these has attention"
        raise DnnexpError(f"--attention draws one run; give a single run folder ({which})")
    run = found[0]
    maps = tasks.task_for(tasks.run_spec(run)).attention(run, text)
    return plot_attention(maps, out or default_plot_path(found, kind="attention"), f"{run.name}: {text}")


@app.command()
@user_errors
def sample(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="A run of an encoder-decoder, whose model writes replies."),
    text: str = typer.Argument(..., help='The input, e.g. "16+75"; for dialogues the utterances separated by " | ".'),
    samples: int = typer.Option(1, "--samples", "-n", min=1, help="How many replies to write."),
    decoding: Optional[Literal["greedy", "sample"]] = typer.Option(
        None, "--decoding", help="greedy (each word the likeliest) or sample (drawn); default: the run's model's."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the draws (sampled words, VHRED's latent)."),
) -> None:
    """Decode an input with a run's trained model: one reply a line."""
    from dnnexp import tasks
    from dnnexp.runs.rundir import RunDir

    greedy = None if decoding is None else decoding == "greedy"
    run = RunDir.open(run_dir)
    for reply in tasks.task_for(tasks.run_spec(run)).sample(run, text, samples, greedy, seed):
        typer.echo(reply)


@app.command()
@user_errors
def similar(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="A word2vec run."),
    word: str = typer.Argument(..., help="A word of the run's vocabulary."),
    top: int = typer.Option(10, "--top", "-n", min=1, help="How many neighbours."),
) -> None:
    """The words whose vectors are nearest WORD's (cosine similarity), a word a line."""
    from dnnexp import tasks
    from dnnexp.runs.rundir import RunDir

    run = RunDir.open(run_dir)
    for neighbour, similarity in tasks.task_for(tasks.run_spec(run)).similar(run, word, top):
        typer.echo(f"{neighbour}\t{similarity:.4f}")


@app.command()
@user_errors
def analogy(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="A word2vec run."),
    a: str = typer.Argument(..., help="a, in: a is to b as c is to ? (man)"),
    b: str = typer.Argument(..., help="b (king)"),
    c: str = typer.Argument(..., help="c (woman)"),
    top: int = typer.Option(5, "--top", "-n", min=1, help="How many answers."),
) -> None:
    """a is to b as c is to ?: the words nearest b − a + c (king − man + woman), a word a line."""
    from dnnexp import tasks
    from dnnexp.runs.rundir import RunDir

    run = RunDir.open(run_dir)
    for answer, similarity in tasks.task_for(tasks.run_spec(run)).analogy(run, a, b, c, top):
        typer.echo(f"{answer}\t{similarity:.4f}")


@app.command()
@user_errors
def export(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="A word2vec run."),
    fmt: Literal["word2vec"] = typer.Option("word2vec", "--format", "-f", help="word2vec: the text format gensim reads."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="The file to write (default RUN_DIR/vectors.txt)."),
) -> None:
    """Write a run's word vectors in word2vec's text format (gensim's KeyedVectors.load_word2vec_format)."""
    from dnnexp import tasks
    from dnnexp.runs.rundir import RunDir

    run = RunDir.open(run_dir)
    written = tasks.task_for(tasks.run_spec(run)).export(run, out or run.file("vectors.txt"))
    _console().print(f"wrote {written}", markup=False)


@app.command()
@user_errors
def play(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="A reinforcement-learning run."),
    episodes: int = typer.Option(3, "--episodes", "-n", min=1, help="How many episodes to play."),
    out: Optional[Path] = typer.Option(
        None, "--out", "-o", help="Write the episodes as an animation (.gif); the default for worlds not drawn as text."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the first episode (the next ones count up)."),
) -> None:
    """Watch a run's trained agent act greedily: text frames for the toy-text worlds, a GIF for CartPole and friends."""
    from dnnexp import tasks
    from dnnexp.errors import DnnexpError
    from dnnexp.runs.rundir import RunDir

    if out is not None and out.suffix.lower() != ".gif":
        raise DnnexpError(f"--out: '{out}' must end in .gif")
    run = RunDir.open(run_dir)
    written = tasks.task_for(tasks.run_spec(run)).play(run, episodes, out, seed, _console())
    if written is not None:
        _console().print(f"wrote {written}", markup=False)


#: what `dnnexp list` lists: each registry of dnnexp.spec.registry by its plural (a test keeps them equal)
RegistryName = Literal[
    "models", "layers", "activations", "losses", "initializers", "optimizers", "schedules", "regularizers", "datasets",
    "agents", "explorations", "features", "environments",
]


@app.command(name="list")
@user_errors
def list_(kind: Optional[RegistryName] = typer.Argument(None, help="List only these, with their arguments.")) -> None:
    """List what a spec can name: models, layers, activations, losses, initializers, optimizers, …

    With a kind, each entry's arguments follow: type, bounds and default (`lr: float > 0 = 0.01`).
    """
    from rich.table import Table

    from dnnexp.console import styled
    from dnnexp.spec.listing import arguments, section_arguments
    from dnnexp.spec.registry import REGISTRIES
    from dnnexp.tasks.word2vec import MODEL_KINDS, Word2VecModelSection

    plurals = {name + ("es" if name.endswith("s") else "s"): registry for name, registry in REGISTRIES.items()}
    chosen = plurals if kind is None else {kind: plurals[kind]}
    console = _console()
    for plural, registry in chosen.items():
        # Each entry's line, and with a kind its arguments.
        entries = {entry: (registry.describe(entry), arguments(registry, entry) if kind else []) for entry in registry.names()}
        if plural == "models":  # word2vec's own kinds, which its task builds (not a registry's)
            keys = section_arguments(Word2VecModelSection, leave_out=("kind",)) if kind else []
            entries |= {entry: (text, keys) for entry, text in MODEL_KINDS.items()}
        table = Table(title=plural, title_justify="left", show_header=False, box=None)
        for entry, (text, entry_arguments) in sorted(entries.items()):
            table.add_row(f"  {entry}", styled("\n".join([text] + [f"  {a}" for a in entry_arguments])))
        console.print(table)


#: the data sets `dnnexp data fetch` downloads (dnnexp.data.fetch.SHA256; a test keeps the two equal)
FetchableDataset = Literal["mnist", "fashion_mnist", "cifar10", "ptb"]


@data_app.command("fetch")
@user_errors
def data_fetch(name: FetchableDataset = typer.Argument(..., help="The data set to download.")) -> None:
    """Download a data set into the user cache, verifying every file's SHA-256."""
    from dnnexp.data.fetch import fetch

    folder = fetch(name)
    _console().print(f"{name}: files in {folder}")
