"""``chessteach exam``: how much an explanation of each theme raises a student model's accuracy."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from chessteach.cli.console import fail, out
from chessteach.cli.display import progress_bar
from chessteach.cli.options import read_puzzle_file
from chessteach.cli.paths import input_file, output_dir
from chessteach.errors import ChessteachError
from chessteach.filenames import file_in
from chessteach.llm import LanguageModel, load_model
from chessteach.puzzles import Puzzle, bundled_puzzles
from chessteach.teaching.charts import plot_profile
from chessteach.teaching.exam import run_exam
from chessteach.teaching.exam_cache import ExamCache
from chessteach.teaching.exam_puzzles import THEME_SOURCES, RatingBand, draw_exam
from chessteach.teaching.examiner import DEFAULT_MAX_NEW_TOKENS, ExamConfig
from chessteach.teaching.likelihood import (
    GIVEN,
    TEACHER,
    TEMPLATE,
    LikelihoodReport,
    choose_placebo,
    likelihood_table,
    run_likelihood_exam,
)
from chessteach.teaching.prompts import DEFAULT_PROMPT_FORMAT, PROMPT_FORMATS, ExamError
from chessteach.teaching.results import ExamReport, concept_profile

logger = logging.getLogger(__name__)

REPO_PUZZLES = bundled_puzzles()
FORMAT_HELP = "; ".join(f"{f.name}: {f.help}" for f in PROMPT_FORMATS.values())
MODES = ("free", "likelihood")


def _load(spec: str) -> LanguageModel:
    try:
        return load_model(spec)
    except ChessteachError as exc:
        fail(str(exc))


def _explanation(
    theme: str, puzzles: list[Puzzle], teacher: LanguageModel | None, text: str | None
) -> tuple[str, Puzzle | None]:
    """The explanation of a theme and the example it was written from (none for an explanation file)."""
    if text is not None:
        return text, None
    from chessteach.teaching.explain import explain_concept, pick_example

    example = pick_example(theme, puzzles)
    return explain_concept(theme, example, teacher=teacher).text, example


def exam(
    student: Annotated[str, typer.Option("--student", help="The student model: hf:PATH, hf:DIR?gguf=FILE, openai:URL#MODEL, vllm:PATH, or smollm2.")],
    themes: Annotated[
        str,
        typer.Option("--themes", "--concepts", "--concept",
                     help="Comma-separated theme (concept) ids, e.g. fork,pin,mateIn2, or outpost,openFile for an "
                          "exercises CSV."),
    ],
    puzzles: Annotated[
        Path, typer.Option("--puzzles", help="Lichess puzzle CSV (or positional exercises CSV) to draw examples and "
                           "exams from.", callback=input_file)
    ] = REPO_PUZZLES,
    outdir: Annotated[Path, typer.Option("--out", "-o", help="Where the CSVs and charts go.", callback=output_dir)] = Path("exam"),
    teacher: Annotated[
        str | None, typer.Option("--teacher", help="A teacher model spec (default: the grounded template explainer).")
    ] = None,
    explanation: Annotated[
        Path | None,
        typer.Option("--explanation", help="A text file: the explanation to give for every theme (no teacher).",
                     exists=True, dir_okay=False),
    ] = None,
    n: Annotated[int, typer.Option("-n", min=1, help="Exam puzzles per theme.")] = 50,
    rating: Annotated[
        str | None, typer.Option("--rating", help="Rating band of the exam puzzles: LOW-HIGH, LOW- or -HIGH.")
    ] = None,
    prompt_format: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = DEFAULT_PROMPT_FORMAT,
    chat: Annotated[bool, typer.Option("--chat", help="Ask in chat messages (for chat models).")] = False,
    choices: Annotated[
        bool, typer.Option("--choices", help="Multiple choice: list the best move and the puzzle's three Distractors "
                           "(an exercises CSV) instead of all legal moves.")
    ] = False,
    theme_source: Annotated[
        str, typer.Option("--theme-source", help=f"Which themes a puzzle has: {', '.join(THEME_SOURCES)} "
                          "(own = the CSV's, computed = the tagger's, or a positional concept's detector).")
    ] = "own",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the exam draw and the bootstrap.")] = 0,
    max_new_tokens: Annotated[
        int, typer.Option("--max-new-tokens", min=1, help="Longest answer the student may write.")
    ] = DEFAULT_MAX_NEW_TOKENS,
    cache: Annotated[
        Path | None,
        typer.Option("--cache", help="SQLite exam cache (default: $CHESSTEACH_EXAM_CACHE or the user cache dir)."),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Ask the student everything again.")] = False,
    mode: Annotated[
        str, typer.Option("--mode", help="free: the student writes its answer, without and with the explanation; "
                          "likelihood: multiple choice by the student's log-probability of each candidate move "
                          "(an exercise's four, a puzzle's legal moves), with no explanation, the explanation and a "
                          "placebo, and the free answer beside it.")
    ] = "free",
    placebo: Annotated[
        str | None, typer.Option("--placebo", help="--mode likelihood: comma-separated concepts to take the placebo from:"
                                 " of their explanations (default: the other --themes'), the one closest in length "
                                 "to the theme's.")
    ] = None,
    free_answer: Annotated[
        bool, typer.Option("--free-answer/--no-free-answer", help="--mode likelihood: also let the student write "
                           "its answer (greedy, from the same computation of the prompt).")
    ] = True,
    template: Annotated[
        bool, typer.Option("--template/--no-template", help="--mode likelihood with --teacher: also ask with the "
                           "grounded template's explanation, the reference the teacher is measured against (the "
                           "placebo is then taken from the templates).")
    ] = True,
) -> None:
    """Examine a student on each theme without and with an explanation; print and save the uplift.

    Positional exercises (a CSV with a Distractors column) work like puzzles, with positional concept ids as
    themes; --choices asks them as multiple choice among the best move and the three distractors.

    --mode likelihood (for small models such as smollm2) scores every candidate move by the student's
    log-probability instead, under each condition: no explanation, the explanation (with --teacher: the template's
    and the teacher's), and a placebo (another concept's explanation of similar length); it prints accuracy,
    probability on the solution and free-answer accuracy per condition, the uplifts over none and over the placebo
    with 95% CIs, and the degradation rate.
    """
    if teacher is not None and explanation is not None:
        fail("give --teacher or --explanation, not both")
    theme_ids = [t.strip() for t in themes.split(",") if t.strip()]
    if not theme_ids:
        fail("--themes names no theme")
    if mode not in MODES:
        fail(f"unknown --mode {mode!r}; valid: {', '.join(MODES)}")
    if mode == "free" and placebo is not None:
        fail("--placebo is for --mode likelihood")
    placebo_ids = [t.strip() for t in (placebo or "").split(",") if t.strip()]
    if mode == "likelihood" and not placebo_ids and (explanation is not None or len(theme_ids) < 2):
        fail("--mode likelihood needs a placebo: name it with --placebo CONCEPT, or give two or more --themes "
             "(without --explanation)")
    try:
        band = RatingBand.parse(rating) if rating else None
        config = ExamConfig(
            prompt_format=prompt_format, chat=chat, choices=choices, max_new_tokens=max_new_tokens, seed=seed
        )
        from chessteach.concepts.catalog import get_concept

        for theme in [*theme_ids, *placebo_ids]:
            get_concept(theme)
    except ChessteachError as exc:  # a bad rating band or prompt format, an unknown concept
        fail(str(exc))
    if theme_source not in THEME_SOURCES:
        fail(f"unknown --theme-source {theme_source!r}; valid: {', '.join(THEME_SOURCES)}")
    loaded = read_puzzle_file(puzzles)
    try:
        text = explanation.read_text(encoding="utf-8") if explanation is not None else None
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"--explanation {explanation}: {exc}")
    model = _load(student)
    teacher_model = _load(teacher) if teacher is not None else None
    store = None if no_cache else ExamCache(cache)
    reports: list[ExamReport] = []
    try:
        if mode == "likelihood":
            likelihood = _likelihood_exams(
                model, teacher_model, loaded.puzzles, theme_ids, text, placebo_ids, n=n, band=band,
                theme_source=theme_source, config=config, free_answer=free_answer, template=template, cache=store,
            )
        else:
            for theme in theme_ids:
                try:
                    shown, example = _explanation(theme, loaded.puzzles, teacher_model, text)
                    drawn = draw_exam(
                        loaded.puzzles, theme, n=n, example=example, rating=band,
                        theme_source=theme_source,  # type: ignore[arg-type]
                        seed=seed,
                    )
                except ChessteachError as exc:  # no example of the theme, no puzzle of it to draw
                    logger.warning("%s: skipped: %s", theme, exc)
                    continue
                try:
                    with progress_bar(f"{theme}: {len(drawn)} puzzles", "puzzles") as progress:
                        reports.append(
                            run_exam(
                                model, drawn, shown, concept=theme, example_id=example.id if example else None,
                                config=config, cache=store, progress=progress,
                            )
                        )
                except ExamError as exc:  # a puzzle without usable distractors in --choices mode
                    fail(str(exc))
    finally:
        model.close()
        if teacher_model is not None:
            teacher_model.close()
        if store is not None:
            store.close()
    if mode == "likelihood":
        _write_likelihood(likelihood, outdir)
        return
    if not reports:
        fail("no theme could be examined")
    _write(reports, outdir)


def _write(reports: list[ExamReport], outdir: Path) -> None:
    profile = concept_profile(reports)
    bands = concept_profile(reports, by="rating_band")
    outdir.mkdir(parents=True, exist_ok=True)
    profile.rename(columns={"concept": "theme"}).to_csv(outdir / "exam.csv", index=False)
    bands.to_csv(outdir / "rating_bands.csv", index=False)
    pd.concat([r.frame() for r in reports], ignore_index=True).to_csv(outdir / "answers.csv", index=False)
    (outdir / "explanations").mkdir(exist_ok=True)
    for report in reports:
        explanation = file_in(outdir / "explanations", report.concept, ".txt")  # a theme is data: stay in outdir
        explanation.write_text(report.explanation or "", encoding="utf-8")
        per_band = concept_profile([report], by="rating_band")
        plot_profile(per_band, file_in(outdir, report.concept, ".png"), by="rating_band",
                     title=f"{report.concept}: accuracy by rating band")
    plot_profile(profile, outdir / "exam.png", title=f"student {reports[0].student}: accuracy by theme")

    table = Table(title=f"chessteach exam: {reports[0].student} ({reports[0].prompt_format})")
    for column in ("theme", "n", "accuracy without", "with", "uplift", "95% CI", "log-prob change"):
        table.add_column(column, justify="left" if column == "theme" else "right")
    for row in profile.itertuples(index=False):
        table.add_row(
            str(row.concept), str(row.n), f"{row.accuracy_without:.3f}", f"{row.accuracy_with:.3f}",
            f"{row.uplift:+.3f}", f"[{row.ci_low:+.3f}, {row.ci_high:+.3f}]", f"{row.logprob_change:+.3f}",
        )
    out.print(table)
    errors = sum(len(r.errors) for r in reports)
    if errors:
        out.print(f"{errors} puzzle(s) left out: the student could not answer them (see the log)")
    out.print(f"wrote {outdir}/exam.csv, rating_bands.csv, answers.csv and the charts")


def _likelihood_exams(
    model: LanguageModel,
    teacher: LanguageModel | None,
    puzzles: list[Puzzle],
    theme_ids: list[str],
    text: str | None,
    placebo_ids: list[str],
    *,
    n: int,
    band: RatingBand | None,
    theme_source: str,
    config: ExamConfig,
    free_answer: bool,
    template: bool = True,
    cache: ExamCache | None = None,
) -> list[LikelihoodReport]:
    """One likelihood exam per theme: none, its explanations (the given text; or the template's and the teacher's,
    or either alone), a placebo (an explanation of another concept from the first source, of the placebo concepts
    or else of the other themes, the closest in length)."""
    sources: list[tuple[str, LanguageModel | None]] = []
    if text is not None:
        sources.append((GIVEN, None))
    else:
        if teacher is None or template:
            sources.append((TEMPLATE, None))
        if teacher is not None:
            sources.append((TEACHER, teacher))
    first = sources[0][0]
    explained: dict[str, dict[str, str]] = {}  # theme -> condition -> text
    examples: dict[str, Puzzle | None] = {}
    for theme in dict.fromkeys([*theme_ids, *placebo_ids]):
        wanted = sources if theme in theme_ids else sources[:1]  # a placebo needs only the first source's text
        try:
            for condition, source in wanted:
                given = text if condition == GIVEN else None
                shown, examples[theme] = _explanation(theme, puzzles, source, given)
                explained.setdefault(theme, {})[condition] = shown
        except ChessteachError as exc:  # no example of the theme
            if theme in placebo_ids:
                fail(f"--placebo {theme}: {exc}")
            logger.warning("%s: skipped: %s", theme, exc)
            explained.pop(theme, None)
    pool = placebo_ids or theme_ids
    reports = []
    for theme in theme_ids:
        if theme not in explained:
            continue
        example = examples.get(theme)
        try:
            texts = {t: e[first] for t, e in explained.items() if (t in pool or t == theme) and first in e}
            other = choose_placebo(theme, texts)
            drawn = draw_exam(
                puzzles, theme, n=n, example=example,
                exclude=[p for p in (examples.get(other),) if p is not None], rating=band,
                theme_source=theme_source,  # type: ignore[arg-type]
                seed=config.seed,
            )
            with progress_bar(f"{theme}: {len(drawn)} puzzles, placebo {other}", "puzzles") as progress:
                reports.append(
                    run_likelihood_exam(
                        model, drawn, explained[theme], texts[other], concept=theme, placebo_concept=other,
                        config=config, free_answer=free_answer, progress=progress, cache=cache,
                    )
                )
        except ChessteachError as exc:  # no placebo to match, no puzzle of the theme to draw
            logger.warning("%s: skipped: %s", theme, exc)
    if not reports:
        fail("no theme could be examined")
    return reports


def _interval(low: float, mean: float, high: float) -> str:
    """An uplift and its interval, compactly: ``+0.05 [-0.10,+0.20]`` (blank where it does not apply)."""
    if mean != mean:
        return ""
    return f"{mean:+.2f} [{low:+.2f},{high:+.2f}]"


def _write_likelihood(reports: list[LikelihoodReport], outdir: Path) -> None:
    table = likelihood_table(reports)
    outdir.mkdir(parents=True, exist_ok=True)
    table.to_csv(outdir / "likelihood.csv", index=False)
    pd.concat([r.frame() for r in reports], ignore_index=True).to_csv(outdir / "likelihood_answers.csv", index=False)
    (outdir / "explanations").mkdir(exist_ok=True)
    for report in reports:
        for condition, text in report.explanations.items():
            if text is not None:
                named = file_in(outdir / "explanations", f"{report.concept}.{condition}", ".txt")
                named.write_text(text, encoding="utf-8")

    placebos = ", ".join(f"{r.concept}: {r.placebo_concept}" for r in reports if r.placebo_concept)
    scores = Table(
        title=f"chessteach exam --mode likelihood: {reports[0].student} ({reports[0].config.format_key})",
        caption=f"placebo = {placebos}" if placebos else None,
    )
    for column in ("theme", "shown", "n", "free acc", "acc", "p(sol)", "degraded"):
        scores.add_column(column, justify="left" if column in ("theme", "shown") else "right")
    for _, row in table.iterrows():
        scores.add_row(
            str(row["concept"]), str(row["condition"]), str(row["n"]), f"{row['free_accuracy']:.2f}",
            f"{row['accuracy']:.2f}", f"{row['p_solution']:.3f}",
            "" if row["degradation"] != row["degradation"] else f"{row['degradation']:.2f}",
        )
    out.print(scores)
    uplifts = Table(title="uplift (95% paired-bootstrap CI)")
    for column in ("theme", "shown", "of", "vs none", "vs placebo"):
        uplifts.add_column(column, justify="left" if column in ("theme", "shown", "of") else "right")
    for _, row in table[table["condition"] != "none"].iterrows():
        for measure, prefix in (("acc", ""), ("p(sol)", "p_")):
            uplifts.add_row(
                str(row["concept"]), str(row["condition"]), measure,
                *(_interval(row[f"{prefix}{n}_low"], row[f"{prefix}{n}"], row[f"{prefix}{n}_high"])
                  for n in ("uplift_none", "uplift_placebo")),
            )
    out.print(uplifts)
    out.print("free acc = free-answer accuracy; acc = likelihood accuracy; p(sol) = probability on the solution; "
              "degraded = right without an explanation, wrong with this one")
    items = sum(len(r.results) for r in reports)
    seconds = sum(r.seconds for r in reports)
    out.print(f"{items} items in {seconds:.1f} s (scoring and the free answer together)")
    errors = sum(len(r.errors) for r in reports)
    if errors:
        out.print(f"{errors} puzzle(s) left out: the student could not answer them (see the log)")
    out.print(f"wrote {outdir}/likelihood.csv, likelihood_answers.csv and the explanations")
