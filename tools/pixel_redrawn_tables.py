"""Markdown tables of tools/reproduce_pixel_redrawn.py's JSON results, laid out as the paper's Tables 1-8."""

from __future__ import annotations

from collections.abc import Callable

from reproduction import mean_std

Row = dict
PAPER_ATTACKS = ("FGSM", "BIM", "MIM", "L2-CW")
HONEST = ("APGD", "worst")
CASES = ("normal", "A", "B", "C (paper)", "D (paper)", "C (adaptive)", "D (adaptive)")


def cell(rows: list[Row], get: Callable[[Row], float | None], scale: float = 100.0) -> str:
    """``mean ± std`` of ``get`` over the seeds' rows (sample std), ``-`` where no row has it."""
    values = [v for v in (get(row) for row in rows) if v is not None]
    if not values:
        return "-"
    return mean_std(values, scale)


def case(name: str, attack: str) -> Callable[[Row], float | None]:
    return lambda row: row.get("cases", {}).get(name, {}).get(attack)


def clean(key: str) -> Callable[[Row], float | None]:
    return lambda row: row["clean"].get(key)


def markdown(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    return "\n".join([*lines, *("| " + " | ".join(r) + " |" for r in body)])


def tables(results: list[Row]) -> str:
    by: dict[str, list[Row]] = {}
    for row in results:
        by.setdefault(row["setting"], []).append(row)
    get = lambda setting: by.get(setting, [])  # noqa: E731
    seeds = sorted({row["seed"] for row in results})
    out = [f"Seeds {seeds}; accuracy in %, mean ± std over the seeds that finished (n per setting below)."]
    out.append(
        "\nTable 1 (clean, 10,000 test images):\n\n"
        + markdown(
            ["Non-PR", "Training phase", "Testing phase", "Both phases"],
            [
                [
                    cell(get("non-PR"), clean("F(x)")),
                    cell(get("PR k=3"), clean("F(x)")),
                    cell(get("non-PR"), clean("F(PR(x))")),
                    cell(get("PR k=3"), clean("F(PR(x))")),
                ]
            ],
        )
    )
    pr = get("PR k=3")
    out.append(
        f"\nTables 2/6, PR k=3 (n={len(pr)}): cases by attack (paper's attacks, then APGD and the per-point "
        "worst case over the L-inf attacks of the case):\n\n"
        + markdown(
            ["attack", *CASES],
            [
                [
                    a,
                    *(
                        cell(pr, case(c, "clean" if c == "normal" else a))
                        if (a == "FGSM" or c != "normal")
                        else ""
                        for c in CASES
                    ),
                ]
                for a in (*PAPER_ATTACKS, *HONEST)
            ],
        )
    )
    columns = ("clean", *PAPER_ATTACKS, *HONEST)
    out.append(
        "\nTable 3, case B (no PR at test time), white-box:\n\n"
        + markdown(
            ["model", *columns],
            [[s, *(cell(get(s), case("B", c)) for c in columns)] for s in ("non-PR", "PR k=3")],
        )
    )
    multi = get("PR k=3 multiple")
    out.append(
        f"\nTable 4, single (n={len(pr)}) against multiple (n={len(multi)}) PR models:\n\n"
        + markdown(
            ["attack", "single A", "single B", "multiple A", "multiple B"],
            [
                [a, *(cell(rows, case(c, a)) for rows in (pr, multi) for c in ("A", "B"))]
                for a in (*PAPER_ATTACKS, "worst")
            ],
        )
    )
    out.append(
        "\nTable 5, random noise U(-1, 1) clipped (clean, 10,000 test images):\n\n"
        + markdown(
            ["Training phase", "Testing phase", "Both phases"],
            [
                [
                    cell(get("noise"), clean("F(x)")),
                    cell(get("non-PR"), clean("F(noise(x))")),
                    cell(get("noise"), clean("F(noise(x))")),
                ]
            ],
        )
    )
    ks = [(k, get(f"PR k={k}")) for k in (2, 3, 4, 10)]
    out.append(
        "\nTables 6-8, k (one PR model): PR-model accuracy, clean with and without PR, cases A and B:\n\n"
        + markdown(
            [
                "k",
                "n",
                "PR model acc.",
                "F(x)",
                "Normal F(PR(x))",
                *(f"{c} {a}" for c in ("A", "B") for a in PAPER_ATTACKS),
            ],
            [
                [
                    str(k),
                    str(len(rows)),
                    cell(rows, lambda r: r.get("pr_model_accuracy", [None])[0]),
                    cell(rows, clean("F(x)")),
                    cell(rows, clean("F(PR(x))")),
                    *(cell(rows, case(c, a)) for c in ("A", "B") for a in PAPER_ATTACKS),
                ]
                for k, rows in ks
            ],
        )
    )
    timed = [s for s in by if any("redraw_train_set_cpu_s" in r for r in by[s])]
    out.append(
        "\nCPU seconds (1 thread): PR models, redrawing the 60,000 training images, training, whole run:\n\n"
        + markdown(
            ["setting", "PR models", "redraw train set", "train", "total"],
            [
                [
                    s,
                    *(
                        cell(by[s], lambda r, k=k: r.get(k), scale=1.0)
                        for k in ("pr_models_cpu_s", "redraw_train_set_cpu_s", "train_cpu_s", "total_cpu_s")
                    ),
                ]
                for s in [*timed, *(s for s in by if s not in timed)]
            ],
        )
    )
    return "\n".join(out)
