#!/usr/bin/python3
"""Prints the interop table from the rows compare.py wrote.

    table.py ROWS... [--expect SERVER ...] [--text FILE] [--markdown FILE]

One line per server and mode: messages delivered identical out of those
sent, the smuggling messages among them that arrived once and intact, and
anything stored that was not sent. Exit status 1 when a row is not all
identical, when something extra arrived, or when an --expect'ed server has
no row (its test did not run, or failed before sending) unless its test
left ROWS-with-.skipped-for-.tsv saying why it was skipped.
"""

import argparse
import os
import sys

COLUMNS = ["server", "version", "mode", "transfer", "AUTH",
           "identical / sent", "smuggling", "extra"]


def read_rows(paths):
    rows = []
    for path in paths:
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                fields = line.rstrip("\n").split("\t")
                if len(fields) == 10:
                    rows.append(fields)
    return rows


def cells(row):
    server, version, mode, transfer, auth, sent, _accepted, identical, \
        smuggling, extra = row
    return [server, version, mode, transfer, auth.replace(",", ", "),
            "%s / %s" % (identical, sent), smuggling, extra]


def text_table(rows):
    body = [cells(r) for r in rows]
    widths = [max(len(x) for x in col) for col in zip(COLUMNS, *body)]
    lines = []
    for line in [COLUMNS] + body:
        lines.append("  ".join(x.ljust(w) for x, w in
                               zip(line, widths)).rstrip())
        if line is COLUMNS:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def markdown_table(rows):
    lines = ["| " + " | ".join(COLUMNS) + " |",
             "|" + "---|" * len(COLUMNS)]
    for r in rows:
        lines.append("| " + " | ".join(cells(r)) + " |")
    return "\n".join(lines) + "\n"


def good(row):
    sent, identical, extra = row[5], row[7], row[9]
    ok, total = row[8].split("/")
    return identical == sent and ok == total and extra == "0"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("rows", nargs="+")
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--text")
    ap.add_argument("--markdown")
    args = ap.parse_args()

    rows = read_rows(args.rows)
    table = text_table(rows)
    sys.stdout.write(table)
    if args.text:
        with open(args.text, "w", encoding="utf-8") as f:
            f.write(table)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(markdown_table(rows))

    failed = False
    for row in rows:
        if not good(row):
            print("not identical: %s %s %s" % (row[0], row[2], row[3]))
            failed = True
    present = {r[0] for r in rows}
    skipped = {}
    for path in args.rows:
        marker = os.path.splitext(path)[0] + ".skipped"
        if os.path.exists(marker):
            with open(marker, encoding="utf-8") as f:
                skipped[os.path.basename(path)] = f.read().strip()
    for server in args.expect:
        why = skipped.get("rows-%s.tsv" % server)
        if server not in present and why is not None:
            print("%s skipped: %s" % (server, why))
        elif server not in present:
            print("no rows for %s: its interop test did not run or did not "
                  "get as far as sending" % server)
            failed = True
    if not rows and not skipped:
        print("no rows at all")
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
