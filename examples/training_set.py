"""Build a training set from a project's annotations: an image crop and a mask per annotation, by term.

    python examples/training_set.py --project 100 --out dataset/ --max-size 256
    python examples/training_set.py --project 100 --out dataset/ --terms Tumour,Stroma --arrays 224

writes, for each term of the project's ontology (or those of --terms):

    dataset/<term>/images/<annotation id>.png   the crop of the annotation (--context enlarges it)
    dataset/<term>/masks/<annotation id>.png    its mask (white inside the annotation), same frame
    dataset/labels.csv                          image, mask, annotation, image_id, term_id, term

An annotation with several terms is in the folder of each. With --arrays SIZE (needs numpy and
Pillow: pip install "cytomine-sdk[image]"), dataset/dataset.npz also holds the whole set as
arrays, each crop padded to SIZE x SIZE: x (N, SIZE, SIZE, 3) uint8, y (N, SIZE, SIZE) uint8
masks of 0/1, term (N,) term ids, annotation (N,) annotation ids.

Crops are fetched in parallel; the exit status is 1 if some could not be fetched (the others
are written, and listed in labels.csv), 0 otherwise. The connection comes from the environment,
a profile or the options below (see --help).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import re
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from cytomine_sdk import ApiClient, Configuration, CytomineError
from cytomine_sdk.arguments import add_arguments
from cytomine_sdk.images import annotation_crops

LABELS = ["image", "mask", "annotation", "image_id", "term_id", "term"]


def folder_name(term: str) -> str:
    return re.sub(r"[^\w.-]+", "_", term).strip("._") or "term"


def build(api_client: ApiClient, args: argparse.Namespace) -> int:
    out = Path(args.out)
    terms = {t.id: t.name or str(t.id) for t in api_client.term_api.list_by_project(args.project) if t.id is not None}
    if args.terms:
        wanted = set(args.terms.split(","))
        if wanted - set(terms.values()):
            raise ValueError(f"not terms of project {args.project}: {sorted(wanted - set(terms.values()))}")
        terms = {i: name for i, name in terms.items() if name in wanted}

    # Annotation ids by term (one listing, iterated page by page) and the image of each.
    by_term: dict[int, list[int]] = defaultdict(list)
    image_of: dict[int, int | None] = {}
    for annotation in api_client.annotation_api.list(project=args.project, terms=list(terms)):
        if annotation.id is None:
            continue
        image_of[annotation.id] = annotation.image
        for term in annotation.term or []:
            if term in terms:
                by_term[term].append(annotation.id)

    progress = sys.stderr.isatty() and importlib.util.find_spec("tqdm") is not None
    rows: list[dict[str, object]] = []
    failures = 0
    for term, ids in sorted(by_term.items()):
        name, folder = terms[term], out / folder_name(terms[term])
        options = {"max_size": args.max_size, "increase_area": args.context}
        crops = annotation_crops(api_client, ids, dest=folder / "images", progress=progress, **options)
        # A mask in the crop's frame: Spring cores read mask=true, legacy servers type=mask.
        masks = annotation_crops(api_client, ids, dest=folder / "masks", progress=progress, mask=True, type="mask",
                                 **options)
        for key, reason in {**crops.failed, **masks.failed}.items():
            print(f"  annotation {key} ({name}): {reason}", file=sys.stderr)
        failures += len(set(crops.failed) | set(masks.failed))
        for i in ids:
            if i in crops.results and i in masks.results:
                rows.append({"image": Path(crops.results[i]).relative_to(out).as_posix(),
                             "mask": Path(masks.results[i]).relative_to(out).as_posix(),
                             "annotation": i, "image_id": image_of[i], "term_id": term, "term": name})
        print(f"{name}: {len(ids)} annotation(s)")

    out.mkdir(parents=True, exist_ok=True)
    with open(out / "labels.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=LABELS)
        writer.writeheader()
        writer.writerows(rows)
    if args.arrays:
        write_arrays(out, rows, args.arrays)
    print(f"{len(rows)} crop(s) and mask(s) written to {out}" + (f"; {failures} failed" if failures else ""))
    return 1 if failures else 0


def write_arrays(out: Path, rows: list[dict[str, object]], size: int) -> None:
    """dataset.npz: every crop and mask padded to size x size (the `image` extra)."""
    import numpy as np
    from PIL import Image, ImageOps

    from cytomine_sdk.images import as_image

    x = np.zeros((len(rows), size, size, 3), dtype=np.uint8)
    y = np.zeros((len(rows), size, size), dtype=np.uint8)
    for n, row in enumerate(rows):
        crop = as_image((out / str(row["image"])).read_bytes()).convert("RGB")
        mask = as_image((out / str(row["mask"])).read_bytes()).convert("L")
        x[n] = np.asarray(ImageOps.pad(crop, (size, size)))
        y[n] = np.asarray(ImageOps.pad(mask, (size, size), method=Image.Resampling.NEAREST)) > 127
    terms = np.array([row["term_id"] for row in rows], dtype=np.int64)
    annotations = np.array([row["annotation"] for row in rows], dtype=np.int64)
    np.savez_compressed(out / "dataset.npz", x=x, y=y, term=terms, annotation=annotations)
    print(f"dataset.npz: x {x.shape}, y {y.shape}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = add_arguments(argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter))
    parser.add_argument("--project", type=int, required=True, help="project id")
    parser.add_argument("--out", required=True, help="folder to write the training set to")
    parser.add_argument("--terms", help="only these terms (comma-separated names; default: every term)")
    parser.add_argument("--max-size", type=int, default=256, help="longer side of crops in pixels (%(default)s)")
    parser.add_argument("--context", type=float, default=1.0,
                        help="enlarge each crop around its annotation by this factor (default: %(default)s)")
    parser.add_argument("--arrays", type=int, metavar="SIZE", help="also write dataset.npz, crops padded to SIZE")
    args = parser.parse_args(argv)
    if args.arrays and not all(importlib.util.find_spec(name) for name in ("numpy", "PIL")):
        parser.error("--arrays needs numpy and Pillow: pip install 'cytomine-sdk[image]'")
    try:
        with ApiClient(Configuration.from_args(args)) as api_client:
            return build(api_client, args)
    except (CytomineError, ValueError, OSError) as exc:
        print(f"training_set: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
