"""Set up a project: its ontology and terms, then its members and managers.

Creates what is missing and reuses what exists (matched by name), so running it twice is safe:

    python examples/setup_project.py --project "Lung biopsies 2024" --ontology "Lung tissue" \\
        --term Tumour:#F44336 --term Stroma:#4CAF50 --term Necrosis \\
        --member alice --member bob --manager carol

The connection comes from the environment (CYTOMINE_HOST and CYTOMINE_PUBLIC_KEY /
CYTOMINE_PRIVATE_KEY, or CYTOMINE_TOKEN), a profile (--profile or CYTOMINE_PROFILE) or the
options below. Prints the project id; exits 1 with a message if something could not be set up.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cytomine_sdk import ApiClient, Configuration, CytomineError
from cytomine_sdk.arguments import add_arguments
from cytomine_sdk.models import Ontology, Project, Term

DEFAULT_COLORS = ["#F44336", "#4CAF50", "#2196F3", "#FF9800", "#9C27B0", "#00BCD4", "#795548", "#607D8B"]


def term_spec(text: str) -> tuple[str, str | None]:
    """`Tumour` or `Tumour:#F44336` -> (name, colour or None)."""
    name, _, color = text.partition(":")
    if not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME or NAME:#RRGGBB, got {text!r}")
    return name.strip(), color.strip() or None


def find_ontology(api_client: ApiClient, name: str) -> Ontology | None:
    return next((o for o in api_client.ontology_api.list() if o.name == name), None)


def find_project(api_client: ApiClient, name: str) -> Project | None:
    return next((p for p in api_client.project_api.list() if p.name == name), None)


def setup(api_client: ApiClient, args: argparse.Namespace) -> int:
    # 1. The ontology, created if no ontology has that name. 2026 servers may answer a creation
    #    with an empty body (None): the new object is then found by its name.
    ontology = find_ontology(api_client, args.ontology)
    if ontology is None:
        ontology = api_client.ontology_api.create(Ontology(name=args.ontology)) or find_ontology(
            api_client, args.ontology
        )
        print(f"Created ontology {args.ontology!r}")
    if ontology is None or ontology.id is None:
        raise CytomineError(f"ontology {args.ontology!r} was created but cannot be found")

    # 2. Its terms: only those not there yet.
    existing = {term.name for term in api_client.term_api.list_by_ontology(ontology.id)}
    for n, (name, color) in enumerate(args.term):
        if name not in existing:
            color = color or DEFAULT_COLORS[n % len(DEFAULT_COLORS)]
            api_client.term_api.create(Term(name=name, color=color, ontology=ontology.id))
            print(f"Created term {name!r} ({color})")

    # 3. The project, with that ontology.
    project = find_project(api_client, args.project)
    if project is None:
        project = api_client.project_api.create(Project(name=args.project, ontology=ontology.id))
        print(f"Created project {args.project!r}")
    elif project.ontology != ontology.id:
        raise CytomineError(
            f"project {args.project!r} exists with another ontology ({project.ontology}); choose another name"
        )
    if project.id is None:
        raise CytomineError(f"the server answered no id for project {args.project!r}")

    # 4. Members and managers, by username.
    wanted = set(args.member) | set(args.manager)
    ids = {u.username: u.id for u in api_client.user_api.list() if u.username in wanted and u.id is not None}
    unknown = sorted(wanted - ids.keys())
    if unknown:
        raise CytomineError(f"no such user(s): {', '.join(unknown)}")
    for username in args.member:
        api_client.project_member_api.add_member(project.id, ids[username])
    for username in args.manager:
        api_client.project_member_api.add_manager(project.id, ids[username])

    members = api_client.project_member_api.list_by_project(project.id)
    print(f"Project {project.id} {project.name!r}: ontology {ontology.id}, "
          f"{len(existing | {name for name, _ in args.term})} term(s), {len(members)} member(s): "
          + ", ".join(sorted(m.username or str(m.id) for m in members)))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = add_arguments(argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter))
    parser.add_argument("--project", required=True, help="project name")
    parser.add_argument("--ontology", required=True, help="ontology name")
    parser.add_argument("--term", type=term_spec, action="append", default=[], metavar="NAME[:#RRGGBB]",
                        help="a term of the ontology (repeat the option for each term)")
    parser.add_argument("--member", action="append", default=[], metavar="USERNAME", help="a contributor")
    parser.add_argument("--manager", action="append", default=[], metavar="USERNAME", help="a project manager")
    args = parser.parse_args(argv)
    try:
        with ApiClient(Configuration.from_args(args)) as api_client:
            return setup(api_client, args)
    except (CytomineError, ValueError) as exc:
        print(f"setup_project: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
