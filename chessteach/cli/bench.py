"""``chessteach bench ...``: benchmarks that print ratios against a physical limit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from chessteach.cli.console import fail, out
from chessteach.cli.display import progress_bar, stage_bars
from chessteach.cli.exercises import EXERCISE_STAGES
from chessteach.cli.options import (
    EngineSettings,
    checked_cluster,
    cluster_address,
    engine_options,
    read_puzzle_file,
)
from chessteach.cli.puzzles import DEFAULT_MINE_NODES, MINE_STAGES, MINE_UNITS
from chessteach.data import bundled
from chessteach.engine import DEFAULT_NODES
from chessteach.engine.bench import run_cluster_bench, run_engine_bench
from chessteach.errors import ChessteachError
from chessteach.exercises import REVERIFY_FACTOR, mine_exercises
from chessteach.exercises.study import margin_study
from chessteach.games.bench import run_history_bench, run_nodes_study, run_reproducibility_bench, run_review_bench
from chessteach.games.budget import MARGIN as ADAPTIVE_MARGIN
from chessteach.games.budget import AdaptiveBudget
from chessteach.puzzles import bundled_puzzles, write_puzzles
from chessteach.puzzles.bench import run_fragment_bench, run_mine_bench
from chessteach.puzzles.mine import MINED_COLUMNS, RECHECK_FACTORS
from chessteach.teaching.stats import paired_bootstrap

bench_app = typer.Typer(help="Benchmarks: measured rates against their physical limits.", no_args_is_help=True)

REPO_PUZZLES = bundled_puzzles()


@bench_app.command("engine")
@engine_options(cache=False, cluster=False)
def bench_engine(
    puzzles: Annotated[
        Path, typer.Option("--puzzles", help="Lichess puzzle CSV whose puzzle positions are analysed.", exists=True)
    ] = REPO_PUZZLES,
    positions: Annotated[int, typer.Option("--positions", "-n", min=1, help="Positions to analyse.")] = 200,
    *,
    settings: EngineSettings,
) -> None:
    """Pool throughput at a fixed node limit against Stockfish's own single-thread speed x workers."""
    config = settings.config()
    boards = [p.position() for p in read_puzzle_file(puzzles).puzzles[:positions]]
    with progress_bar(f"analysing {len(boards)} positions") as progress:
        result = run_engine_bench(
            boards, config=config, nodes=settings.nodes, workers=settings.worker_count, progress=progress
        )
    table = Table(title=f"chessteach bench engine ({config.path}, {config.options_key})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("positions x nodes", f"{result.positions} x {result.nodes:,}")
    table.add_row("workers (Threads=1 each)", str(result.workers))
    table.add_row("Stockfish bench, 1 thread", f"{result.single_thread_nps:,} nodes/s")
    table.add_row("limit = nps x workers / nodes", f"{result.limit_positions_per_s:.2f} positions/s")
    table.add_row("measured", f"{result.positions_per_s:.2f} positions/s ({result.seconds:.1f} s)")
    table.add_row("ratio (goal >= 0.85)", f"[bold]{result.ratio:.3f}[/bold]")
    table.add_row("pool nodes/s (all workers)", f"{result.pool_nps:,.0f}")
    table.add_row("node ratio = pool nodes/s / (nps x workers)", f"{result.node_ratio:.3f}")
    table.add_row(
        f"one bare engine, {result.solo_positions} positions",
        f"{result.solo_positions_per_s:.2f} positions/s, {result.solo_nodes / result.solo_seconds:,.0f} nodes/s",
    )
    table.add_row("scaling = pool / (workers x bare engine)", f"{result.scaling_ratio:.3f}")
    table.add_row("rerun from the cache", f"{result.cached_seconds * 1000:.0f} ms (no engine started)")
    table.add_row("failed positions", str(result.failures))
    out.print(table)


@bench_app.command("cluster")
@engine_options(cache=False, cluster=False)
def bench_cluster(
    puzzles: Annotated[
        Path, typer.Option("--puzzles", help="Lichess puzzle CSV whose puzzle positions are analysed.", exists=True)
    ] = REPO_PUZZLES,
    positions: Annotated[int, typer.Option("--positions", "-n", min=1, help="Positions to analyse.")] = 200,
    rounds: Annotated[int, typer.Option("--rounds", min=1, help="Runs of each pool, alternately.")] = 2,
    address: Annotated[
        str, typer.Option("--cluster", help="'ray' (RAY_ADDRESS, a cluster on this machine, else a local one) or"
                          " 'ray://HOST:PORT'.", callback=checked_cluster)
    ] = "ray",
    *,
    settings: EngineSettings,
) -> None:
    """The engine pool on Ray against the local pool on the same positions: throughput ratio and equal results."""
    config = settings.config()
    boards = [p.position() for p in read_puzzle_file(puzzles).puzzles[:positions]]
    with progress_bar(f"analysing {len(boards)} positions, local and on Ray") as progress:
        result = run_cluster_bench(boards, config=config, nodes=settings.nodes, workers=settings.worker_count,
                                   address=cluster_address(address), rounds=rounds, progress=progress)
    table = Table(title=f"chessteach bench cluster ({address}; {config.path}, {config.options_key})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("positions x nodes, workers", f"{result.positions} x {result.nodes:,}, {result.workers}")
    table.add_row("local pool", ", ".join(f"{s:.1f} s" for s in result.local_seconds))
    table.add_row("Ray pool", ", ".join(f"{s:.1f} s" for s in result.ray_seconds))
    table.add_row("Ray start (cluster and actors)", f"{result.ray_start_seconds:.1f} s")
    table.add_row("ratio = Ray positions/s / local (goal >= 0.90)", f"[bold]{result.ratio:.3f}[/bold]")
    table.add_row("positions analysed differently", str(result.mismatches))
    out.print(table)


REVIEW_PGN = bundled("games", "candidates-madrid-2022.pgn")


@bench_app.command("review")
@engine_options(cache=False, cluster=False)
def bench_review(
    pgn: Annotated[Path, typer.Argument(help="PGN file to review.", exists=True, dir_okay=False)] = REVIEW_PGN,
    *,
    settings: EngineSettings,
) -> None:
    """Review a whole PGN (default: the 2022 Candidates) against the engine-bound limit."""
    config = settings.config()
    with progress_bar(f"reviewing {pgn.name}") as progress:
        result = run_review_bench(
            pgn, config=config, nodes=settings.nodes, workers=settings.worker_count, progress=progress
        )
    table = Table(title=f"chessteach bench review ({pgn.name})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("games / positions (engine)", f"{result.games} / {result.positions} ({result.engine_positions})")
    table.add_row("nodes per position, workers", f"{result.nodes:,}, {result.workers}")
    table.add_row("Stockfish bench, 1 thread", f"{result.single_thread_nps:,} nodes/s")
    table.add_row("measured", f"{result.seconds:.1f} s, {result.games_per_minute:.2f} games/min")
    table.add_row("limit = positions x nodes / (nps x workers)", f"{result.limit_seconds:.1f} s")
    table.add_row("ratio (goal >= 0.85)", f"[bold]{result.ratio:.3f}[/bold]")
    table.add_row("node ratio = nodes searched/s / (nps x workers)", f"{result.node_ratio:.3f}")
    table.add_row(
        f"one bare engine, {result.bare_positions} of the positions", f"{result.bare_nps:,.0f} nodes/s"
    )
    table.add_row("scaling = pool nodes/s / (workers x bare engine)", f"{result.bare_ratio:.3f}")
    out.print(table)


@bench_app.command("nodes")
@engine_options(nodes=None, cache=False, cluster=False)
def bench_nodes(
    pgn: Annotated[Path, typer.Argument(help="PGN file.", exists=True, dir_okay=False)] = REVIEW_PGN,
    nodes: Annotated[
        list[int] | None, typer.Option("--nodes", min=1, help="Node limits to compare (the largest is the reference).")
    ] = None,
    adaptive: Annotated[
        list[int] | None,
        typer.Option("--adaptive", min=1, help="Adaptive budgets up to the reference, by their first step's nodes "
                     "(repeatable; each of their steps must be among --nodes)."),
    ] = None,
    margin: Annotated[
        list[float] | None,
        typer.Option("--margin", min=0.0, max=1.0, help="Adaptive margins: how near a judgment threshold (winning "
                     "chances, -1..1) a move is searched deeper (repeatable)."),
    ] = None,
    games: Annotated[int, typer.Option("--games", "-n", min=1, help="How many games of the file.")] = 6,
    *,
    settings: EngineSettings,
) -> None:
    """How much the review changes with its node budget: judgments and win% against the largest fixed limit, for
    fixed limits (each timed) and adaptive budgets (their time modelled from the fixed runs' time per search)."""
    config = settings.config()
    limits = sorted(set(nodes or [62_500, 125_000, 250_000, 1_000_000]))
    budgets = [
        AdaptiveBudget(nodes=limits[-1], first=first, margin=m)
        for first in (adaptive if adaptive is not None else [f for f in (62_500, 125_000) if f in limits])
        for m in (margin or [ADAPTIVE_MARGIN])
    ]
    for budget in budgets:
        missing = [f"{n:,}" for n in budget.steps if n not in limits]
        if missing:
            fail(f"--adaptive {budget.steps[0]}: its steps {', '.join(missing)} must be among --nodes too")
    with progress_bar("reviewing under each budget") as progress:
        rows = run_nodes_study(
            pgn, config=config, node_limits=limits, workers=settings.worker_count, games=games, budgets=budgets,
            progress=progress,
        )
    reference = next(row for row in rows if row.scheme == f"{limits[-1]:,}")
    table = Table(title=f"chessteach bench nodes ({games} games of {pgn.name}; reference {limits[-1]:,} nodes)")
    for column in ("budget", "seconds", "x ref.", "nodes/pos.", "judgment", "m+b", "same m/b", "best move",
                   "|win% d|"):
        table.add_column(column, justify="right")
    table.caption = ("* modelled: its searches at each step times the fixed runs' time per search. judgment: same "
                     "judgment; m+b: mistakes and blunders agreed; same m/b: with the same one of the two")
    for row in rows:
        table.add_row(
            row.scheme, f"{row.seconds:.1f}" + ("" if row.measured else "*"),
            f"{row.seconds / reference.seconds:.3f}", f"{row.nodes / max(1, sum(reference.searches.values())):,.0f}",
            f"{row.judgment_agreement:.3f}", f"{row.flagged_agreement:.3f}", f"{row.flagged_same:.3f}",
            f"{row.best_move_agreement:.3f}", f"{row.mean_win_error:.2f}",
        )
    out.print(table)


@bench_app.command("history")
@engine_options()
def bench_history(
    pgns: Annotated[
        list[Path], typer.Argument(metavar="GAMES.pgn...", help="PGN files.", exists=True, dir_okay=False)
    ],
    *,
    settings: EngineSettings,
) -> None:
    """What the game's repetitions change: positions whose history holds one, analysed with and without it."""
    with (
        settings.open_pool() as pool,
        progress_bar("positions with repetitions, with and without the history") as progress,
    ):
        result = run_history_bench(pgns, pool, progress=progress)
    table = Table(title=f"chessteach bench history ({', '.join(p.name for p in pgns)}; {settings.nodes:,} nodes)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("games (with a repeated position)", f"{result.games} ({result.games_with_repetitions})")
    table.add_row("positions (whose history holds a repeated position)", f"{result.positions:,} ({result.with_repetitions})")
    table.add_row("of those, evaluated differently with the history", str(result.eval_changed))
    table.add_row("of those, 0.00 (a repetition draw) only with the history", str(result.drawn_with_history))
    table.add_row("moves into or out of them / judged differently", f"{result.moves_judged} / {result.judgments_changed}")
    table.add_row("time", f"{result.seconds:.0f} s")
    out.print(table)


@bench_app.command("reproducibility")
@engine_options(cache=False, cluster=False)
def bench_reproducibility(
    pgn: Annotated[Path, typer.Argument(help="PGN file.", exists=True, dir_okay=False)] = REVIEW_PGN,
    reference: Annotated[int, typer.Option("--reference", min=1, help="Nodes of the reference review.")] = (
        4 * DEFAULT_NODES
    ),
    games: Annotated[int, typer.Option("--games", "-n", min=1, help="How many games of the file.")] = 8,
    rounds: Annotated[int, typer.Option("--rounds", min=1, help="Timed runs of each policy, interleaved.")] = 2,
    *,
    settings: EngineSettings,
) -> None:
    """The search-state policies (a fresh state per position, or the hash kept within a game): time, and agreement
    with a review at the reference node limit."""
    config, nodes, workers = settings.config(), settings.nodes, settings.worker_count
    with progress_bar("reviewing under each policy") as progress:
        rows = run_reproducibility_bench(
            pgn, config=config, nodes=nodes, reference_nodes=reference, workers=workers, games=games, rounds=rounds,
            progress=progress,
        )
    table = Table(
        title=f"chessteach bench reproducibility ({games} games of {pgn.name}, {nodes:,} nodes, {workers} workers; "
        f"reference: hash kept within a game, {reference:,} nodes; 95% bootstrap intervals over moves)"
    )
    for column in ("policy", "seconds (load before-after)", "moves", "same best move", "same judgment",
                   "eval within 0.1", "same as clean"):
        table.add_column(column, justify="right")
    zeros = [0.0] * rows[0].moves
    for row in rows:
        runs = ", ".join(f"{r.seconds:.1f} ({r.load[0]:.1f}-{r.load[1]:.1f})" for r in row.runs)
        cells = [str(paired_bootstrap([float(x) for x in v], zeros)) for v in (row.same_best_move, row.same_judgment,
                                                                                row.eval_close)]
        clean = "" if row.same_as_clean is None else f"{row.same_as_clean:.3f}"
        table.add_row(row.scheme, runs, str(row.moves), *cells, clean)
    out.print(table)
    first, second = rows[0], rows[1]
    for label, a, b in (("best move", first.same_best_move, second.same_best_move),
                        ("judgment", first.same_judgment, second.same_judgment),
                        ("eval within 0.1", first.eval_close, second.eval_close)):
        diff = paired_bootstrap([float(x) for x in a], [float(x) for x in b])
        out.print(f"{first.scheme} - {second.scheme}, agreement on the {label}: {diff}")


@bench_app.command("mine")
@engine_options(nodes=DEFAULT_MINE_NODES, cache=False, cluster=False)
def bench_mine(
    pgn: Annotated[
        Path | None, typer.Argument(metavar="[GAMES.pgn]", help="A PGN file (or --fragments).", exists=True,
                                    dir_okay=False)
    ] = None,
    fragments: Annotated[
        Path | None,
        typer.Option("--fragments", help="Mine Lichess puzzles turned back into short games (FEN, setup move, "
                     "solution) and report the recall: the share mined again with Lichess's first move.",
                     exists=True, dir_okay=False),
    ] = None,
    count: Annotated[int, typer.Option("--count", "-n", min=1, help="How many puzzles of --fragments.")] = 40,
    recheck: Annotated[
        bool, typer.Option("--recheck/--no-recheck", help="Search a failing line step again at 4x and 16x the nodes "
                           "before giving the line up (--no-recheck: the earlier miner, for comparison).")
    ] = True,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also write the verified puzzles here.")
    ] = None,
    cache: Annotated[
        Path | None, typer.Option("--cache", help="Keep the analyses in this cache (default: a fresh temporary one).")
    ] = None,
    *,
    settings: EngineSettings,
) -> None:
    """Puzzle mining: puzzles per 100 games, the share verified, themes, and games/min against the limit."""
    if (pgn is None) == (fragments is None):
        fail("give a PGN file or --fragments PUZZLES.csv (one of them)")
    config, nodes, workers = settings.config(), settings.nodes, settings.worker_count
    recall = None
    factors = RECHECK_FACTORS if recheck else ()
    with stage_bars(MINE_STAGES, MINE_UNITS) as progress:
        if fragments is not None:
            puzzles = [p for p in read_puzzle_file(fragments).puzzles if p.setup][:count]
            recall = run_fragment_bench(puzzles, config=config, nodes=nodes, workers=workers, cache=cache,
                                        progress=progress, recheck=factors)
            bench = recall.bench
        else:
            assert pgn is not None
            bench = run_mine_bench(pgn, config=config, nodes=nodes, workers=workers, cache=cache, progress=progress,
                                   recheck=factors)
    result = bench.result
    if output is not None:
        write_puzzles(output, result.puzzles, columns=MINED_COLUMNS)
    source = pgn.name if pgn is not None else f"{count} puzzle fragments of {fragments.name if fragments else ''}"
    table = Table(title=f"chessteach bench mine ({source}, {nodes:,} nodes, {workers} workers)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    if recall is not None:
        table.add_row("fragments", str(recall.fragments))
        table.add_row("found at the setup move / verified with Lichess's first move", f"{recall.found_at_setup} / "
                      f"{recall.recalled}")
        table.add_row("recall (goal >= 60%)", f"[bold]{recall.recall:.1%}[/bold]")
        table.add_row("seconds per fragment", f"{bench.seconds / max(1, recall.fragments):.2f}")
    table.add_row("games (skipped)", f"{result.games} ({len(result.bad_games)})")
    table.add_row("candidates (mistakes where the solver was not winning)", str(result.candidates))
    table.add_row("puzzles found / verified", f"{result.found} / {result.verified}")
    table.add_row("share verified (goal 100%)", f"[bold]{bench.verified_share:.1%}[/bold]")
    table.add_row("puzzles per 100 games", f"[bold]{result.per_100_games:.2f}[/bold]")
    table.add_row("positions searched, nodes searched", f"{bench.searches:,}, {bench.nodes_searched:,}")
    table.add_row("Stockfish bench, 1 thread", f"{bench.single_thread_nps:,} nodes/s")
    table.add_row(
        "limit = nodes searched / (nps x workers)",
        f"{bench.limit_seconds:.1f} s ({bench.limit_games_per_minute:.1f} games/min)",
    )
    table.add_row("measured", f"{bench.seconds:.1f} s ({bench.games_per_minute:.1f} games/min)")
    table.add_row("ratio = limit / measured", f"[bold]{bench.ratio:.3f}[/bold]")
    themes = bench.themes()
    table.add_row("themes", ", ".join(f"{name} {count}" for name, count in themes.most_common()) or "-")
    out.print(table)


@bench_app.command("exercises")
@engine_options()
def bench_exercises(
    pgns: Annotated[
        list[Path], typer.Argument(metavar="GAMES.pgn...", help="PGN files.", exists=True, dir_okay=False)
    ],
    margin: Annotated[
        list[float] | None, typer.Option("--margin", help="Margins to study (repeatable; the least is mined).")
    ] = None,
    buffer: Annotated[
        list[float] | None, typer.Option("--selection-buffer", help="Selection buffers to study (repeatable).")
    ] = None,
    *,
    settings: EngineSettings,
) -> None:
    """Positional exercises at several margins from one run: count, stability at 4x nodes, concepts."""
    margins = sorted(margin or [0.1, 0.15, 0.2, 0.25, 0.3])
    buffers = sorted(buffer or [0.0, 0.05, 0.1, 0.15])
    with settings.open_pool() as pool, stage_bars(EXERCISE_STAGES) as progress:
        result = mine_exercises(pgns, pool, margin=margins[0], selection_buffer=buffers[0], progress=progress)
    rows = margin_study(result.trials, margins, buffers, run_margin=margins[0], run_buffer=buffers[0])
    names = ", ".join(p.name for p in pgns)
    table = Table(title=f"chessteach bench exercises ({result.games} games of {names}; {settings.nodes:,} nodes)")
    for column in ("margin", "buffer", "selected", f"stable at {REVERIFY_FACTOR}x", "stability", "concepts >= 20"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            f"{row.margin:.2f}", f"{row.buffer:.2f}", str(row.selected), str(row.stable), f"{row.stability:.1%}",
            str(row.concepts_with(20)),
        )
    out.print(table)
    for row in rows:
        counts = ", ".join(f"{c} {n}" for c, n in row.concepts.most_common())
        out.print(f"margin {row.margin:.2f} + buffer {row.buffer:.2f}: {counts or '-'}", soft_wrap=True)
    out.print(f"{result.positions} positions, {result.screened} passed the screen, {len(result.trials)} searched "
              "at the full node count")


@bench_app.command("exam")
def bench_exam(
    student: Annotated[
        str | None,
        typer.Option("--student", help="A student spec (hf:PATH...). Default: a random model of --random-config."),
    ] = None,
    random_config: Annotated[
        str, typer.Option("--random-config", help="Random student to build: tiny or qwen2.5-1.5b.")
    ] = "tiny",
    puzzles: Annotated[
        Path, typer.Option("--puzzles", help="Lichess puzzle CSV whose puzzles are asked.", exists=True)
    ] = REPO_PUZZLES,
    count: Annotated[int, typer.Option("-n", min=1, help="Puzzles per measurement.")] = 32,
    batch_size: Annotated[
        list[int] | None, typer.Option("--batch-size", "-b", min=1, help="Batch sizes (repeatable).")
    ] = None,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", min=1, help="Tokens per answer.")] = 8,
    device: Annotated[str | None, typer.Option("--device", help="cpu or cuda (default: cuda if present).")] = None,
    dtype: Annotated[
        str | None, typer.Option("--dtype", help="bfloat16, float16 or float32 (default: bf16 on CUDA).")
    ] = None,
) -> None:
    """Student exam throughput (puzzles/s) through the transformers backend against the decode bound."""
    import tempfile

    import torch

    from chessteach.llm import load_model
    from chessteach.rl.tiny import RANDOM_MODEL_CONFIGS, build_random_model
    from chessteach.teaching.bench import BENCH_BATCH_SIZES, run_exam_bench

    if random_config not in RANDOM_MODEL_CONFIGS:
        raise typer.BadParameter(f"valid: {', '.join(RANDOM_MODEL_CONFIGS)}", param_hint="--random-config")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = dtype or ("bfloat16" if device.startswith("cuda") else "float32")
    asked = read_puzzle_file(puzzles).puzzles[:count]
    with tempfile.TemporaryDirectory(prefix="chessteach-bench-exam-") as scratch:
        checkpoint = None
        if student is None:
            checkpoint = build_random_model(
                Path(scratch) / random_config, RANDOM_MODEL_CONFIGS[random_config], dtype=dtype
            )
            student = f"hf:{checkpoint}"
        separator = "&" if "?" in student else "?"
        try:
            model = load_model(f"{student}{separator}device={device}&dtype={dtype}") if student.startswith("hf:") \
                else load_model(student)
        except ChessteachError as exc:  # a spec that names no model, a backend that is not installed
            fail(str(exc))
        try:
            with progress_bar("timing exams") as progress:
                result = run_exam_bench(
                    model, asked, batch_sizes=batch_size or list(BENCH_BATCH_SIZES), max_new_tokens=max_new_tokens,
                    device=device, checkpoint=checkpoint, progress=progress,
                )
        finally:
            model.close()
    table = Table(title=f"chessteach bench exam ({result.student}, {device}, {dtype})")
    for column in ("batch", "explanation", "prompt tokens", "puzzles/s", "bound puzzles/s", "ratio"):
        table.add_column(column, justify="right")
    for row in result.rows:
        table.add_row(
            str(row.batch_size), "with" if row.with_explanation else "without", f"{row.prompt_tokens:.0f}",
            f"{row.puzzles_per_s:.2f}", f"{row.bound_puzzles_per_s:,.0f}", f"[bold]{row.ratio:.3g}[/bold]",
        )
    out.print(table)
    out.print(
        f"model {result.model_bytes / 1e6:.2f} MB, memory bandwidth {result.bandwidth / 1e9:.1f} GB/s "
        f"(copy), decode bound {result.step_seconds * 1e6:.1f} us per step x {result.decode_steps} steps per batch "
        f"({max_new_tokens} new tokens + prefill + scoring)"
    )


@bench_app.command("likelihood")
def bench_likelihood(
    student: Annotated[str, typer.Option("--student", help="An hf: student spec, or smollm2.")] = "smollm2",
    concept: Annotated[str, typer.Option("--concept", help="The concept asked (its template explanation shown).")] = "fork",
    placebo: Annotated[str, typer.Option("--placebo", help="The concept whose explanation is the placebo.")] = "pin",
    puzzles: Annotated[
        Path, typer.Option("--puzzles", help="Puzzle (or exercises) CSV the exam is drawn from.", exists=True,
                           dir_okay=False)
    ] = REPO_PUZZLES,
    count: Annotated[int, typer.Option("-n", min=1, help="Exam puzzles (each asked under three conditions).")] = 10,
    threads: Annotated[int | None, typer.Option("--threads", min=1, help="torch threads (default: torch's).")] = None,
    chat: Annotated[bool, typer.Option("--chat/--plain", help="Ask in chat messages.")] = True,
    free_answer: Annotated[bool, typer.Option("--free-answer/--no-free-answer", help="Also the free answer.")] = True,
) -> None:
    """Likelihood exam items/s against the matmul bound: kept prefixes beside every prompt computed whole."""
    import torch

    from chessteach.concepts.catalog import get_concept
    from chessteach.llm import load_model
    from chessteach.teaching.bench import run_likelihood_bench
    from chessteach.teaching.exam_puzzles import draw_exam
    from chessteach.teaching.examiner import ExamConfig
    from chessteach.teaching.explain import explain_concept, pick_example

    if threads is not None:
        torch.set_num_threads(threads)
    try:
        for name in (concept, placebo):
            get_concept(name)
        loaded = read_puzzle_file(puzzles).puzzles
        example, other = pick_example(concept, loaded), pick_example(placebo, loaded)
        explanation = explain_concept(concept, example).text
        placebo_text = explain_concept(placebo, other).text
        drawn = draw_exam(loaded, concept, n=count, example=example, exclude=[other], seed=0)
        model = load_model(student)
    except ChessteachError as exc:  # an unknown concept, no example of it, a student that cannot be loaded
        fail(str(exc))
    try:
        with out.status(f"{concept}: {len(drawn)} puzzles x 3 conditions, twice"):
            result = run_likelihood_bench(
                model, drawn, explanation, placebo_text, config=ExamConfig(chat=chat), free_answer=free_answer
            )
    except ChessteachError as exc:  # a student that is not an hf: model
        fail(str(exc))
    finally:
        model.close()
    table = Table(title=f"chessteach bench likelihood ({result.student}, {result.threads} thread(s))")
    for column in ("path", "items", "s/item", "items/s", "prompt tokens computed / reused", "GFLOP/item",
                   "bound s/item", "ratio"):
        table.add_column(column, justify="left" if column == "path" else "right")
    for row in result.rows:
        table.add_row(
            row.path, str(row.items), f"{row.seconds / max(1, row.items):.3f}", f"{row.items_per_s:.2f}",
            f"{row.stats.computed:,} / {row.stats.reused:,}", f"{row.flops_per_item / 1e9:.1f}",
            f"{row.bound_seconds / max(1, row.items):.3f}", f"[bold]{row.ratio:.2f}[/bold]",
        )
    out.print(table)
    kept, whole = result.rows
    out.print(f"matmul rate {result.throughput / 1e9:.1f} GFLOP/s ({result.threads} thread(s), the model's shapes); "
              f"kept prefixes take {kept.seconds / whole.seconds:.2f}x the time of every prompt whole")
