"""Audit a project: how many annotations per term, per user and per image.

    python examples/audit_project.py --project 100
    python examples/audit_project.py --project 100 --csv audit.csv

Counts every user annotation of the project, read page by page (the same counts on every
server generation), and prints three tables. An annotation with several terms counts once for
each; "(no term)" counts those without. Images without any annotation are listed too: they are
often the ones still to be done. --csv also writes the counts as rows: kind, id, name, count.

The connection comes from the environment, a profile or the options below (see --help).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from collections.abc import Mapping, Sequence

from cytomine_sdk import ApiClient, Configuration, CytomineError
from cytomine_sdk.arguments import add_arguments

NO_TERM = 0


def table(title: str, counts: Counter[int], names: Mapping[int, str]) -> None:
    print(f"\n{title}")
    for ident, count in counts.most_common():
        print(f"  {count:>7}  {names.get(ident, f'#{ident}')}")


def audit(api_client: ApiClient, args: argparse.Namespace) -> int:
    project = api_client.project_api.retrieve(args.project)
    terms = {t.id: t.name or "" for t in api_client.term_api.list_by_project(args.project) if t.id is not None}
    terms[NO_TERM] = "(no term)"
    users = {
        u.id: u.username or "" for u in api_client.project_member_api.list_by_project(args.project) if u.id is not None
    }
    images = {
        i.id: i.instance_filename or i.original_filename or ""
        for i in api_client.image_instance_api.list_by_project(args.project)
        if i.id is not None
    }

    by_term: Counter[int] = Counter()
    by_user: Counter[int] = Counter()
    by_image: Counter[int] = Counter({image: 0 for image in images})  # images without annotations too
    total = 0
    for annotation in api_client.annotation_api.list(project=args.project):  # every page, fetched as needed
        total += 1
        by_term.update(annotation.term or [NO_TERM])
        if annotation.user is not None:
            by_user[annotation.user] += 1
        if annotation.image is not None:
            by_image[annotation.image] += 1

    print(f"Project {project.id} {project.name!r}: {total} annotation(s), {len(images)} image(s), "
          f"{len(users)} member(s)")
    table("Annotations per term", by_term, terms)
    table("Annotations per user", by_user, users)
    table("Annotations per image", by_image, images)
    empty = [images[i] for i, count in by_image.items() if count == 0]
    if empty:
        print(f"\n{len(empty)} image(s) without annotations: {', '.join(sorted(empty))}")

    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(["kind", "id", "name", "count"])
            tables = (("term", by_term, terms), ("user", by_user, users), ("image", by_image, images))
            for kind, counts, names in tables:
                writer.writerows((kind, i, names.get(i, ""), n) for i, n in sorted(counts.items()))
        print(f"\nCounts written to {args.csv}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = add_arguments(argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter))
    parser.add_argument("--project", type=int, required=True, help="project id")
    parser.add_argument("--csv", help="also write the counts to this CSV file")
    args = parser.parse_args(argv)
    try:
        with ApiClient(Configuration.from_args(args)) as api_client:
            return audit(api_client, args)
    except (CytomineError, ValueError, OSError) as exc:
        print(f"audit_project: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
